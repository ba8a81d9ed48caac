// Prints which stage of src/ imports which (npm run -s import-graph): the
// pipeline inputs → credentials → create → observe → decide → diagnose → report →
// cleanup → engine, with the shared modules (model, pod-table, duration, text, kube)
// below, and the engine's faces (src/github/, src/cli/) and the action's
// entry point (index) above;
// then every @actions/* package and who imports it. It fails when a stage
// other than the GitHub face imports @actions/*. ESLint's
// no-restricted-imports rule (eslint.config.mjs) enforces the order; this
// shows it.
import fs from 'node:fs'
import path from 'node:path'

const src = path.resolve(import.meta.dirname, '../src')
const stageOf = (file) => {
  const rel = path.relative(src, file).replace(/\\/g, '/')
  return rel.split('/')[0].replace(/\.ts$/, '')
}
const edges = new Map()
const add = (from, to) => {
  if (to === from) return
  if (!edges.has(from)) edges.set(from, new Set())
  edges.get(from).add(to)
}
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) walk(p)
    else if (p.endsWith('.ts')) {
      const from = stageOf(p)
      const text = fs.readFileSync(p, 'utf8')
      for (const m of text.matchAll(/^import[^'"]*['"](\.[^'"]+)['"]/gm))
        add(from, stageOf(path.resolve(path.dirname(p), m[1].replace(/\.js$/, '.ts'))))
      // static and dynamic imports of the GitHub toolkit
      for (const m of text.matchAll(/(?:^import[^'"]*|import\()['"](@actions\/[^'"/]+)/gm)) add(from, m[1])
    }
  }
}
walk(src)
const order = [
  'index',
  'cli',
  'github',
  'engine',
  'cleanup',
  'report',
  'diagnose',
  'decide',
  'observe',
  'create',
  'credentials',
  'inputs',
  'kube',
  'pod-table',
  'text',
  'model',
  'duration'
]
const rank = (s) => (order.includes(s) ? order.indexOf(s) : order.length)
const unknown = [...edges.keys()].filter((s) => !order.includes(s))
for (const from of [...order, ...unknown])
  if (edges.has(from)) console.log(`${from} → ${[...edges.get(from)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1)).join(', ')}`)
const strays = [...edges].filter(([from, to]) => from !== 'github' && [...to].some((t) => t.startsWith('@actions/')))
if (strays.length) {
  console.error(`@actions/* outside src/github/: ${strays.map(([from]) => from).join(', ')}`)
  process.exitCode = 1
} else console.log('@actions/* only in github')
