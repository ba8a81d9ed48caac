// The CLI's forms side by side, without a cluster: size on disk and the wall
// time of `--version` (spawn → exit), for the single executable (npm run sea),
// the npm package's bundle under the node devDependency, and kubectl's
// `version --client`. Median and p90 of --runs, interleaved so that a busy
// moment of the machine falls on all three alike.
//
//   npm run bundle && npm run sea && node bench/sea.ts [--runs 20]
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT, resolveKubectl } from './lib/cluster.ts'

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '20' } } })
const RUNS = Number(args.runs)
const NODE = fs.realpathSync(path.join(ROOT, 'node_modules', 'node', 'bin', 'node'))
const SEA = path.join(ROOT, 'sea', 'kube-job-wait')
const CLI = path.join(ROOT, 'dist', 'cli', 'index.js')
for (const f of [SEA, CLI]) if (!fs.existsSync(f)) throw new Error(`${path.relative(ROOT, f)} missing: npm run bundle && npm run sea`)
const kubectl = resolveKubectl()

const dirBytes = (d: string): number =>
  fs
    .readdirSync(d, { withFileTypes: true })
    .reduce((n, e) => n + (e.isDirectory() ? dirBytes(path.join(d, e.name)) : fs.statSync(path.join(d, e.name)).size), 0)

const forms = [
  { label: 'single executable (sea/kube-job-wait --version)', cmd: SEA, args: ['--version'], bytes: fs.statSync(SEA).size },
  {
    label: 'npm package (node dist/cli/index.js --version)',
    cmd: NODE,
    args: [CLI, '--version'],
    bytes: dirBytes(path.dirname(CLI)),
    note: 'dist/cli, without Node'
  },
  { label: `kubectl ${kubectl.version} (version --client)`, cmd: kubectl.path, args: ['version', '--client'], bytes: kubectl.bytes }
]
const times: number[][] = forms.map(() => [])
for (let run = 0; run < RUNS; run++) {
  forms.forEach((f, i) => {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(f.cmd, f.args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } })
    if (r.status !== 0) throw new Error(`${f.label}: exit ${r.status}: ${r.stderr}`)
    times[i].push(Number(process.hrtime.bigint() - t0) / 1e6)
  })
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}
console.log(`| Form | Size on disk | --version p50 | p90 |\n|---|---:|---:|---:|`)
forms.forEach((f, i) =>
  console.log(
    `| ${f.label} | ${(f.bytes / 1024 / 1024).toFixed(1)} MiB${f.note ? ` (${f.note})` : ''} | ${pct(times[i], 50).toFixed(0)} ms | ${pct(times[i], 90).toFixed(0)} ms |`
  )
)
console.log(`\n${RUNS} runs each, interleaved; load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`)
