// Writes the licenses of every package in the bundle, chunks included, from
// the bundler's stats (ncc --stats-out). ncc's own --license lists, for a lazy
// chunk (the PR comment's @actions/github), only the first package of each
// concatenated module, and writes one file per chunk over the same name.
//   node scripts/licenses.mjs STATS.json OUT.txt
import * as fs from 'node:fs'
import * as path from 'node:path'

const [statsFile, out] = process.argv.slice(2)
const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'))
const names = new Set()
const visit = (m) => {
  // the innermost package: ./node_modules/a/node_modules/b/lib/x.js is b, as installed under a
  const name = m.name ?? ''
  const found = /node_modules\/(?:@[^/]+\/)?[^/]+(?=\/)(?!.*node_modules\/)/.exec(name)
  if (found) names.add(name.slice(0, found.index + found[0].length).replace(/^\.\//, ''))
  for (const inner of m.modules ?? []) visit(inner)
}
for (const m of stats.modules ?? []) visit(m)

const entries = [...names]
  .map((dir) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f))
    const text = file ? fs.readFileSync(path.join(dir, file), 'utf8').trim() : ''
    return { name: pkg.name, license: typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN'), text }
  })
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
const unique = entries.filter((e, i) => i === 0 || e.name !== entries[i - 1].name || e.text !== entries[i - 1].text)
fs.writeFileSync(out, unique.map((e) => `${e.name}\n${e.license}\n${e.text}\n`).join('\n'))
