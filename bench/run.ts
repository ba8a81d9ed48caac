// npm run bench: kube-job-wait against kubectl wait and two hand-written
// baselines on the local control plane of test/cluster (started here unless
// it is up, and stopped at the end if it was started here). Prints one
// markdown table; writes <BENCH_OUT>.json and <BENCH_OUT>.md (default
// bench/results). Exits non-zero when a contender crashed or did not end as
// expected, never because a target was missed. See bench/README.md.
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  ROOT,
  apiGet,
  clusterInfo,
  ensureCluster,
  kubeconfigFor,
  resolveKubectl,
  stopCluster,
  tokenOf,
  type KubectlInfo
} from './lib/cluster.ts'
import {
  DIST,
  setDistEntry,
  e2eHelper,
  kubectl,
  kubectlJob,
  kubectlPodsWatch,
  floorWatch,
  oursPoll,
  oursWatch,
  oursWatchPodPhase,
  seedLoop,
  type Contender,
  type Goal,
  type Result
} from './lib/contenders.ts'
import { Harness } from './lib/kube.ts'
import { fileSize, readAudit, readSimWrites, requestsOf, simWritesFor, type AuditEvent } from './lib/logs.ts'
import { killAll, measuring, runProc, type ProcResult } from './lib/proc.ts'
import { startProxy, type Proxy } from './lib/proxy.ts'
import { startProxy as startFreezableProxy } from '../test/e2e/support/proxy.ts'
import { figLogs, logsSection, type LogsConfig } from './lib/logs-figure.ts'
import { measureStartup } from './lib/startup.ts'
import { lastSucceededWrite, lastWriteToExit, type StatusWrite } from './lib/scale.ts'
import { buildReport, type Results, type ScaleSample, type SeveralSample, type StallSample } from './lib/report.ts'
import { envInt, envList, log, randomSuffix, sleep, stat } from './lib/util.ts'

// ---------------------------------------------------------------- configuration

const FIGURES = ['latency', 'api', 'process', 'scale', 'logs', 'several'] as const
/** Run only when BENCH_FIGURES names them (not part of the full run's default list). */
const OPT_IN_FIGURES = ['stall'] as const
type Figure = (typeof FIGURES)[number] | (typeof OPT_IN_FIGURES)[number]

const cfg = {
  runs: envInt('BENCH_RUNS', 10),
  // runs of the pairs that issue 13's targets compare at p50 and p90 (ours in watch mode and kubectl wait): figure 1 and start-up
  latencyRuns: envInt('BENCH_LATENCY_RUNS', 30),
  waitSeconds: envInt('BENCH_WAIT_SECONDS', 60),
  processPods: envInt('BENCH_PROCESS_PODS', 1000),
  // figure 3: every contender alone, one after the other, BENCH_WAIT_SECONDS each (6 contenders: 6 min a run)
  processRuns: envInt('BENCH_PROCESS_RUNS', Math.min(3, envInt('BENCH_RUNS', 10))),
  scaleSizes: envList('BENCH_SCALE_SIZES', ['1000', '5000', '10000']).map(Number),
  // each run: three Jobs of every size, one after the other (a 5,000-pod Job takes about 3 min with its clean-up)
  scaleRuns: envInt('BENCH_SCALE_RUNS', Math.min(3, envInt('BENCH_RUNS', 10))),
  severalJobs: envInt('BENCH_SEVERAL_JOBS', 20),
  severalPods: envInt('BENCH_SEVERAL_PODS', 5),
  severalRuns: envInt('BENCH_SEVERAL_RUNS', Math.min(5, envInt('BENCH_RUNS', 10))),
  // the stall figure (opt-in): runs, and how long the pod runs (the freeze comes 5 s after the waiter's first connection)
  stallRuns: envInt('BENCH_STALL_RUNS', Math.min(3, envInt('BENCH_RUNS', 10))),
  stallPodSeconds: envInt('BENCH_STALL_POD_SECONDS', 75),
  figures: envList('BENCH_FIGURES', [...FIGURES]) as Figure[],
  out: path.resolve(ROOT, process.env.BENCH_OUT || 'bench/results'),
  namespace: process.env.BENCH_NAMESPACE || 'kjw-bench',
  logs: {
    seconds: envInt('BENCH_LOGS_SECONDS', 30),
    pods: envInt('BENCH_LOGS_PODS', 10),
    rate: envInt('BENCH_LOGS_RATE', 1000),
    retries: envInt('BENCH_LOGS_RETRIES', 3),
    maxStreams: envInt('BENCH_LOGS_MAX_STREAMS', 10)
  } satisfies LogsConfig
}

