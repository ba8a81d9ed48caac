// The floor under figure 1's "→ exit" rows: how long a process takes, from
// its last instruction (it prints the time, then exits) to the moment its
// parent sees the exit. No cluster: Node with nothing loaded, Node with the
// action's bundle loaded (to show whether the bundle's size matters), and bash
// (a native process, as kubectl is). Runs are interleaved.
//
//   node bench/exit.ts [--runs 30] [--dist dist]
import { spawn } from 'node:child_process'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ROOT } from '../__tests__/support/run-dist.ts'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    dist: { type: 'string', default: path.join(ROOT, 'dist') }
  }
})
const RUNS = Number(args.runs)
const bundle = pathToFileURL(path.resolve(args.dist, 'action', 'index.js')).href

// Each child prints the epoch time in ms (sub-ms digits), then exits as the action does.
const now = 'String(performance.timeOrigin + performance.now())'
const CASES: Record<string, { cmd: string; argv: string[] }> = {
  'node: process.exit(), nothing loaded': {
    cmd: process.execPath,
    argv: ['--input-type=module', '-e', `process.stdout.write(${now} + '\\n'); process.exit(0)`]
  },
  "node: process.exit(), the action's bundle loaded": {
    cmd: process.execPath,
    argv: ['--input-type=module', '-e', `await import(${JSON.stringify(bundle)}); process.stdout.write(${now} + '\\n'); process.exit(0)`]
  },
  'bash: exit (a native process)': {
    cmd: 'bash',
    argv: ['-c', 'echo "${EPOCHREALTIME/./}"; exit 0']
  }
}

async function once(c: { cmd: string; argv: string[] }, micro: boolean): Promise<number> {
  const child = spawn(c.cmd, c.argv, { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '' } })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  const exitedAt = await new Promise<number>((resolve) => child.on('exit', () => resolve(performance.timeOrigin + performance.now())))
  const printed = Number(out.trim())
  if (!Number.isFinite(printed)) throw new Error(`${c.cmd}: no time printed: ${JSON.stringify(out)}`)
  return exitedAt - (micro ? printed / 1000 : printed)
}

const results: Record<string, number[]> = Object.fromEntries(Object.keys(CASES).map((k) => [k, []]))
for (let i = 0; i < RUNS; i++) for (const [name, c] of Object.entries(CASES)) results[name].push(await once(c, c.cmd === 'bash'))

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}
console.log(`last instruction → exit seen by the parent, ${RUNS} runs each (ms): p50 / p90 / min / max`)
for (const [name, xs] of Object.entries(results)) {
  const f = (x: number) => x.toFixed(1).padStart(6)
  console.log(`  ${name.padEnd(48)} ${f(pct(xs, 50))} ${f(pct(xs, 90))} ${f(Math.min(...xs))} ${f(Math.max(...xs))}`)
}
console.log(
  `node ${process.version}; load average: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`
)
