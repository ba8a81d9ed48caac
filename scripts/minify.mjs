// Minifies ncc's output in place (npm run bundle): node scripts/minify.mjs DIR.
// Not ncc's --minify: webpack wraps each module's function in parentheses,
// which V8 takes as the sign to compile it with the file; terser (what
// --minify runs) drops them, so every module the start-up evaluates was
// pre-parsed and then parsed again when called. esbuild keeps them, and the
// names as ncc kept them (class and function names stay readable in stacks).
import fs from 'node:fs'
import path from 'node:path'
import { transformSync } from 'esbuild'

const dir = process.argv[2]
if (!dir) throw new Error('usage: node scripts/minify.mjs DIR')
for (const name of fs.readdirSync(dir)) {
  if (!name.endsWith('.js')) continue
  const file = path.join(dir, name)
  const { code } = transformSync(fs.readFileSync(file, 'utf8'), {
    format: 'esm',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    target: 'node24'
  })
  fs.writeFileSync(file, code)
}