const failures: string[] = []
function expect(what: string, got: { result: Result; detail: string }, r: ProcResult, want: Result): boolean {
  if (got.result === want && !r.killed) return true
  const why = r.killed
    ? `killed by the harness after ${Math.round((r.exitAt - r.spawnAt) / 1000)} s (hung)`
    : `${got.result} (expected ${want}): ${got.detail}`
  failures.push(`${what}: ${why}`)
  log(`  FAILED ${what}: ${why}`)
  if (r.stderr.trim()) log(`    stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  return false
}

// ---------------------------------------------------------------- running one contender

interface Trial {
  contender: string
  proc: ProcResult
  result: Result
  detail: string
}

async function runContender(
  c: Contender,
  goal: Goal,
  job: { name: string; uid: string },
  timeoutS: number,
  kubeconfig: string,
  /** for a contender ended by the harness: when to end it */
  stop?: Promise<unknown>
): Promise<Trial> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kjw-bench-${c.id}-`))
  try {
    const inv = c.invoke(goal, { namespace: cfg.namespace, job: job.name, uid: job.uid, timeoutS, kubeconfig, dir })
    if (!inv) throw new Error(`${c.id} cannot wait for ${goal.kind}`)
    if (c.endedByHarness && !stop) throw new Error(`${c.id} does not end by itself: give it a stop`)
    const proc = await runProc({ cmd: inv.cmd, args: inv.args, env: inv.env, killAfterMs: (timeoutS + 120) * 1000, stop })
    const out = inv.result(proc)
    return { contender: c.id, proc, ...out }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** The moment ours logged its decision: the progress line that carries the final message. */
function decisionLineAt(t: Trial): number | undefined {
  if (!t.detail) return undefined
  return t.proc.lines.find((l) => l.line.replace(/^\[[^\]]*\] /, '').startsWith(t.detail))?.t
}

function rotate<T>(a: T[], k: number): T[] {
  const n = k % a.length
  return [...a.slice(n), ...a.slice(0, n)]
}

/** Every .js file of a dist/ directory (the entry may load others, e.g. dist/action/index.js). */
function distFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (/\.(c|m)?js$/.test(e.name)) out.push(p)
    }
  }
  if (fs.existsSync(dir)) walk(dir)
  return out.sort()
}

function fingerprint(dir = path.dirname(DIST)): { bytes: number; files: Record<string, number>; sha256: string; mtime: string } {
  const h = createHash('sha256')
  const files: Record<string, number> = {}
  let bytes = 0
  let mtime = 0
  for (const f of distFiles(dir)) {
    const data = fs.readFileSync(f)
    const rel = path.join('dist', path.relative(dir, f))
    h.update(rel).update('\0').update(data)
    files[rel] = data.length
    bytes += data.length
    mtime = Math.max(mtime, fs.statSync(f).mtimeMs)
  }
  return { bytes, files, sha256: h.digest('hex'), mtime: new Date(mtime).toISOString() }
}

/**
 * Others may rebuild dist/ while the benchmark runs: wait until it exists and
 * has stopped changing, then run ours from a private copy of it throughout.
 */
async function snapshotDist(tmp: string): Promise<string> {
  const dir = path.dirname(DIST)
  const deadline = Date.now() + 180_000
  for (;;) {
    let a: string | undefined
    try {
      if (fs.existsSync(DIST)) a = fingerprint(dir).sha256
    } catch {
      // being rewritten
    }
    await sleep(3000)
    let b: string | undefined
    try {
      if (fs.existsSync(DIST)) b = fingerprint(dir).sha256
    } catch {
      // being rewritten
    }
    if (a && a === b) break
    if (Date.now() > deadline) throw new Error(`${DIST} is missing or keeps changing: npm run bundle first`)
    log(`${path.relative(ROOT, DIST)} is missing or being rebuilt; waiting`)
  }
  const copy = path.join(tmp, 'dist')
  fs.cpSync(dir, copy, { recursive: true })
  setDistEntry(path.join(copy, path.basename(DIST)))
  return copy
}

function gitDescribe(): string {
  const head = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim()
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'dist'], { encoding: 'utf8' }).stdout.trim()
  return head ? `${head}${dirty ? ' (src/ or dist/ modified)' : ''}` : 'unknown'
}

