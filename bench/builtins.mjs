// Which of Node's built-in modules a program loads, and how long each first
// load takes (the time inside require, with what it loads in turn; the
// bundle loads them through createRequire). A preload:
//
//   node --import ./bench/builtins.mjs dist/index.js
//
// (without inputs the action stops at once on the missing job name, after its
// bundle and every module it imports have loaded). Printed to stderr at exit.
import Module from 'node:module'

const load = Module._load
const seen = new Map()
let depth = 0
Module._load = function (request, ...rest) {
  const name = String(request).replace(/^node:/, '')
  if (!Module.isBuiltin(request) || seen.has(name)) return load.call(this, request, ...rest)
  const t = performance.now()
  depth++
  try {
    return load.call(this, request, ...rest)
  } finally {
    depth--
    // only the outermost loads count towards the total: an inner one is inside its parent's time
    seen.set(name, { ms: performance.now() - t, outer: depth === 0 })
  }
}
process.on('exit', () => {
  const rows = [...seen].sort((a, b) => b[1].ms - a[1].ms)
  const total = rows.filter(([, v]) => v.outer).reduce((s, [, v]) => s + v.ms, 0)
  process.stderr.write(`built-in modules loaded through require: ${rows.length}, ${total.toFixed(1)} ms in all\n`)
  for (const [name, v] of rows) if (v.ms >= 0.3) process.stderr.write(`  ${name.padEnd(22)} ${v.ms.toFixed(2)} ms\n`)
})
