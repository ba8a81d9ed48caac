// Figure 6, live logs: ours (logs: follow) against
// `kubectl logs -f -l job-name=NAME --prefix --tail=-1 --all-containers --max-log-requests=N`
// on identical Jobs, one after the other (2 cores: never side by side).
//   latency    a line's kubelet timestamp (log-stamp: the time it was written)
//              → the line in the contender's stdout (p50, p90)
//   throughput PODS pods × RATE lines/s for SECONDS: lines lost, CPU, peak RSS
//   retries    a Job whose pods all fail, RETRIES retries: pods whose lines were shown
// Both are started once the Job's pods run (kubectl refuses containers that
// are waiting to start); kubectl ends when its streams end, ours on the verdict.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Harness } from './kube.ts'
import { runProc, type ProcResult } from './proc.ts'
import { log, randomSuffix, sleep, stat } from './util.ts'

export interface LogsSample {
  scenario: 'latency' | 'throughput' | 'retries'
  contender: 'ours' | 'kubectl'
  /** latency: per-line delays, ms */
  delaysMs?: number[]
  expectedLines?: number
  distinctLines?: number
  duplicateLines?: number
  podsTotal?: number
  podsShown?: number
  cpuS?: number
  maxRssKB?: number
  wallMs: number
  code: number | null
}

export interface LogsConfig {
  seconds: number
  pods: number
  rate: number
  retries: number
  maxStreams: number
}

interface Ctx {
  h: Harness
  namespace: string
  kubeconfig: string
  kubectl: string
  dist: string
  dir: string
}

/** A streamed line (ours: `[pod/main] `, kubectl: `[pod/NAME/main] `); not the report's log tail, which repeats lines. */
const NUMBERED = /^\[[^\]]+\] (\S+)\/main attempt \d+ line (\d+)(?: written (\S+))?/

function runOurs(c: Ctx, job: string, maxStreams: number, timeoutS: number): Promise<ProcResult> {
  const out = path.join(c.dir, `out-${job}`)
  fs.writeFileSync(out, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: c.dir,
    LANG: 'C.UTF-8',
    KUBECONFIG: c.kubeconfig,
    GITHUB_OUTPUT: out,
    GITHUB_STEP_SUMMARY: path.join(c.dir, `summary-${job}`),
    RUNNER_TEMP: c.dir,
    INPUT_JOB: job,
    INPUT_NAMESPACE: c.namespace,
    INPUT_CONDITION: 'Finished',
    INPUT_TIMEOUT: `${timeoutS}s`,
    INPUT_MODE: 'watch',
    INPUT_LOGS: 'follow',
    'INPUT_LOG-MAX-STREAMS': String(maxStreams),
    'INPUT_LOG-LINES': '30'
  }
  return runProc({ cmd: process.execPath, args: [c.dist], env, killAfterMs: (timeoutS + 30) * 1000 })
}

function runKubectl(c: Ctx, job: string, maxStreams: number, timeoutS: number): Promise<ProcResult> {
  const args = [
    'logs',
    '-f',
    '-n',
    c.namespace,
    '-l',
    `job-name=${job}`,
    '--prefix',
    '--tail=-1',
    '--all-containers',
    `--max-log-requests=${maxStreams}`
  ]
  return runProc({
    cmd: c.kubectl,
    args,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: c.dir, KUBECONFIG: c.kubeconfig },
    killAfterMs: timeoutS * 1000
  })
}

/** What a run showed: numbered lines (pod, number), the delays of those written
 * after `from` (before it, the contender was starting: a backlog, not a delay), and the pods seen. */
function tally(r: ProcResult, from: number): { distinct: number; duplicates: number; pods: Set<string>; delays: number[] } {
  const seen = new Set<string>()
  const pods = new Set<string>()
  const delays: number[] = []
  let duplicates = 0
  for (const { t, line } of r.lines) {
    const m = NUMBERED.exec(line)
    if (!m) continue
    const key = `${m[1]} ${m[2]}`
    pods.add(m[1]!)
    if (seen.has(key)) duplicates++
    seen.add(key)
    if (m[3]) {
      const written = Date.parse(m[3])
      if (!Number.isNaN(written) && written >= from) delays.push(t - written)
    }
  }
  return { distinct: seen.size, duplicates, pods, delays }
}