const cpuOf = (p: ProcResult) => (p.cpuUserS === undefined ? NaN : p.cpuUserS + (p.cpuSysS ?? 0))

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  if (Number(process.versions.node.split('.')[0]) < 24)
    throw new Error(`Node ${process.version}: run with Node 24 (npm run bench puts node_modules/.bin first on PATH)`)
  const known: readonly string[] = [...FIGURES, ...OPT_IN_FIGURES]
  for (const f of cfg.figures) if (!known.includes(f)) throw new Error(`BENCH_FIGURES: unknown figure ${f} (${known.join(', ')})`)
  const cluster = clusterInfo()
  const kubectlInfo = resolveKubectl()
  const t0 = Date.now()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-bench-'))
  let distCopy: string
  try {
    distCopy = await snapshotDist(tmp)
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true })
    throw err
  }
  const started = await ensureCluster(cluster)
  let interrupted = false
  const onSignal = () => {
    if (interrupted) return
    interrupted = true
    log('interrupted: stopping the contenders')
    killAll()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const h = new Harness(cluster.admin, cfg.namespace)
  const results: Results = {
    date: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryMiB: Math.round(os.totalmem() / 1024 / 1024),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100)
    },
    kubernetes: 'unknown',
    node: process.version,
    kubectl: kubectlInfo,
    bundle: { path: path.relative(ROOT, DIST), ...fingerprint(distCopy), git: gitDescribe() },
    config: {
      ...cfg,
      out: path.relative(ROOT, cfg.out),
      measuring: measuring(),
      apiserver: `https://127.0.0.1:${cluster.port}`,
      state: cluster.state,
      clusterStartedByBench: started
    },
    latency: {},
    floor: [],
    api: [],
    process: [],
    scale: [],
    several: [],
    failures,
    durationS: 0
  }
  // What is measured is on disk as the run goes: a run interrupted after an hour keeps it.
  const save = (final: boolean) => {
    results.durationS = Math.round((Date.now() - t0) / 1000)
    if (final) delete results.inProgress
    else results.inProgress = true
    const { table, markdown } = buildReport(results)
    fs.mkdirSync(path.dirname(cfg.out), { recursive: true })
    for (const [file, text] of [
      [`${cfg.out}.json`, JSON.stringify(results, null, 2) + '\n'],
      [`${cfg.out}.md`, markdown]
    ]) {
      fs.writeFileSync(`${file}.tmp`, text)
      fs.renameSync(`${file}.tmp`, file)
    }
    return table
  }
  const saveSoFar = () => {
    try {
      save(false)
    } catch (err) {
      log(`could not write the results so far: ${(err as Error).stack ?? err}`)
    }
  }
  try {
    const v = await apiGet(cluster, '/version', tokenOf(cluster.admin))
    results.kubernetes = JSON.parse(v.body).gitVersion
    await h.ensureNamespace()
    await h.deleteAllBenchJobs()
    await h.settle(180_000)
    log(
      `cluster ${results.kubernetes} at https://127.0.0.1:${cluster.port}; namespace ${cfg.namespace}; ${cfg.runs} runs; kubectl ${kubectlInfo.version} (${kubectlInfo.path})`
    )
    if (kubectlInfo.note) log(kubectlInfo.note)
    const direct = kubeconfigFor(cluster.admin, cluster.port, tmp, 'direct.kubeconfig')
    const ctx: FigureContext = { cluster, h, tmp, direct, kubectlInfo, results, stop: () => interrupted, save: saveSoFar }
    if (cfg.figures.includes('latency')) {
      await figLatency(ctx)
      if (!interrupted) await figStartup(ctx, path.join(distCopy, path.basename(DIST)))
      if (!interrupted) await figStartupFloor(ctx)
      saveSoFar()
    }
    if (cfg.figures.includes('api') && !interrupted) await figApi(ctx)
    if (cfg.figures.includes('process') && !interrupted) await figProcess(ctx)
    if (cfg.figures.includes('scale') && !interrupted) await figScale(ctx)
    if (cfg.figures.includes('logs') && !interrupted) {
      const c = {
        h,
        namespace: cfg.namespace,
        kubeconfig: direct,
        kubectl: kubectlInfo.path,
        dist: path.join(distCopy, path.basename(DIST)),
        dir: tmp
      }
      results.logs = await figLogs(c, cfg.logs, () => interrupted)
      for (const s of results.logs) {
        if (s.code !== 0 && !(s.contender === 'ours' && s.scenario === 'retries' && s.code === 1))
          failures.push(`logs ${s.scenario}: ${s.contender} exited ${s.code}`)
      }
      saveSoFar()
    }
    if (cfg.figures.includes('several') && !interrupted) await figSeveral(ctx)
    if (cfg.figures.includes('stall') && !interrupted) await figStall(ctx)
    if (interrupted) failures.push('interrupted')
  } catch (err) {
    failures.push(`harness: ${(err as Error).stack ?? err}`)
    log(`harness error: ${(err as Error).stack ?? err}`)
  } finally {
    killAll()
    try {
      if (!started) await h.deleteAllBenchJobs()
    } catch {
      // the cluster may be gone
    }
    if (started) stopCluster()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  let now: string | undefined
  try {
    now = fingerprint().sha256
  } catch {
    // being rewritten
  }
  if (now !== results.bundle.sha256) {
    results.bundle.changedDuringRun = true
    log('note: dist/ was rebuilt during the run; the benchmark ran its own copy taken at the start')
  }
  // an interrupted run keeps the mark of a partial one
  const table = save(!interrupted)
  process.stdout.write(table + '\n')
  if (results.logs?.length) process.stdout.write('\n' + logsSection(results.logs, cfg.logs).join('\n') + '\n')
  log(`wrote ${path.relative(ROOT, cfg.out)}.json and .md in ${results.durationS} s`)
  if (failures.length) {
    log(`${failures.length} failure(s):`)
    for (const f of failures) log(`  ${f.split('\n')[0]}`)
    return 1
  }
  return 0
}

interface FigureContext {
  cluster: ReturnType<typeof clusterInfo>
  h: Harness
  tmp: string
  direct: string
  kubectlInfo: KubectlInfo
  results: Results
  stop(): boolean
  /** writes the results so far (after each run of a figure) */
  save(): void
}

// ---------------------------------------------------------------- 1 + 4: detection latency, start-up

const jitter = () => Math.floor(Math.random() * 2000)

