// The floor under figure 1's "→ exit" rows: how long a process takes, from
// its last instruction (it prints the time, then exits) to the moment its
// parent sees the exit. No cluster: Node with nothing loaded, Node with the
// action's chunks loaded (to show whether the code's size matters), and bash
// (a native process, as kubectl is). And the action itself against the fake
// API server: the pod's Running write (the server's, in this process) → the
// action's exit, the decision and the report included. Runs are interleaved.
//
//   node --import tsx bench/exit.ts [--runs 30] [--dist dist]   (tsx: the fake API server is TypeScript)
import { spawn } from 'node:child_process'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import * as fs from 'node:fs'
import { FakeApiServer } from '../__tests__/support/fake-apiserver.ts'
import { ROOT, inputEnv } from '../__tests__/support/run-dist.ts'

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    dist: { type: 'string', default: path.join(ROOT, 'dist') }
  }
})
const RUNS = Number(args.runs)
const DIST = path.resolve(args.dist)
// dist/index.js runs the action when imported: its chunks stand for the code it loads
const chunks = fs.readdirSync(DIST).filter((f) => /^\d+\.index\.js$/.test(f))
const imports = chunks.map((f) => `await import(${JSON.stringify(pathToFileURL(path.join(DIST, f)).href)})`).join('; ')

// Each child prints the epoch time in ms (sub-ms digits), then exits as the action does.
const now = 'String(performance.timeOrigin + performance.now())'
const CASES: Record<string, { cmd: string; argv: string[] }> = {
  'node: process.exit(), nothing loaded': {
    cmd: process.execPath,
    argv: ['--input-type=module', '-e', `process.stdout.write(${now} + '\\n'); process.exit(0)`]
  },
  "node: process.exit(), the action's chunks loaded": {
    cmd: process.execPath,
    argv: ['--input-type=module', '-e', `${imports}; process.stdout.write(${now} + '\\n'); process.exit(0)`]
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

/** The action waiting for a pod Running: its watch open, the pod starts; ms from that write to the exit seen here. */
const server = new FakeApiServer({ namespaces: ['ci'] })
await server.start()
async function action(run: number): Promise<number> {
  const name = `exit-${run}`
  const job = server.createJob('ci', { metadata: { name } })
  const pod = server.createPodForJob(job)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-exit-'))
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: work,
    GITHUB_OUTPUT: path.join(work, 'output'),
    GITHUB_STEP_SUMMARY: path.join(work, 'summary'),
    RUNNER_TEMP: work,
    ...inputEnv({ job: name, namespace: 'ci', kubeconfig: server.kubeconfig(), timeout: '30s', mode: 'watch' })
  }
  const child = spawn(process.execPath, [path.join(DIST, 'index.js')], { stdio: ['ignore', 'ignore', 'inherit'], env })
  const exited = new Promise<number>((resolve) => child.on('exit', () => resolve(performance.now())))
  const watches = server.requestsMatching({ resource: 'pods', verb: 'watch' }).length
  await server.waitForRequest({ resource: 'pods', verb: 'watch', status: 200 }, { count: watches + 1, timeoutMs: 20_000 })
  await new Promise((resolve) => setTimeout(resolve, 300)) // the report's code loads once the first answer has come
  const wrote = performance.now()
  server.startPod('ci', pod.metadata.name)
  const ms = (await exited) - wrote
  const outputs = fs.readFileSync(env.GITHUB_OUTPUT, 'utf8')
  if (!/^result<<.*\nmet\n/m.test(outputs)) throw new Error(`run ${run}: not met: ${outputs.slice(0, 300)}`)
  fs.rmSync(work, { recursive: true, force: true })
  return ms
}

const ACTION = 'ours: pod Running write → exit (fake API server)'
const results: Record<string, number[]> = Object.fromEntries([...Object.keys(CASES), ACTION].map((k) => [k, []]))
for (let i = 0; i < RUNS; i++) {
  for (const [name, c] of Object.entries(CASES)) results[name].push(await once(c, c.cmd === 'bash'))
  results[ACTION].push(await action(i))
}
await server.stop()

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