async function oneJob(
  c: Ctx,
  contender: 'ours' | 'kubectl',
  scenario: LogsSample['scenario'],
  sim: Record<string, string>,
  pods: number,
  backoffLimit: number,
  expectedLines: number,
  cfg: LogsConfig
): Promise<LogsSample> {
  const job = `logs-${scenario}-${contender}-${randomSuffix()}`
  log(`logs ${scenario}: ${contender} on job ${job}`)
  const uid = await c.h.createJob({ name: job, completions: pods, parallelism: pods, sim, backoffLimit })
  try {
    if (scenario === 'retries') {
      // the first pod runs a few seconds: started once it exists and the simulator started it
      await c.h.waitPodsExist(uid, 1, 60_000)
      await sleep(1500)
    } else await c.h.waitJobReady(job, pods, 120_000)
    const timeoutS = cfg.seconds + 60 + (scenario === 'retries' ? 20 * 2 ** cfg.retries : 0)
    const r = contender === 'ours' ? await runOurs(c, job, cfg.maxStreams, timeoutS) : await runKubectl(c, job, cfg.maxStreams, timeoutS)
    const t = tally(r, r.spawnAt + 2000)
    // kubectl ends with the first pod's stream: the retries come after it, counted once they exist
    if (scenario === 'retries') await c.h.waitPodsExist(uid, cfg.retries + 1, 30_000 * 2 ** cfg.retries).catch(() => undefined)
    const podsTotal = await c.h.countPods(uid)
    return {
      scenario,
      contender,
      delaysMs: scenario === 'latency' ? t.delays : undefined,
      expectedLines: scenario === 'retries' ? 10 * podsTotal : expectedLines,
      distinctLines: t.distinct,
      duplicateLines: t.duplicates,
      podsTotal,
      podsShown: t.pods.size,
      cpuS: r.cpuUserS !== undefined ? r.cpuUserS + (r.cpuSysS ?? 0) : undefined,
      maxRssKB: r.maxRssKB,
      wallMs: r.exitAt - r.spawnAt,
      code: r.code
    }
  } finally {
    await c.h.deleteJob(job)
    await sleep(500)
  }
}

export async function figLogs(c: Ctx, cfg: LogsConfig, stop: () => boolean): Promise<LogsSample[]> {
  const out: LogsSample[] = []
  const lines = cfg.seconds * 10
  for (const who of ['ours', 'kubectl'] as const) {
    if (stop()) break
    out.push(
      await oneJob(
        c,
        who,
        'latency',
        { 'log-stamp': 'true', 'log-rate': '10', 'log-lines': String(lines), 'run-ms': String(cfg.seconds * 1000 + 500) },
        1,
        0,
        lines,
        cfg
      )
    )
  }
  const total = cfg.rate * cfg.seconds
  for (const who of ['ours', 'kubectl'] as const) {
    if (stop()) break
    const sim = { 'log-rate': String(cfg.rate), 'log-lines': String(total), 'run-ms': String(cfg.seconds * 1000 + 1000) }
    out.push(await oneJob(c, who, 'throughput', sim, cfg.pods, 0, total * cfg.pods, cfg))
  }
  for (const who of ['ours', 'kubectl'] as const) {
    if (stop()) break
    const sim = { 'log-rate': '10', 'log-lines': '10', 'run-ms': '4000', 'exit-code': '1' }
    out.push(await oneJob(c, who, 'retries', sim, 1, cfg.retries, 10 * (cfg.retries + 1), cfg))
  }
  return out
}

/** The rows for results.md. */
export function logsSection(samples: LogsSample[], cfg: LogsConfig): string[] {
  if (!samples.length) return []
  const get = (s: LogsSample['scenario'], who: LogsSample['contender']) => samples.find((x) => x.scenario === s && x.contender === who)
  const ms = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x)} ms`)
  const q = (v: number[] | undefined, p: number) => {
    if (!v?.length) return undefined
    const sorted = [...v].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
  }
  const mib = (kb: number | undefined) => (kb === undefined ? '–' : `${Math.round(kb / 1024)} MiB`)
  const cpu = (s: number | undefined) => (s === undefined ? '–' : `${s.toFixed(2)} s`)
  const lost = (x: LogsSample | undefined) =>
    x
      ? `${(x.expectedLines ?? 0) - (x.distinctLines ?? 0)} of ${x.expectedLines}${x.duplicateLines ? ` (${x.duplicateLines} twice)` : ''}`
      : '–'
  const rows: string[][] = []
  for (const who of ['ours', 'kubectl'] as const) {
    const l = get('latency', who)
    const t = get('throughput', who)
    const r = get('retries', who)
    rows.push([
      who === 'ours' ? 'ours (logs: follow)' : `kubectl logs -f --max-log-requests=${cfg.maxStreams}`,
      ms(q(l?.delaysMs, 50)),
      ms(q(l?.delaysMs, 90)),
      lost(t),
      cpu(t?.cpuS),
      mib(t?.maxRssKB),
      r ? `${r.podsShown} of ${r.podsTotal} pods, ${r.distinctLines} of ${r.expectedLines} lines` : '–'
    ])
  }
  const d = stat(get('latency', 'ours')?.delaysMs ?? [])
  return [
    `## 6. Live logs`,
    '',
    `Latency: 1 pod, 10 lines/s for ${cfg.seconds} s, each line stamped with its write time (log-stamp). Throughput: ${cfg.pods} pods × ${cfg.rate} lines/s for ${cfg.seconds} s. Retries: a Job whose pods all fail, backoffLimit ${cfg.retries}. Each contender on its own identical Job, one after the other, started once the pods run.`,
    '',
    '| Contender | line latency p50 | p90 | lines lost | CPU | peak RSS | retries: shown |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    d ? `ours: ${get('latency', 'ours')?.delaysMs?.length} latency samples.` : '',
    ''
  ]
}