async function figLatency(x: FigureContext): Promise<void> {
  const { cluster, h, results } = x
  const cases = [
    // The decisive write comes 3-5 s after the pod's binding, at a random
    // moment, so that it falls anywhere within a poller's interval (with a
    // fixed delay it would fall at the same point of the interval every run).
    {
      id: 'running' as const,
      goal: { kind: 'running' } as Goal,
      sim: () => ({ 'start-ms': String(3000 + jitter()), 'run-ms': '-1' }),
      phase: 'Running',
      contenders: [oursWatch(), oursPoll(), kubectl(x.kubectlInfo), seedLoop(), e2eHelper()]
    },
    {
      id: 'completion' as const,
      goal: { kind: 'complete' } as Goal,
      sim: () => ({ 'start-ms': '500', 'run-ms': String(3000 + jitter()) }),
      phase: 'Succeeded',
      contenders: [oursWatch(), oursWatchPodPhase(), oursPoll(), kubectl(x.kubectlInfo), seedLoop(), e2eHelper()]
    }
  ]
  for (const k of cases) results.latency[k.id] = []
  // ours in watch mode and kubectl wait: BENCH_LATENCY_RUNS (their p50 and p90 are the targets); the others BENCH_RUNS
  const runsOf = (c: Contender) => (c.id === 'ours-watch' || c.id === 'kubectl' ? cfg.latencyRuns : cfg.runs)
  const runs = Math.max(cfg.latencyRuns, cfg.runs)
  for (let run = 1; run <= runs && !x.stop(); run++) {
    for (const k of cases) {
      const now = k.contenders.filter((c) => run <= runsOf(c))
      if (!now.length) continue
      log(`latency, ${k.id}, run ${run}/${runs}: ${now.map((c) => c.label).join(', ')}`)
      for (const c of rotate(now, run - 1)) {
        if (x.stop()) return
        const name = `lat-${k.id.slice(0, 4)}-${c.id}-${run}-${randomSuffix()}`
        const simOff = fileSize(cluster.simWrites)
        const auditOff = fileSize(cluster.auditLog)
        const sim = k.sim()
        const uid = await h.createJob({ name, completions: 1, parallelism: 1, sim })
        await h.waitPodsExist(uid, 1, 60_000)
        const t = await runContender(c, k.goal, { name, uid }, 120, x.direct)
        await h.deleteJob(name)
        const ok = expect(`latency ${k.id} run ${run} ${c.label}`, t, t.proc, 'met')
        const writes = await simWritesFor(cluster.simWrites, simOff, cfg.namespace, name, (w) => w.some((i) => i.phase === k.phase))
        const decisive = writes.find((i) => i.phase === k.phase)
        await sleep(300) // the audit log's last lines (the closing watches)
        const events = readAudit(cluster.auditLog, auditOff)
        const req = requestsOf(events, c.identity, t.proc.spawnAt, t.proc.exitAt)
        // the Job controller's status writes after the pod's terminal write (completion case)
        const jw = k.id === 'completion' && decisive ? jobStatusWrites(events, name, decisive.t - 50, t.proc.exitAt + 1000) : []
        const firstJobWrite = jw[0]
        const lastJobWrite = jw.filter((w) => w <= t.proc.exitAt).pop() ?? jw[jw.length - 1]
        const dl = decisionLineAt(t)
        const sample = {
          run,
          contender: c.id,
          label: c.label,
          ok,
          result: t.result,
          latencyMs: decisive && ok ? t.proc.exitAt - decisive.t : NaN,
          decisionLineMs: decisive && dl && ok ? dl - decisive.t : undefined,
          controllerFirstMs: decisive && firstJobWrite ? firstJobWrite - decisive.t : undefined,
          controllerMs: decisive && lastJobWrite ? lastJobWrite - decisive.t : undefined,
          afterJobWriteMs: firstJobWrite && ok && c.id !== 'ours-watch-phase' ? t.proc.exitAt - firstJobWrite : undefined,
          // ours ends on SuccessCriteriaMet (the first write); kubectl, the e2e helper and the seed on Complete (the last before their exit)
          endsOnJobWriteMs:
            k.id === 'completion' && ok && c.id !== 'ours-watch-phase'
              ? t.proc.exitAt - ((c.id.startsWith('ours') ? firstJobWrite : lastJobWrite) ?? NaN)
              : undefined,
          startupMs: req.firstReceived !== undefined ? req.firstReceived - t.proc.spawnAt : NaN,
          // its first request came after the decisive write: it was not yet waiting, the figure says little
          // (not for the e2e helper: its first check comes 2 s after its start by design)
          sim,
          lateStart: c.id !== 'e2e' && decisive !== undefined && (req.firstReceived === undefined || req.firstReceived > decisive.t),
          requests: req.count,
          requestKinds: req.byKind,
          wallMs: t.proc.exitAt - t.proc.spawnAt,
          cpuS: cpuOf(t.proc),
          maxRssKB: t.proc.maxRssKB
        }
        if (sample.lateStart) log(`  note: ${c.label} made its first request after the decisive write (it started late)`)
        if (!decisive) failures.push(`latency ${k.id} run ${run} ${c.label}: no ${k.phase} write in sim-writes.jsonl for job ${name}`)
        results.latency[k.id]!.push(sample)
        log(
          `  ${c.label.padEnd(30)} ${Number.isFinite(sample.latencyMs) ? `${Math.round(sample.latencyMs)} ms after the ${k.phase} write` : t.result}` +
            `${sample.controllerMs !== undefined ? ` (Job status writes +${Math.round(sample.controllerFirstMs ?? NaN)}, +${Math.round(sample.controllerMs)} ms)` : ''}; first request ${Math.round(sample.startupMs)} ms after spawn`
        )
      }
    }
    x.save()
  }
}

/**
 * Spawn → first API request against a local HTTPS server (lib/startup.ts, as
 * bench/startup.ts): ours and kubectl wait, each cold (the first start of a
 * fresh copy of its files, empty HOME and TMPDIR) and warm (the same copy
 * started again), and node -e, interleaved, BENCH_LATENCY_RUNS runs.
 */
async function figStartup(x: FigureContext, entry: string): Promise<void> {
  log(`start-up: spawn → first request, ${cfg.latencyRuns} runs (ours and kubectl wait, cold and warm; node -e)`)
  try {
    const r = await measureStartup({ runs: cfg.latencyRuns, entry, kubectl: x.kubectlInfo.path })
    x.results.startup = r.results
    for (const [who, xs] of Object.entries(r.results))
      if (xs.length) log(`  ${who.padEnd(50)} p50 ${Math.round(stat(xs)?.median ?? NaN)} ms, p90 ${Math.round(stat(xs)?.p90 ?? NaN)} ms`)
  } catch (err) {
    failures.push(`start-up: ${(err as Error).message}`)
    log(`  FAILED start-up: ${(err as Error).message}`)
  }
}

