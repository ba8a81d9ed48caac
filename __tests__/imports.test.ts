// Dependencies through their documented entry points only (issue 20): a deep
// import into a package's private files breaks on a minor release without a
// type error. A subpath is allowed when the package's `exports` names it, or,
// for a package without `exports`, when it is the file that its `main` names
// (which is what the bundle's stand-ins for undici and socks load). The one
// exception is listed with the file that holds it.
import { expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { ROOT } from './support/run-dist.js'

const require = createRequire(path.join(ROOT, 'package.json'))

/** client-node's KubeConfig without its generated models: see src/kube/kubeconfig.ts. */
const EXCEPTIONS: Record<string, string[]> = {
  'src/kube/kubeconfig.ts': ['@kubernetes/client-node/dist/config.js', '@kubernetes/client-node/dist/config_types.js']
}

const sources = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? sources(p) : /\.(ts|js|mjs)$/.test(e.name) ? [p] : []
  })

/** Every module specifier in a file: static imports and exports, type imports, dynamic imports. */
export function specifiers(text: string): string[] {
  const code = text.replace(/^\s*\/\/.*$/gm, '')
  return [...code.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"\s]+)['"]/g)].map((m) => m[1])
}

/** A bare specifier's package and subpath ('' for the package itself). */
function split(spec: string): { pkg: string; sub: string } {
  const parts = spec.split('/')
  const n = spec.startsWith('@') ? 2 : 1
  return { pkg: parts.slice(0, n).join('/'), sub: parts.slice(n).join('/') }
}

/** Whether a subpath is one of the package's documented entries. */
function documented(pkg: string, sub: string): boolean {
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
    exports?: unknown
    main?: string
  }
  if (json.exports !== undefined) {
    const exp = json.exports
    return typeof exp === 'object' && exp !== null && Object.keys(exp).includes(`./${sub}`)
  }
  return require.resolve(pkg) === require.resolve(`${pkg}/${sub}`)
}

function violations(file: string, text: string): string[] {
  const out: string[] = []
  for (const spec of specifiers(text)) {
    if (spec.startsWith('.') || spec.startsWith('node:')) continue
    const { pkg, sub } = split(spec)
    if (!sub || EXCEPTIONS[file]?.includes(spec)) continue
    if (!documented(pkg, sub)) out.push(`${file}: ${spec}`)
  }
  return out
}

test('no file under src/ imports a path inside a package but its documented entries (one exception, listed)', () => {
  const found = sources(path.join(ROOT, 'src')).flatMap((f) => violations(path.relative(ROOT, f), fs.readFileSync(f, 'utf8')))
  expect(found).toEqual([])
})

test('the exception is still where the list says, and nowhere else', () => {
  for (const [file, specs] of Object.entries(EXCEPTIONS))
    expect(specifiers(fs.readFileSync(path.join(ROOT, file), 'utf8')).filter((s) => s.startsWith(split(specs[0]).pkg + '/'))).toEqual(specs)
})

test('the check sees what it must refuse: a file inside a package, a type import, a dynamic import', () => {
  const text = [
    "import DispatcherBase from 'undici/lib/dispatcher/dispatcher.js'",
    "import type { User } from '@kubernetes/client-node/dist/config_types.js'",
    "const m = await import('socks/build/client/socksclient.js')",
    "export { x } from '@actions/core/lib/summary.js'"
  ].join('\n')
  expect(violations('src/x.ts', text)).toEqual([
    'src/x.ts: undici/lib/dispatcher/dispatcher.js',
    'src/x.ts: @kubernetes/client-node/dist/config_types.js',
    'src/x.ts: socks/build/client/socksclient.js',
    'src/x.ts: @actions/core/lib/summary.js'
  ])
  expect(violations('src/x.ts', "import * as core from '@actions/core'\nimport { x } from './y.js'")).toEqual([])
})

test("the bundle's stand-ins load undici and socks by the file their package.json `main` names", () => {
  const standIn = (f: string) => specifiers(fs.readFileSync(path.join(ROOT, 'src', 'kube', f), 'utf8'))
  expect(standIn('undici-on-demand.ts')).toContain('undici/index.js')
  expect(require.resolve('undici/index.js')).toBe(require.resolve('undici'))
  expect(standIn('socks-lite.ts')).toContain('socks/build/index.js')
  expect(require.resolve('socks/build/index.js')).toBe(require.resolve('socks'))
})
