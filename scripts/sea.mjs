// Builds a Node single executable application (SEA) of the CLI for the
// machine's platform (linux-x64 here) into sea/kube-job-wait:
//   1. one CommonJS file of the CLI (esbuild): Node 24's SEA runs its main
//      script as CommonJS and cannot load files beside it, so not the ncc
//      bundle in dist/cli (an ES module with a gen/ stand-in and chunks);
//   2. the preparation blob, made by the node devDependency's binary with
//      --experimental-sea-config (the blob must come from the binary it goes in);
//   3. a copy of that binary with the blob injected by postject.
//   node scripts/sea.mjs
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { build } from 'esbuild'

const root = path.resolve(import.meta.dirname, '..')
const out = path.join(root, 'sea')
const node = fs.realpathSync(path.join(root, 'node_modules', 'node', 'bin', 'node'))
fs.rmSync(out, { recursive: true, force: true })
fs.mkdirSync(out)

const script = path.join(out, 'cli.cjs')
await build({
  entryPoints: [path.join(root, 'src', 'cli', 'index.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  outfile: script,
  logLevel: 'warning'
})

const blob = path.join(out, 'sea-prep.blob')
const config = path.join(out, 'sea-config.json')
fs.writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true }))
execFileSync(node, ['--experimental-sea-config', config], { stdio: 'inherit' })

const exe = path.join(out, 'kube-job-wait')
fs.copyFileSync(node, exe)
fs.chmodSync(exe, 0o755)
// The fuse is Node's, documented with --experimental-sea-config.
const postject = path.join(root, 'node_modules', '.bin', 'postject')
execFileSync(postject, [exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { stdio: 'pipe' })
for (const f of [script, blob, config]) fs.rmSync(f)
console.log(`${path.relative(root, exe)}: ${(fs.statSync(exe).size / 1e6).toFixed(1)} MB`)