/**
 * What starting costs before any waiting: ours exiting at once on an input
 * error (no job name), with a fresh RUNNER_TEMP (a job's first step) and with
 * the RUNNER_TEMP of an earlier run (a later step of the same job, should the
 * action keep a compile cache there), a bare `node -e 0`, and `kubectl
 * version --client`. The floor under figures 3 and 4. Run 0 only warms up.
 */
async function figStartupFloor(x: FigureContext): Promise<void> {
  const env = { PATH: process.env.PATH ?? '', HOME: os.tmpdir() }
  const floor = x.results.floor
  const warmTemp = fs.mkdtempSync(path.join(x.tmp, 'runner-temp-'))
  for (let run = 0; run <= cfg.runs && !x.stop(); run++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-bench-floor-'))
    try {
      const inv = oursWatch().invoke(
        { kind: 'running' },
        { namespace: cfg.namespace, job: '', uid: '', timeoutS: 10, kubeconfig: x.direct, dir }
      )!
      const cases: { what: string; cmd: string; args: string[]; env: Record<string, string> }[] = [
        { what: 'ours: start, input error, exit', cmd: inv.cmd, args: inv.args, env: inv.env },
        // a later step of the same job: RUNNER_TEMP (where a compile cache may live) kept from an earlier run
        { what: 'ours: the same, RUNNER_TEMP of an earlier run', cmd: inv.cmd, args: inv.args, env: { ...inv.env, RUNNER_TEMP: warmTemp } },
        { what: 'node -e 0', cmd: process.execPath, args: ['-e', '0'], env },
        { what: 'kubectl version --client', cmd: x.kubectlInfo.path, args: ['version', '--client'], env }
      ]
      for (const c of cases) {
        const r = await runProc({ cmd: c.cmd, args: c.args, env: c.env, killAfterMs: 60_000 })
        if (run === 0) continue // warm-up: fills warmTemp
        if (r.killed || r.signal) failures.push(`start-up floor run ${run} ${c.what}: ${r.killed ? 'hung' : r.signal}`)
        floor.push({ run, what: c.what, wallMs: r.exitAt - r.spawnAt, cpuS: cpuOf(r), maxRssKB: r.maxRssKB ?? NaN })
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * The Job controller's status writes for a Job within a window, oldest first.
 * After a pod's terminal write it writes twice, ~10-20 ms apart, in one sync:
 * SuccessCriteriaMet (with the pod still uncounted), then Complete.
 */
/** The simulator's pods/status writes for a Job's pods that the API server answered 200 (pod names are the Job's name, '-', a suffix). */
function podStatusWrites(events: AuditEvent[], job: string): StatusWrite[] {
  const out: StatusWrite[] = []
  for (const e of events) {
    if (e.stage !== 'ResponseComplete' || e.resource !== 'pods' || e.subresource !== 'status' || e.code !== 200) continue
    if (e.namespace !== cfg.namespace || !e.name?.startsWith(`${job}-`) || (e.verb !== 'patch' && e.verb !== 'update')) continue
    out.push({ pod: e.name, received: e.received, completed: e.at })
  }
  return out
}

function jobStatusWrites(events: AuditEvent[], job: string, from: number, to: number): number[] {
  const out: number[] = []
  for (const e of events) {
    if (e.stage !== 'ResponseComplete' || e.user !== 'system:kube-controller-manager') continue
    if (e.resource !== 'jobs' || e.subresource !== 'status' || e.name !== job || (e.verb !== 'update' && e.verb !== 'patch')) continue
    if (e.at < from || e.at > to) continue
    out.push(e.at)
  }
  return out.sort((a, b) => a - b)
}

// ---------------------------------------------------------------- 2 + 3: API cost (contenders side by side) and process cost (one at a time)

async function sideBySide(
  x: FigureContext,
  what: string,
  contenders: Contender[],
  goal: Goal,
  job: { name: string; uid: string },
  timeoutS: number,
  want: Result,
  run: number
) {
  const proxies: Proxy[] = []
  try {
    for (let i = 0; i < contenders.length; i++) proxies.push(await startProxy(x.cluster.port, `127.0.1.${i + 1}`))
    const auditOff = fileSize(x.cluster.auditLog)
    const trials = await Promise.all(
      contenders.map((c, i) =>
        runContender(c, goal, job, timeoutS, kubeconfigFor(x.cluster.admin, proxies[i].stats.port, x.tmp, `proxy-${i}.kubeconfig`))
      )
    )
    await sleep(1000)
    const events = readAudit(x.cluster.auditLog, auditOff)
    return trials.map((t, i) => {
      const c = contenders[i]
      const ok = expect(`${what} run ${run} ${c.label}`, t, t.proc, want)
      const req = requestsOf(events, { sourceIp: proxies[i].stats.sourceIp }, t.proc.spawnAt, t.proc.exitAt + 1000)
      const s = {
        run,
        contender: c.id,
        label: c.label,
        ok,
        result: t.result,
        wallMs: t.proc.exitAt - t.proc.spawnAt,
        requests: req.count,
        requestKinds: req.byKind,
        bytesDown: proxies[i].stats.bytesDown,
        bytesUp: proxies[i].stats.bytesUp,
        connections: proxies[i].stats.connections,
        cpuS: cpuOf(t.proc),
        maxRssKB: t.proc.maxRssKB ?? NaN
      }
      log(
        `  ${c.label.padEnd(30)} ${t.result} after ${(s.wallMs / 1000).toFixed(1)} s: ${s.requests} requests, ${(s.bytesDown / 1024).toFixed(1)} KiB served over ${s.connections} connection(s); ` +
          `CPU ${s.cpuS.toFixed(2)} s, peak RSS ${((s.maxRssKB ?? 0) / 1024).toFixed(1)} MiB`
      )
      return s
    })
  } finally {
    for (const p of proxies) await p.close()
  }
}

/** A 1-pod Job whose pod succeeds `seconds` after it starts; its uid once the pod exists. */
async function onePodJob(x: FigureContext, name: string, seconds: number): Promise<string> {
  const uid = await x.h.createJob({ name, completions: 1, parallelism: 1, sim: { 'start-ms': '200', 'run-ms': String(seconds * 1000) } })
  await x.h.waitPodsExist(uid, 1, 60_000)
  return uid
}

async function figApi(x: FigureContext): Promise<void> {
  const contenders = [oursWatch(), oursPoll(), kubectl(x.kubectlInfo), seedLoop(), e2eHelper()]
  for (let run = 1; run <= cfg.runs && !x.stop(); run++) {
    log(`API cost of a ${cfg.waitSeconds} s wait (1-pod Job done after ${cfg.waitSeconds} s), run ${run}/${cfg.runs}`)
    const name = `api-${run}-${randomSuffix()}`
    const uid = await onePodJob(x, name, cfg.waitSeconds)
    const samples = await sideBySide(x, 'api', contenders, { kind: 'complete' }, { name, uid }, cfg.waitSeconds + 120, 'met', run)
    x.results.api.push(...samples)
    await x.h.deleteJob(name)
    x.save()
  }
}

async function figProcess(x: FigureContext): Promise<void> {
  const n = cfg.processPods
  const contenders = [oursWatch(), oursPoll(), kubectl(x.kubectlInfo), kubectlJob(x.kubectlInfo), seedLoop(), e2eHelper()]
  const name = `proc-${n}-${randomSuffix()}`
  log(`process cost: starting a ${n}-pod Job whose pods run forever`)
  const uid = await x.h.createJob({ name, completions: n, parallelism: n, sim: { 'start-ms': '200', 'run-ms': '-1' } })
  const ready = await x.h.waitJobReady(name, n, 15 * 60_000)
  if (ready < n) log(`  only ${ready}/${n} pods ready after 15 min; measuring anyway`)
  x.results.processPodsReady = ready
  try {
    // One after the other on the same Job (its pods never change), the order rotated each run: two
    // cores shared by six waiters side by side would charge each one the others' load.
    for (let run = 1; run <= cfg.processRuns && !x.stop(); run++) {
      for (const c of rotate(contenders, run - 1)) {
        if (x.stop()) break
        log(
          `process cost of a ${cfg.waitSeconds} s wait on ${n} running pods (phase Succeeded never comes: timeout), run ${run}/${cfg.processRuns}, ${c.label}`
        )
        const samples = await sideBySide(x, 'process', [c], { kind: 'succeeded', count: n }, { name, uid }, cfg.waitSeconds, 'timeout', run)
        x.results.process.push(...samples)
        x.save()
      }
    }
  } finally {
    await x.h.deleteJob(name)
  }
}

// ---------------------------------------------------------------- 5: scale

/**
 * Jobs of each size (parallelism = completions = N, run-ms 2000), one waiter
 * alone on each, one after the other on identical Jobs (order rotated each
 * run): ours waiting for phase Succeeded, ours for condition Complete,
 * kubectl wait --for=condition=complete (reads the Job only), kubectl get
 * pods --watch -o name (reads every pod as client-go decodes it) and the
 * floor (node:http2 + JSON.parse of the same pod watch); the last two never
 * end by themselves and are ended once the Job completes (no latency of
 * their own). Latency: the API server's receipt of the last pod's Succeeded
 * write (audit log, lib/scale.ts) → exit; CPU and peak RSS of the process.
 */
async function figScale(x: FigureContext): Promise<void> {
  const { cluster, h } = x
  const cases: { kind: ScaleSample['kind']; contender: Contender; goal: (size: number) => Goal; label: string }[] = [
    { kind: 'phase', contender: oursWatch(), goal: (size) => ({ kind: 'succeeded', count: size }), label: 'ours (watch), phase Succeeded' },
    { kind: 'condition', contender: oursWatch(), goal: () => ({ kind: 'complete' }), label: 'ours (watch), condition Complete' },
    {
      kind: 'kubectl',
      contender: kubectlJob(x.kubectlInfo),
      goal: () => ({ kind: 'complete' }),
      label: 'kubectl wait --for=condition=complete'
    },
    {
      kind: 'kubectl-pods',
      contender: kubectlPodsWatch(x.kubectlInfo),
      goal: () => ({ kind: 'complete' }),
      label: 'kubectl get pods --watch -o name'
    },
    { kind: 'floor', contender: floorWatch(), goal: () => ({ kind: 'complete' }), label: 'floor (node:http2 + JSON.parse)' }
  ]
  for (let run = 1; run <= cfg.scaleRuns && !x.stop(); run++) {
    for (const size of cfg.scaleSizes) {
      for (const k of rotate(cases, run - 1)) {
        if (x.stop()) return
        log(`scale: ${size} pods, run ${run}/${cfg.scaleRuns}, ${k.label}`)
        const settledMs = await h.settle(300_000)
        const name = `scale-${size}-${k.kind.slice(0, 4)}-${run}-${randomSuffix()}`
        const simOff = fileSize(cluster.simWrites)
        const auditOff = fileSize(cluster.auditLog)
        const created = Date.now()
        const uid = await h.createJob({ name, completions: size, parallelism: size, sim: { 'start-ms': '200', 'run-ms': '2000' } })
        const timeoutS = Math.max(600, Math.ceil(size / 10))
        const finished = k.contender.endedByHarness ? h.waitJobFinished(name, timeoutS * 1000) : undefined
        const t = await runContender(k.contender, k.goal(size), { name, uid }, timeoutS, x.direct, finished)
        await h.deleteJob(name)
        const ok = expect(`scale ${size} run ${run} ${k.label}`, t, t.proc, 'met')
        const writes = await simWritesFor(
          cluster.simWrites,
          simOff,
          cfg.namespace,
          name,
          (w) => w.filter((i) => i.phase === 'Succeeded').length >= size,
          10_000
        )
        const done = writes.filter((i) => i.phase === 'Succeeded')
        if (done.length < size)
          failures.push(`scale ${size} run ${run} ${k.label}: only ${done.length} Succeeded writes in sim-writes.jsonl`)
        await sleep(300) // the audit log's last lines
        const last = lastSucceededWrite(podStatusWrites(readAudit(cluster.auditLog, auditOff), name), done)
        const ours = k.kind === 'phase' || k.kind === 'condition'
        const dl = ours ? decisionLineAt(t) : undefined
        // the harness ended the watchers: their exit says nothing of theirs
        const lat = ok && !k.contender.endedByHarness ? lastWriteToExit(t.proc.exitAt, last) : undefined
        if (lat && 'refused' in lat) failures.push(`scale ${size} run ${run} ${k.label}: last write → exit refused: ${lat.refused}`)
        const sample: ScaleSample = {
          run,
          size,
          kind: k.kind,
          ok,
          result: t.result,
          latencyMs: lat && 'ms' in lat ? lat.ms : NaN,
          latencyRefused: lat && 'refused' in lat ? lat.refused : undefined,
          lastWriteAnswerMs: last ? last.completed - last.received : undefined,
          decisionLineMs: ok && last && dl ? dl - last.received : undefined,
          jobRunMs: last ? last.completed - created : NaN,
          statusWrites: writes.length,
          settledMs,
          cpuS: cpuOf(t.proc),
          maxRssKB: t.proc.maxRssKB ?? NaN
        }
        x.results.scale.push(sample)
        log(
          `  last Succeeded write ${(sample.jobRunMs / 1000).toFixed(1)} s after the Job's creation; exit ${sample.latencyRefused ?? (Number.isFinite(sample.latencyMs) ? `+${Math.round(sample.latencyMs)} ms` : 'ended by the harness')}` +
            `${sample.decisionLineMs !== undefined ? ` (decision line +${Math.round(sample.decisionLineMs)} ms)` : ''}, ` +
            `peak RSS ${(sample.maxRssKB / 1024).toFixed(1)} MiB, CPU ${sample.cpuS.toFixed(2)} s`
        )
        x.save()
      }
    }
  }
}

// ---------------------------------------------------------------- 6: several Jobs

/**
 * N Jobs of P pods each, all to complete: ours with a selector (expected-jobs
 * N), `kubectl wait --for=condition=complete job -l` on identical Jobs, and
 * ours on a single Job of P pods (the reference for the API requests), one
 * after the other, each on Jobs of its own created just before it starts.
 * The decisive moment for the set: the latest, over the Jobs, of the Job
 * controller's first status write after the Job's last pod Succeeded write
 * (SuccessCriteriaMet; Complete follows 10-20 ms later in the same sync).
 */
async function figSeveral(x: FigureContext): Promise<void> {
  const { cluster, h } = x
  const n = cfg.severalJobs
  const p = cfg.severalPods
  const cases: { contender: Contender; jobs: number; label: string }[] = [
    { contender: oursWatch(), jobs: n, label: `ours (watch), selector, ${n} jobs` },
    { contender: kubectl(x.kubectlInfo), jobs: n, label: `kubectl wait -l, ${n} jobs` },
    { contender: oursWatch(), jobs: 1, label: 'ours (watch), 1 job by name' }
  ]
  for (let run = 1; run <= cfg.severalRuns && !x.stop(); run++) {
    log(`several jobs: ${n} jobs × ${p} pods, run ${run}/${cfg.severalRuns}`)
    for (const k of rotate(cases, run - 1)) {
      if (x.stop()) return
      await h.settle(300_000)
      const runId = `sev-${run}-${randomSuffix()}`
      const labels = { 'kjw.dev/bench-run': runId }
      const names = Array.from({ length: k.jobs }, (_, i) => `${runId}-${i}`)
      const simOff = fileSize(cluster.simWrites)
      // the pods run 4 s: every waiter is waiting when they end
      const uids = await Promise.all(
        names.map((name) => h.createJob({ name, completions: p, parallelism: p, labels, sim: { 'start-ms': '200', 'run-ms': '4000' } }))
      )
      await h.waitPodsExist('', k.jobs * p, 120_000, `kjw.dev/bench-run=${runId}`)
      const auditOff = fileSize(cluster.auditLog)
      const goal: Goal =
        k.jobs === 1 ? { kind: 'complete' } : { kind: 'jobs-complete', selector: `kjw.dev/bench-run=${runId}`, count: k.jobs }
      const t = await runContender(k.contender, goal, { name: names[0], uid: uids[0] }, 300, x.direct)
      const ok = expect(`several run ${run} ${k.label}`, t, t.proc, 'met')
      for (const name of names) await h.deleteJob(name)
      // every pod's Succeeded write, then the Job controller's status writes after each Job's last one
      const deadline = Date.now() + 10_000
      let writes = readSimWrites(cluster.simWrites, simOff).filter((w) => w.ns === cfg.namespace && names.includes(w.job ?? ''))
      while (writes.filter((w) => w.phase === 'Succeeded').length < k.jobs * p && Date.now() < deadline) {
        await sleep(200)
        writes = readSimWrites(cluster.simWrites, simOff).filter((w) => w.ns === cfg.namespace && names.includes(w.job ?? ''))
      }
      await sleep(300) // the audit log's last lines (the closing watches)
      const events = readAudit(cluster.auditLog, auditOff)
      let decisive = -Infinity
      for (const name of names) {
        const last = writes.filter((w) => w.job === name && w.phase === 'Succeeded').reduce((m, w) => Math.max(m, w.t), 0)
        const first = last ? jobStatusWrites(events, name, last - 50, t.proc.exitAt + 1000)[0] : undefined
        decisive = Math.max(decisive, first ?? NaN)
      }
      const req = requestsOf(events, k.contender.identity, t.proc.spawnAt, t.proc.exitAt)
      const sample: SeveralSample = {
        run,
        contender: `${k.contender.id}-${k.jobs}`,
        label: k.label,
        jobs: k.jobs,
        pods: p,
        ok,
        result: t.result,
        latencyMs: ok && Number.isFinite(decisive) ? t.proc.exitAt - decisive : NaN,
        lateStart: req.firstReceived === undefined || (Number.isFinite(decisive) && req.firstReceived > decisive),
        requests: req.count,
        requestKinds: req.byKind,
        wallMs: t.proc.exitAt - t.proc.spawnAt,
        cpuS: cpuOf(t.proc),
        maxRssKB: t.proc.maxRssKB ?? NaN
      }
      if (!Number.isFinite(decisive)) failures.push(`several run ${run} ${k.label}: no Job status write after the pods' Succeeded writes`)
      if (sample.lateStart) log(`  note: ${k.label} made its first request after the decisive write (it started late)`)
      x.results.several ??= []
      x.results.several.push(sample)
      x.save()
      log(
        `  ${k.label.padEnd(34)} ${t.result}: exit ${Math.round(sample.latencyMs)} ms after the last Job's decisive write; ${sample.requests} requests ` +
          `(${Object.entries(sample.requestKinds)
            .map(([kind, c]) => `${c} ${kind}`)
            .join(', ')}); CPU ${sample.cpuS.toFixed(2)} s, peak RSS ${(sample.maxRssKB / 1024).toFixed(1)} MiB`
      )
    }
  }
}

// ---------------------------------------------------------------- 8: a frozen connection (opt-in: BENCH_FIGURES=stall)

/**
 * Each waiter, alone, waits for a 1-pod Job to complete through a TCP proxy
 * that, 5 s after the waiter's first connection, freezes every connection
 * open then (no byte passes either way, they stay open: a frozen proxy or load
 * balancer) while new connections pass. Recovery: the freeze → the next
 * connection the proxy accepts (polled every 20 ms). The pod succeeds
 * BENCH_STALL_POD_SECONDS after its start: a waiter that recovered in time
 * ends met, through the new connection.
 */
async function figStall(x: FigureContext): Promise<void> {
  const contenders = [oursWatch(), kubectlJob(x.kubectlInfo)]
  for (let run = 1; run <= cfg.stallRuns && !x.stop(); run++) {
    for (const c of rotate(contenders, run - 1)) {
      if (x.stop()) return
      log(`stall: ${c.label}, run ${run}/${cfg.stallRuns}: the open connections frozen 5 s after the first`)
      const name = `stall-${run}-${randomSuffix()}`
      const uid = await onePodJob(x, name, cfg.stallPodSeconds)
      const proxy = await startFreezableProxy(x.cluster.port)
      try {
        const kubeconfig = kubeconfigFor(x.cluster.admin, proxy.port, x.tmp, 'stall.kubeconfig')
        const trial = runContender(c, { kind: 'complete' }, { name, uid }, cfg.stallPodSeconds + 120, kubeconfig)
        let ended = false
        void trial.finally(() => (ended = true))
        while (proxy.connections() === 0 && !ended) await sleep(20)
        await sleep(5000)
        const before = proxy.connections()
        const frozenAt = Date.now()
        proxy.freezeOpen()
        let recoveredAt: number | undefined
        while (!ended && recoveredAt === undefined) {
          await sleep(20)
          if (proxy.connections() > before) recoveredAt = Date.now()
        }
        const t = await trial
        const ok = expect(`stall run ${run} ${c.label}`, t, t.proc, 'met')
        const sample: StallSample = {
          run,
          contender: c.id,
          label: c.label,
          ok,
          result: t.result,
          recoveryMs: recoveredAt === undefined ? NaN : recoveredAt - frozenAt,
          connections: proxy.connections()
        }
        x.results.stall ??= []
        x.results.stall.push(sample)
        x.save()
        log(
          `  ${c.label.padEnd(30)} ${t.result}: a new connection ${(sample.recoveryMs / 1000).toFixed(1)} s after the freeze; ${sample.connections} connection(s) in all`
        )
      } finally {
        await proxy.close()
        await x.h.deleteJob(name)
      }
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    log(`fatal: ${(err as Error).stack ?? err}`)
    process.exit(1)
  }
)
