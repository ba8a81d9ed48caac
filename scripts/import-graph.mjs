// Prints which stage of src/ imports which (npm run -s import-graph): the
// pipeline inputs → credentials → create → observe → decide → diagnose → report →
// cleanup → main, with the shared modules (model, duration, text, kube) below.
// ESLint's no-restricted-imports rule (eslint.config.mjs) enforces the order;
// this shows it.
import fs from 'node:fs'
import path from 'node:path'

const src = path.resolve(import.meta.dirname, '../src')
const stageOf = (file) => {
  const rel = path.relative(src, file).replace(/\\/g, '/')
  const top = rel.split('/')[0].replace(/\.ts$/, '')
  return ['index', 'action'].includes(top) ? 'main' : top
}
const edges = new Map()
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) walk(p)
    else if (p.endsWith('.ts')) {
      const from = stageOf(p)
      for (const m of fs.readFileSync(p, 'utf8').matchAll(/^import[^'"]*['"](\.[^'"]+)['"]/gm)) {
        const to = stageOf(path.resolve(path.dirname(p), m[1].replace(/\.js$/, '.ts')))
        if (to === from) continue
        if (!edges.has(from)) edges.set(from, new Set())
        edges.get(from).add(to)
      }
    }
  }
}
walk(src)
const order = ['main', 'cleanup', 'report', 'diagnose', 'decide', 'observe', 'credentials', 'inputs', 'kube', 'text', 'model', 'duration']
for (const from of order)
  if (edges.has(from)) console.log(`${from} → ${[...edges.get(from)].sort((a, b) => order.indexOf(a) - order.indexOf(b)).join(', ')}`)
