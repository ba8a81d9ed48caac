// Turns the raw samples into the one markdown table (median, min, max of the
// runs; targets met or missed) and the results document.
import type { KubectlInfo } from './cluster.ts'
import { logsSection, type LogsConfig, type LogsSample } from './logs-figure.ts'
import { SCALE_KINDS, scaleLayout, sizesNotRun, type ScaleKind, type ScaleMeasure } from './scale.ts'
import { fmtBytes, fmtCount, fmtCpu, fmtMB, fmtMs, stat, type Stat } from './util.ts'

export interface LatencySample {
  run: number
  contender: string
  label: string
  ok: boolean
  result: string
  /** decisive simulator write → process exit */
  latencyMs: number
  /** decisive write → ours' progress line with the final message */
  decisionLineMs?: number
  /** decisive pod write → the Job controller's first status write after it (SuccessCriteriaMet) */
  controllerFirstMs?: number
  /** decisive pod write → the Job controller's last status write before the exit (Complete) */
  controllerMs?: number
  /** the Job controller's first status write after the pod's → process exit (condition waiters) */
  afterJobWriteMs?: number
  /**
   * The Job status write this waiter ends on → process exit (condition
   * waiters): ours ends on the first (SuccessCriteriaMet), kubectl, the e2e
   * helper and the seed on the last before their exit (Complete).
   */
  endsOnJobWriteMs?: number
  /** spawn → first request received by the API server */
  startupMs: number
  /** the first request came after the decisive write: not yet waiting when it happened */
  lateStart?: boolean
  /** the simulator annotations of the Job */
  sim?: Record<string, string>
  requests: number
  requestKinds: Record<string, number>
  wallMs: number
  cpuS: number
  maxRssKB?: number
}

export interface CostSample {
  run: number
  contender: string
  label: string
  ok: boolean
  result: string
  wallMs: number
  requests: number
  requestKinds: Record<string, number>
  bytesDown: number
  bytesUp: number
  connections: number
  cpuS: number
  maxRssKB: number
}

export interface ScaleSample {
  run: number
  size: number
  /**
   * ours waiting for phase Succeeded, ours for condition Complete, kubectl wait
   * --for=condition=complete, kubectl get pods --watch -o name, and the floor
   * (node:http2 + JSON.parse of the pod watch); each alone on its own Job. The
   * last two are ended by the harness once the Job completes (no latency).
   */
  kind: ScaleKind
  ok: boolean
  result: string
  /** the API server's receipt of the last pod's Succeeded write → exit (lib/scale.ts); NaN when ended by the harness or refused */
  latencyMs: number
  /** why the harness gave no latency (e.g. an exit before the last write was received) */
  latencyRefused?: string
  /** the API server's receipt → answer of that last write: how much earlier than its receipt a watcher may have seen it */
  lastWriteAnswerMs?: number
  decisionLineMs?: number
  jobRunMs: number
  statusWrites: number
  settledMs: number
  cpuS: number
  maxRssKB: number
}

export interface SeveralSample {
  run: number
  /** contender id and number of Jobs: ours-watch-20, kubectl-20, ours-watch-1 */
  contender: string
  label: string
  jobs: number
  pods: number
  ok: boolean
  result: string
  /** the last Job's decisive write (the Job controller's first status write after its last pod's Succeeded write) → exit */
  latencyMs: number
  /** the first request came after the decisive write */
  lateStart?: boolean
  requests: number
  requestKinds: Record<string, number>
  wallMs: number
  cpuS: number
  maxRssKB: number
}

export interface Results {
  date: string
  machine: { cores: number; cpuModel: string; memoryMiB: number; os: string; loadAvgAtStart: number[] }
  kubernetes: string
  node: string
  kubectl: KubectlInfo
  bundle: {
    path: string
    bytes: number
    files: Record<string, number>
    sha256: string
    mtime: string
    git: string
    changedDuringRun?: boolean
  }
  config: Record<string, unknown>
  latency: { running?: LatencySample[]; completion?: LatencySample[] }
  /** figure 4: spawn → first request against a local HTTPS server (lib/startup.ts), ms per run */
  startup?: Record<string, number[]>
  floor: { run: number; what: string; wallMs: number; cpuS: number; maxRssKB: number }[]
  api: CostSample[]
  process: CostSample[]
  processPodsReady?: number
  scale: ScaleSample[]
  /** figure 6, live logs (bench/lib/logs-figure.ts) */
  logs?: LogsSample[]
  /** figure 7, several Jobs (absent in results written before it existed) */
  several?: SeveralSample[]
  /** figure 8, a frozen connection (opt-in: BENCH_FIGURES=stall) */
  stall?: StallSample[]
  failures: string[]
  durationS: number
  /** written while the run was still going (or the run was interrupted before its end) */
  inProgress?: boolean
  rows?: Row[]
}

export interface StallSample {
  run: number
  contender: string
  label: string
  ok: boolean
  result: string
  /** the freeze of the open connections → the next connection accepted by the proxy */
  recoveryMs: number
  /** connections the proxy accepted over the whole wait */
  connections: number
}

export interface Row {
  fig: string
  measure: string
  who: string
  stat?: Stat
  fmt: (x: number) => string
  target?: string
  met?: boolean
}

type Sample = { contender: string; label: string; ok: boolean }

function byContender<T extends Sample>(samples: T[]): { id: string; label: string; items: T[] }[] {
  const out: { id: string; label: string; items: T[] }[] = []
  for (const s of samples) {
    let g = out.find((o) => o.id === s.contender)
    if (!g) out.push((g = { id: s.contender, label: s.label, items: [] }))
    g.items.push(s)
  }
  return out
}

function pick<T extends Sample>(samples: T[], id: string, f: (s: T) => number | undefined): Stat | undefined {
  return stat(samples.filter((s) => s.contender === id && s.ok).map((s) => f(s) ?? NaN))
}

/** The largest value of one contender, over its every run (the targets "in every run"). */
function maxOf<T extends Sample>(samples: T[], id: string, f: (s: T) => number): number | undefined {
  return stat(samples.filter((s) => s.contender === id).map(f))?.max
}

/**
 * One row per contender for one measure: its stat, and a target where `judge`
 * gives one (it gets the contender and the row's stat).
 */
function perContender<T extends Sample>(
  samples: T[],
  row: { fig: string; measure: string; fmt: (x: number) => string },
  f: (s: T) => number | undefined,
  o: { only?: (id: string) => boolean; judge?: (id: string, st: Stat | undefined) => { target: string; met?: boolean } | undefined } = {}
): Row[] {
  const out: Row[] = []
  for (const g of byContender(samples)) {
    if (o.only && !o.only(g.id)) continue
    const r: Row = { ...row, who: g.label, stat: pick(samples, g.id, f) }
    const t = o.judge?.(g.id, r.stat)
    if (t) Object.assign(r, t)
    out.push(r)
  }
  return out
}

/** "≤ X: met" or "missed"; undefined when a side has no data. */
function target(ours: number | undefined, limit: number | undefined, text: (limit: number) => string): { target: string; met?: boolean } {
  if (ours === undefined || limit === undefined || !Number.isFinite(ours) || !Number.isFinite(limit))
    return { target: `${text(NaN)}: no data` }
  return { target: text(limit), met: ours <= limit }
}

export function buildRows(r: Results): Row[] {
  const rows: Row[] = []
  const ms = fmtMs

  // 1. detection latency
  const run = r.latency.running ?? []
  if (run.length) {
    const kub = pick(run, 'kubectl', (s) => s.latencyMs)?.median
    const seed = pick(run, 'seed', (s) => s.latencyMs)?.median
    const ours = pick(run, 'ours-watch', (s) => s.latencyMs)?.median
    rows.push(
      ...perContender(run, { fig: '1', measure: 'Exit latency, pod Running: Running write → exit', fmt: ms }, (s) => s.latencyMs, {
        judge: (id) => {
          if (id !== 'ours-watch') return undefined
          const a = target(ours, kub === undefined ? undefined : kub + 5, (l) => `p50 ≤ kubectl's + 5 ms (${ms(l)})`)
          const b = target(ours, seed === undefined ? undefined : seed / 10, (l) => `≤ seed loop / 10 (${ms(l)})`)
          return { target: `${a.target}; ${b.target}`, met: a.met === undefined || b.met === undefined ? undefined : a.met && b.met }
        }
      }),
      ...perContender(
        run,
        { fig: '1', measure: "Running write → ours' decision (its progress line; the rest is report and exit)", fmt: ms },
        (s) => s.decisionLineMs,
        { only: (id) => id.startsWith('ours') }
      )
    )
  }
  const comp = r.latency.completion ?? []
  if (comp.length) {
    const kub = pick(comp, 'kubectl', (s) => s.latencyMs)?.median
    const ours = pick(comp, 'ours-watch', (s) => s.latencyMs)?.median
    rows.push(
      ...perContender(comp, { fig: '1', measure: "Exit latency, completion: pod's Succeeded write → exit", fmt: ms }, (s) => s.latencyMs, {
        judge: (id) => (id === 'ours-watch' ? target(ours, kub, (l) => `≤ kubectl (${ms(l)})`) : undefined)
      }),
      ...perContender(
        comp,
        { fig: '1', measure: "pod's Succeeded write → ours' decision (its progress line)", fmt: ms },
        (s) => s.decisionLineMs,
        { only: (id) => id.startsWith('ours') }
      )
    )
    rows.push({
      fig: '1',
      measure: "Job controller: pod's Succeeded write → its first Job status write (SuccessCriteriaMet)",
      who: '(kube-controller-manager)',
      stat: stat(comp.filter((s) => s.ok).map((s) => s.controllerFirstMs ?? NaN)),
      fmt: ms
    })
    rows.push({
      fig: '1',
      measure: "Job controller: pod's Succeeded write → its last Job status write (Complete)",
      who: '(kube-controller-manager)',
      stat: stat(comp.filter((s) => s.ok).map((s) => s.controllerMs ?? NaN)),
      fmt: ms
    })
    const kubEnd = pick(comp, 'kubectl', (s) => s.endsOnJobWriteMs)?.median
    rows.push(
      ...perContender(
        comp,
        {
          fig: '1',
          measure: 'Exit latency, completion: the Job status write it ends on → exit (ours: SuccessCriteriaMet; the others: Complete)',
          fmt: ms
        },
        (s) => s.endsOnJobWriteMs,
        {
          only: (id) => id !== 'ours-watch-phase',
          judge: (id, st) =>
            id === 'ours-watch'
              ? target(st?.median, kubEnd === undefined ? undefined : kubEnd + 5, (l) => `p50 ≤ kubectl's + 5 ms (${ms(l)})`)
              : undefined
        }
      )
    )
    const oursNet = pick(comp, 'ours-watch', (s) => s.afterJobWriteMs)?.median
    const seedNet = pick(comp, 'seed', (s) => s.afterJobWriteMs)?.median
    rows.push(
      ...perContender(
        comp,
        { fig: '1', measure: "Exit latency, completion: Job controller's first status write → exit", fmt: ms },
        (s) => s.afterJobWriteMs,
        {
          only: (id) => id !== 'ours-watch-phase',
          judge: (id) =>
            id === 'ours-watch'
              ? target(oursNet, seedNet === undefined ? undefined : seedNet / 10, (l) => `≤ seed loop / 10 (${ms(l)})`)
              : undefined
        }
      )
    )
  }

  // 2. API cost of a wait
  if (r.api.length) {
    const wait = String(r.config.waitSeconds)
    rows.push(
      ...perContender(
        r.api,
        { fig: '2', measure: `API requests, ${wait} s wait for completion (1 pod)`, fmt: fmtCount },
        (s) => s.requests,
        {
          judge: (id) =>
            id === 'ours-watch'
              ? target(
                  maxOf(r.api, id, (s) => s.requests),
                  6,
                  (l) => `≤ ${l} in every run (max)`
                )
              : undefined
        }
      ),
      ...perContender(
        r.api,
        { fig: '2', measure: `Bytes the API server sent (TLS included), ${wait} s wait`, fmt: fmtBytes },
        (s) => s.bytesDown
      ),
      ...perContender(
        r.api,
        { fig: '2', measure: `TCP connections per wait (each one a TLS handshake), ${wait} s wait, no fault`, fmt: fmtCount },
        (s) => s.connections,
        {
          judge: (id) =>
            id === 'ours-watch' || id === 'ours-poll'
              ? target(
                  maxOf(r.api, id, (s) => s.connections),
                  1,
                  (l) => `${l} in every run (max)`
                )
              : undefined
        }
      )
    )
  }

  // 3. process cost
  if (r.process.length) {
    const wait = String(r.config.waitSeconds)
    const pods = String(r.config.processPods)
    const kCpu = pick(r.process, 'kubectl', (s) => s.cpuS)?.median
    const kRss = pick(r.process, 'kubectl', (s) => s.maxRssKB)?.median
    rows.push(
      ...perContender(
        r.process,
        { fig: '3', measure: `CPU (user+sys), ${wait} s wait on ${pods} running pods`, fmt: fmtCpu },
        (s) => s.cpuS,
        {
          judge: (id, st) =>
            id === 'ours-watch'
              ? target(st?.median, kCpu === undefined ? undefined : kCpu * 2, (l) => `≤ 2× kubectl (${fmtCpu(l)})`)
              : undefined
        }
      ),
      ...perContender(r.process, { fig: '3', measure: `Peak RSS, ${wait} s wait on ${pods} running pods`, fmt: fmtMB }, (s) => s.maxRssKB, {
        judge: (id, st) =>
          id === 'ours-watch'
            ? target(st?.median, kRss === undefined ? undefined : kRss * 2, (l) => `≤ 2× kubectl (${fmtMB(l)})`)
            : undefined
      }),
      ...perContender(r.process, { fig: '3', measure: `API requests, same wait`, fmt: fmtCount }, (s) => s.requests),
      ...perContender(r.process, { fig: '3', measure: `Bytes the API server sent, same wait`, fmt: fmtBytes }, (s) => s.bytesDown)
    )
  }

  // 4. start-up
  const st = r.startup ?? {}
  // ours cold against kubectl cold, warm against warm (lib/startup.ts says what each means, the same for both)
  const kubectlLike = (who: string) => who.replace(/^ours, /, 'kubectl wait, ')
  for (const [who, xs] of Object.entries(st)) {
    const row: Row = { fig: '4', measure: 'Start-up: spawn → first API request (local HTTPS server)', who, stat: stat(xs), fmt: ms }
    if (who.startsWith('ours, ')) {
      const k = stat(st[kubectlLike(who)] ?? [])?.median
      Object.assign(
        row,
        target(row.stat?.median, k === undefined ? undefined : k * 1.5, (l) => `≤ 1.5× kubectl wait, the same (${ms(l)})`)
      )
    }
    rows.push(row)
  }
  const lat = [...run, ...comp]
  if (lat.length) {
    for (const g of byContender(lat)) {
      if (g.id === 'ours-watch-phase') continue
      const note = g.id === 'e2e' ? ' (its first check comes 2 s after the start, by design)' : ''
      rows.push({
        fig: '4',
        measure: `Start-up in the latency runs: spawn → first request received by the API server${note}`,
        who: g.label,
        stat: pick(lat, g.id, (s) => s.startupMs),
        fmt: ms
      })
    }
  }
  const whats = [...new Set(r.floor.map((f) => f.what))]
  const fl = (w: string, f: (s: Results['floor'][number]) => number) => stat(r.floor.filter((s) => s.what === w).map(f))
  for (const w of whats)
    rows.push({ fig: '4', measure: 'Start and exit, no waiting: wall time', who: w, stat: fl(w, (s) => s.wallMs), fmt: ms })
  for (const w of whats)
    rows.push({ fig: '4', measure: 'Start and exit, no waiting: CPU (user+sys)', who: w, stat: fl(w, (s) => s.cpuS), fmt: fmtCpu })
  for (const w of whats)
    rows.push({ fig: '4', measure: 'Start and exit, no waiting: peak RSS', who: w, stat: fl(w, (s) => s.maxRssKB), fmt: fmtMB })
  const one = (x: number): Stat => ({ median: x, p90: x, min: x, max: x, n: 1 })
  rows.push({
    fig: '4',
    measure: 'Size on disk',
    who: `ours: dist/ (${Object.keys(r.bundle.files).length} .js file(s))`,
    stat: one(r.bundle.bytes),
    fmt: fmtBytes,
    ...target(r.bundle.bytes, r.kubectl.bytes * 2, (l) => `≤ 2× kubectl (${fmtBytes(l)})`)
  })
  rows.push({ fig: '4', measure: 'Size on disk', who: `kubectl ${r.kubectl.version}`, stat: one(r.kubectl.bytes), fmt: fmtBytes })

  // 5. scale
  if (r.scale.length) rows.push(...scaleRows(r.scale))
  rows.push(...severalRows(r))
  rows.push(...stallRows(r))
  return rows
}

const SCALE_WHO: Record<ScaleKind, string> = {
  phase: 'ours (watch), phase Succeeded',
  condition: 'ours (watch), condition Complete',
  kubectl: 'kubectl wait --for=condition=complete',
  'kubectl-pods': 'kubectl get pods --watch -o name',
  floor: 'floor: node:http2 + JSON.parse of the pod watch'
}

const SCALE_MEASURE: Record<ScaleMeasure, string> = {
  cpu: 'CPU (user+sys)',
  rss: 'peak RSS',
  'per-pod': 'CPU per pod',
  latency: "last pod's Succeeded write (received by the API server) → exit"
}

/**
 * 5. Scale: per size, each contender's CPU, peak RSS, CPU per pod, and last
 * write → exit for those that end by themselves (lib/scale.ts). Targets
 * (issue 20): ours' CPU ≤ 1.5× kubectl get pods --watch and ≤ 2× the floor
 * at every size; CPU per pod at 10,000 within 1.25× of that at 1,000; peak
 * RSS ≤ 150 MiB at 5,000 pods and ≤ 200 MiB at 10,000; last write → exit ≤ 1
 * s at 10,000 (phase Succeeded: the condition waiters wait for the Job
 * controller too, and are set against kubectl wait).
 */
function scaleRows(all: ScaleSample[]): Row[] {
  const rows: Row[] = []
  const sizes = [...new Set(all.map((s) => s.size))].sort((a, b) => a - b)
  const sc = (size: number, kind: string, f: (s: ScaleSample) => number | undefined) =>
    stat(all.filter((s) => s.size === size && s.kind === kind && s.ok).map((s) => f(s) ?? NaN))
  const measured = SCALE_KINDS.filter((k) => all.some((s) => s.kind === k))
  const isOurs = (k: string) => k === 'phase' || k === 'condition'
  const perPodMs = (s: ScaleSample) => (s.cpuS * 1000) / s.size
  const RSS_LIMIT_MIB: Record<number, number> = { 5000: 150, 10000: 200 }
  for (const { size, measure, kind } of scaleLayout(sizes, measured)) {
    const row: Row = { fig: '5', measure: `${size} pods: ${SCALE_MEASURE[measure]}`, who: SCALE_WHO[kind], fmt: fmtMs }
    if (measure === 'cpu') {
      const pods = sc(size, 'kubectl-pods', (s) => s.cpuS)?.median
      const floor = sc(size, 'floor', (s) => s.cpuS)?.median
      Object.assign(row, { stat: sc(size, kind, (s) => s.cpuS), fmt: fmtCpu })
      if (isOurs(kind)) {
        const a = target(row.stat?.median, pods === undefined ? undefined : pods * 1.5, (l) => `≤ 1.5× kubectl get pods (${fmtCpu(l)})`)
        const b = target(row.stat?.median, floor === undefined ? undefined : floor * 2, (l) => `≤ 2× the floor (${fmtCpu(l)})`)
        Object.assign(row, {
          target: `${a.target}; ${b.target}`,
          met: a.met === undefined || b.met === undefined ? undefined : a.met && b.met
        })
      }
    } else if (measure === 'rss') {
      Object.assign(row, { stat: sc(size, kind, (s) => s.maxRssKB), fmt: fmtMB })
      const limit = RSS_LIMIT_MIB[size]
      if (isOurs(kind) && limit)
        Object.assign(
          row,
          target(row.stat?.median, limit * 1024, (l) => `≤ ${fmtMB(l)}`)
        )
    } else if (measure === 'per-pod') {
      Object.assign(row, { stat: sc(size, kind, perPodMs), fmt: fmtPerPod })
      const small = sc(1000, kind, perPodMs)?.median
      if (isOurs(kind) && size === 10000)
        Object.assign(
          row,
          target(row.stat?.median, small === undefined ? undefined : small * 1.25, (l) => `≤ 1.25× at 1000 (${fmtPerPod(l)})`)
        )
    } else {
      row.stat = sc(size, kind, (s) => s.latencyMs)
      const refused = all.filter((s) => s.size === size && s.kind === kind && s.latencyRefused)
      if (kind === 'phase' && size === 10000)
        Object.assign(
          row,
          target(row.stat?.median, 1000, (l) => `≤ ${fmtMs(l)}`)
        )
      if (kind === 'condition')
        Object.assign(
          row,
          target(row.stat?.median, sc(size, 'kubectl', (s) => s.latencyMs)?.median, (l) => `≤ kubectl wait (${fmtMs(l)})`)
        )
      // a refused run is said, never turned into a figure
      if (refused.length)
        row.target = `${row.target ? `${row.target}; ` : ''}refused in ${refused.length} run(s): ${refused[0].latencyRefused}`
    }
    rows.push(row)
  }
  const missing = sizesNotRun(sizes)
  if (missing.length)
    rows.push({
      fig: '5',
      measure: `${missing.join(', ')} pods: the figure's targets`,
      who: 'all contenders',
      fmt: fmtMs,
      target: 'not run (BENCH_SCALE_SIZES)'
    })
  return rows
}

const fmtPerPod = (x: number): string => `${x.toFixed(2)} ms`

/** 8. A frozen connection: the freeze → a new connection, ours against kubectl wait; target ≤ 40 s in every run. */
function stallRows(r: Results): Row[] {
  const all = r.stall ?? []
  return byContender(all).flatMap((g): Row[] => [
    {
      fig: '8',
      measure: 'Open connections frozen: the freeze → a new connection',
      who: g.label,
      stat: pick(all, g.id, (s) => s.recoveryMs),
      fmt: fmtMs,
      ...(g.id.startsWith('ours')
        ? target(
            maxOf(all, g.id, (s) => s.recoveryMs),
            40_000,
            (l) => `≤ ${fmtMs(l)} in every run (max)`
          )
        : {})
    },
    { fig: '8', measure: 'Connections over the same wait', who: g.label, stat: pick(all, g.id, (s) => s.connections), fmt: fmtCount }
  ])
}

/** 7. Several Jobs: requests, latency, CPU and RSS of ours (selector) against kubectl wait -l, and ours on one Job. */
function severalRows(r: Results): Row[] {
  const all = r.several ?? []
  if (!all.length) return []
  const rows: Row[] = []
  const groups = byContender(all)
  const many = groups.find((g) => g.id.startsWith('ours') && g.items[0].jobs > 1)
  const kub = groups.find((g) => g.id.startsWith('kubectl'))
  const one = groups.find((g) => g.id.startsWith('ours') && g.items[0].jobs === 1)
  const shape = many ? `${many.items[0].jobs} jobs × ${many.items[0].pods} pods` : 'several jobs'
  const oneReq = one ? pick(all, one.id, (s) => s.requests)?.median : undefined
  rows.push(
    ...perContender(all, { fig: '7', measure: `${shape}, all Complete: API requests over the wait`, fmt: fmtCount }, (s) => s.requests, {
      judge: (id) =>
        id === many?.id
          ? target(
              maxOf(all, id, (s) => s.requests),
              oneReq === undefined ? undefined : oneReq + 2,
              (l) => `≤ one job's + 2 (${fmtCount(l)}) in every run (max)`
            )
          : undefined
    })
  )
  const kLat = kub ? pick(all, kub.id, (s) => s.latencyMs)?.median : undefined
  for (const g of [many, kub].filter((x) => x !== undefined)) {
    const row: Row = {
      fig: '7',
      measure: `${shape}: the last Job's decisive write → exit`,
      who: g.label,
      stat: pick(all, g.id, (s) => s.latencyMs),
      fmt: fmtMs
    }
    if (g === many)
      Object.assign(
        row,
        target(row.stat?.median, kLat, (l) => `≤ kubectl (${fmtMs(l)})`)
      )
    rows.push(row)
  }
  rows.push(
    ...perContender(all, { fig: '7', measure: `${shape}: CPU (user+sys)`, fmt: fmtCpu }, (s) => s.cpuS),
    ...perContender(all, { fig: '7', measure: `${shape}: peak RSS`, fmt: fmtMB }, (s) => s.maxRssKB)
  )
  return rows
}

export function renderTable(rows: Row[]): string {
  const out = ['| # | Measure | Contender | Median | p90 | Min | Max | n | Target |', '|---|---|---|---:|---:|---:|---:|---:|---|']
  for (const r of rows) {
    const s = r.stat
    const v = (x: number | undefined) => (s && x !== undefined ? r.fmt(x) : '–')
    const t = r.target ? `${r.target}${r.met === undefined ? '' : r.met ? ': **met**' : ': **MISSED**'}` : ''
    out.push(`| ${r.fig} | ${r.measure} | ${r.who} | ${v(s?.median)} | ${v(s?.p90)} | ${v(s?.min)} | ${v(s?.max)} | ${s?.n ?? 0} | ${t} |`)
  }
  return out.join('\n')
}

function growth(r: Results): string[] {
  const sizes = [...new Set(r.scale.map((s) => s.size))].sort((a, b) => a - b)
  if (sizes.length < 2) return []
  const med = (size: number, kind: string, f: (s: ScaleSample) => number) =>
    stat(r.scale.filter((s) => s.size === size && s.kind === kind && s.ok).map(f))?.median ?? NaN
  const lines: string[] = []
  const describe = (
    name: string,
    f: (s: ScaleSample) => number,
    kind: string,
    unit: (x: number) => string,
    perPod: (d: number) => string
  ) => {
    const m = sizes.map((s) => med(s, kind, f))
    if (m.every((x) => !Number.isFinite(x))) return
    const steps = sizes.slice(1).map((s, i) => `${sizes[i]}→${s} pods ×${(m[i + 1] / m[i]).toFixed(2)}`)
    const slope = (m[m.length - 1] - m[0]) / (sizes[sizes.length - 1] - sizes[0])
    lines.push(
      `- ${name}: ${sizes.map((s, i) => `${unit(m[i])} at ${s}`).join(', ')} (${steps.join(', ')}; about ${perPod(slope)} per extra pod)`
    )
  }
  describe(
    'peak RSS (phase waiter)',
    (s) => s.maxRssKB,
    'phase',
    fmtMB,
    (d) => `${d.toFixed(1)} KiB`
  )
  describe(
    'CPU (phase waiter)',
    (s) => s.cpuS,
    'phase',
    fmtCpu,
    (d) => `${(d * 1000).toFixed(2)} ms`
  )
  describe(
    'last write → exit, phase Succeeded',
    (s) => s.latencyMs,
    'phase',
    fmtMs,
    (d) => `${d.toFixed(3)} ms`
  )
  describe(
    'last write → exit, condition Complete',
    (s) => s.latencyMs,
    'condition',
    fmtMs,
    (d) => `${d.toFixed(3)} ms`
  )
  describe(
    'last write → exit, kubectl wait --for=condition=complete',
    (s) => s.latencyMs,
    'kubectl',
    fmtMs,
    (d) => `${d.toFixed(3)} ms`
  )
  for (const [kind, who] of [
    ['condition', 'ours, condition Complete'],
    ['kubectl', 'kubectl wait']
  ]) {
    describe(
      `peak RSS (${who})`,
      (s) => s.maxRssKB,
      kind,
      fmtMB,
      (d) => `${d.toFixed(1)} KiB`
    )
    describe(
      `CPU (${who})`,
      (s) => s.cpuS,
      kind,
      fmtCpu,
      (d) => `${(d * 1000).toFixed(2)} ms`
    )
  }
  describe(
    'Job run time (creation → last Succeeded write)',
    (s) => s.jobRunMs,
    'phase',
    (x) => `${(x / 1000).toFixed(1)} s`,
    (d) => `${d.toFixed(1)} ms`
  )
  return lines
}

function requestBreakdown(samples: CostSample[] | LatencySample[]): string[] {
  const lines: string[] = []
  for (const g of byContender(samples as Sample[] as CostSample[])) {
    const s = g.items.find((i) => i.ok) ?? g.items[0]
    const kinds = Object.entries(s.requestKinds)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ')
    lines.push(`- ${g.label} (run ${s.run}): ${s.requests} requests: ${kinds || 'none'}`)
  }
  return lines
}

const METHOD = `## How each figure is measured

All contenders run in the same benchmark run, against the same local control
plane (test/cluster: etcd, kube-apiserver and kube-controller-manager built from
source, a kubelet simulator that writes pod status from \`sim.kjw.dev/*\`
annotations). Each figure is the median of the runs, with p90 (nearest rank:
the smallest value with at least 90 % of the runs at or below it), min and
max; n is the number of successful runs. Results are written after every run
of a figure, so that an interrupted run keeps what it measured. Times are wall-clock \`Date.now()\` of the
benchmark, the simulator and the API server's audit log on the same machine.

- **Contenders.** *ours*: \`dist/index.js\` run as the runner runs it (Node 24,
  \`INPUT_*\` variables with action.yml's defaults, \`GITHUB_OUTPUT\` and
  \`GITHUB_STEP_SUMMARY\` files, credentials from \`KUBECONFIG\`), \`mode: watch\`
  and \`mode: poll\` (poll-interval 2s). *kubectl wait*: \`--for=condition=complete
  job/NAME\` for completion, \`--for=jsonpath={.status.phase}=Running pod -l
  batch.kubernetes.io/controller-uid=UID\` for Running (and \`=Succeeded\` for the
  process cost), with a fresh \`HOME\` (cold discovery cache) each time, as on a
  fresh runner. *seed loop* (bench/baselines/seed-loop.ts): every 1 s list pods
  by \`job-name\`, GET the first one, check its phase; for completion GET the Job
  every 1 s and check \`status.succeeded\`. *e2e helper*
  (bench/baselines/e2e-helper.ts): \`wait.PollWithContext\` style, every 2 s
  (first check after 2 s) list the pods and count those in the phase; for
  completion GET the Job every 2 s and check its Complete condition.
- **1. Exit latency.** One 1-pod Job per contender and run, contenders one
  at a time, in a rotating order; ours in watch mode and kubectl wait run
  BENCH_LATENCY_RUNS times (30), the others BENCH_RUNS times (10). The waiter starts once the pod exists. The
  decisive write is the simulator's status write (its \`t\` in
  \`sim-writes.jsonl\`, taken right after the write returned, so a fast watcher
  can even be slightly ahead of it): pod Running (start-ms 3000 to 5000, so
  every waiter is already waiting) or pod Succeeded (run-ms 3000 to 5000); the
  delay is random in each run so that the write falls anywhere within a
  poller's interval, as it would in real use. The decision is
  the waiter's process exit, the same for every contender. For ours the
  "decision" rows also show when it printed the progress line with its final
  message (what comes after it is writing the outputs and summary, and
  exiting). Condition waiters depend on the Job controller, which writes the
  Job's status about 1 s after the pod's terminal write (it batches pod
  updates), in two writes ~10-20 ms apart: \`SuccessCriteriaMet\` (which ours
  accepts as done), then \`Complete\` (which kubectl and the e2e helper wait
  for; the seed reads \`status.succeeded\`, set with it). Every condition
  waiter's figure includes that second. The "Job controller" rows show it (its
  \`jobs/status\` writes in the audit log), and the "Job controller's first
  status write → exit" rows take it out, from the first of the two writes for
  everyone. The "Job status write it ends on → exit" rows take each waiter
  from the write it waits for: ours from the first (SuccessCriteriaMet), the
  others from the last before their exit (Complete). "ours (watch), phase
  Succeeded" waits for the pod's phase instead and so does not wait for the
  controller.
- **2. API cost.** All contenders wait side by side for the same 1-pod Job
  whose pod runs BENCH_WAIT_SECONDS and then succeeds. Each connects through
  its own byte-counting TCP proxy (TLS passes through; bytes include TLS
  handshakes and framing), which connects to the API server from its own
  loopback address (127.0.1.N): requests are counted from the audit log by that
  source address (one per auditID, discovery included), TCP connections by the
  proxy (each accepted connection is one TCP + TLS handshake; HTTP/2 carries
  every request and watch of a connection as its streams).
- **3. Process cost.** Each contender waits alone, one after the other
  (the order rotated each run, BENCH_PROCESS_RUNS runs), on one Job of
  BENCH_PROCESS_PODS pods that run forever, for phase Succeeded (kubectl: the
  pods' jsonpath; "kubectl wait, job condition": the Job's Complete condition,
  never reading a pod), with timeout BENCH_WAIT_SECONDS: every waiter times
  out. CPU (user+sys) and peak RSS are the exited process's rusage from GNU
  \`/usr/bin/time\` (\`%U %S %M\`). Ours includes what it does after a timeout
  (reading events and logs for the report). One at a time, none shares the
  two cores or the API server with another waiter.
- **4. Start-up.** "Spawn → first API request (local HTTPS server)"
  (\`lib/startup.ts\`, also run alone by \`bench/startup.ts\`): a local HTTPS
  server on 127.0.0.1 (h2 and HTTP/1.1) answers 404 or an empty list; the time
  is taken in the harness, just before spawn() and when the server sees the
  first request's headers, and the child is killed then. BENCH_LATENCY_RUNS
  interleaved runs of: ours and \`kubectl wait --for=condition=complete
  job/x\`, each cold and warm, the same for both: cold is the first start of a
  copy of its files written just before (\`dist/\`, or the kubectl binary),
  with an empty HOME and TMPDIR of its own (a runner's first step after it
  downloaded the action or the tool); warm is the same copy started again with
  the same HOME and TMPDIR (kubectl keeps its discovery cache there; ours
  keeps nothing). The files are in the page cache both times, as on a runner
  that has just written them. Ours is set against kubectl wait cold against
  cold, warm against warm. And
  \`node -e\` making one HTTPS GET (the floor of any Node program). "Start-up
  in the latency runs": spawn time to the \`requestReceivedTimestamp\` of the
  contender's first request in the audit log, one process at a time. "Start and exit, no waiting": ours ending at once on an input error
  (no job name) with a fresh \`RUNNER_TEMP\` (as every run of ours here: a
  job's first step) and with the \`RUNNER_TEMP\` of an earlier run (a later step
  of the same job, which can reuse anything the action keeps there), a bare \`node -e 0\` and \`kubectl version --client\`, one at
  a time: the floor that figures 3 and 4 stand on. Sizes: every .js file of
  \`dist/\` (ours also needs the runner's Node, which every runner has) and the
  kubectl binary.
- **5. Scale.** Jobs of N pods (parallelism = completions = N, start-ms 200,
  run-ms 2000), one waiter alone on each Job, created just before it starts,
  one after the other on identical Jobs (order rotated each run): ours with
  \`phase: Succeeded\`, ours with \`condition: Complete\`, \`kubectl wait
  --for=condition=complete job/NAME\` (reads the Job only), \`kubectl get pods
  -l batch.kubernetes.io/controller-uid=UID --watch -o name\` (client-go
  decoding every pod) and the floor (bench/baselines/floor-watch.ts: node:http2
  and \`JSON.parse\` of the same pod watch). The last two never end by
  themselves: the harness ends them (SIGTERM) once the Job has completed, so
  they have CPU and peak RSS rows but no latency row. Latency: from the API
  server's receipt of the last pod's Succeeded write (\`requestReceivedTimestamp\`
  in the audit log, matched to the simulator's writes) to exit. Not the
  simulator's own time, taken when its PATCH returned: on a loaded machine the
  API server answers a write up to hundreds of ms after it has sent the change
  to watchers, and a fast waiter then seemed to exit before the write. The
  commit lies between receipt and answer, so the figure can only be too long.
  A waiter that exited before the receipt did not end on that write: the
  harness refuses the figure and says so in the table. CPU and peak RSS as in
  figure 3. Each Job is deleted with background propagation; the next one
  starts once the namespace has no pods left.
- **7. Several Jobs.** N Jobs of P pods each (\`BENCH_SEVERAL_JOBS\` ×
  \`BENCH_SEVERAL_PODS\`, 20 × 5 by default; start-ms 200, run-ms 4000), created
  together with one label, then, once their pods exist, one waiter: ours with
  \`selector\` and \`expected-jobs: N\`, \`condition: Complete\`; \`kubectl wait
  --for=condition=complete job -l\` with the same label; and ours on a single Job
  of P pods by name (the reference for the requests). One after the other
  (order rotated each run), each on fresh Jobs, after the pods of the one
  before are gone. Requests: the waiter's own in the audit log (user and
  User-Agent) from spawn to exit. Latency: from the last Job's decisive write
  (the latest, over the Jobs, of the Job controller's first status write after
  the Job's last pod Succeeded write: SuccessCriteriaMet, which ours ends on;
  kubectl waits for Complete, written 10-20 ms later in the same sync) to exit.
  CPU and peak RSS as in figure 3.
- **8. A frozen connection** (only with \`BENCH_FIGURES=stall\`). Each waiter,
  alone, waits for a 1-pod Job to complete through a TCP proxy that freezes,
  5 s after the waiter's first connection, every connection open then (no
  byte passes either way; they stay open) while new ones pass. Recovery: the
  freeze → the next connection the proxy accepts (polled every 20 ms). The pod
  succeeds BENCH_STALL_POD_SECONDS after its start: a waiter that recovered
  ends met.
`

function severalBreakdown(samples: SeveralSample[]): string[] {
  const out: string[] = []
  for (const g of byContender(samples)) {
    const s = g.items.find((i) => i.ok) ?? g.items[0]
    const kinds = Object.entries(s.requestKinds)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n} ${k}`)
    out.push(`- ${g.label} (run ${s.run}): ${s.requests} = ${kinds.join(', ') || 'none'}`)
  }
  return out
}

export function buildReport(r: Results): { table: string; markdown: string } {
  const rows = buildRows(r)
  r.rows = rows.map((x) => ({ ...x, fmt: undefined as never }))
  const table = renderTable(rows)
  const md: string[] = []
  md.push('# kube-job-wait benchmark', '')
  if (r.inProgress)
    md.push(
      `**Written while the run was going, after ${r.durationS} s** (or the run was stopped before its end): the figures below are those measured so far.`,
      ''
    )
  md.push(
    `${r.date}, ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryMiB} MiB, ${r.machine.os}, load average at start ${r.machine.loadAvgAtStart.join(' ')}; ` +
      `Kubernetes ${r.kubernetes}; Node ${r.node}; kubectl ${r.kubectl.version} (${r.kubectl.path}). ` +
      `Runs: ${r.config.runs}${r.config.latencyRuns !== undefined ? ` (ours in watch mode and kubectl in figure 1 and start-up: ${r.config.latencyRuns})` : ''} (scale: ${r.config.scaleRuns}), wait ${r.config.waitSeconds} s, process cost on ${r.config.processPods} pods, scale sizes ${(r.config.scaleSizes as number[]).join(', ')}` +
      `${r.config.severalJobs !== undefined ? `, several: ${r.config.severalJobs} jobs × ${r.config.severalPods} pods, ${r.config.severalRuns} run(s)` : ''}` +
      `; figures ${(r.config.figures as string[]).join(', ')}; took ${r.durationS} s.`,
    ''
  )
  md.push(table, '')
  const notes: string[] = []
  notes.push(
    `- Build measured: ${Object.entries(r.bundle.files)
      .map(([f, n]) => `${f} ${n} bytes`)
      .join(', ')}; sha256 ${r.bundle.sha256.slice(0, 12)}, built ${r.bundle.mtime}, git ${r.bundle.git}.`
  )
  if (r.bundle.changedDuringRun)
    notes.push(
      `- dist/ was rebuilt during the run: the figures are of the copy taken at the start (the sha256 above), not of the dist/ there now.`
    )
  if (r.kubectl.note) notes.push(`- ${r.kubectl.note}.`)
  const late = [...(r.latency.running ?? []), ...(r.latency.completion ?? [])].filter((s) => s.lateStart)
  if (late.length)
    notes.push(
      `- ${late.length} latency sample(s) where the waiter's first request came after the decisive write (it was not yet waiting; the figure says little): ${late.map((s) => `${s.label} run ${s.run}`).join(', ')}.`
    )
  if (r.api.length) notes.push('- Requests of one run of figure 2:', ...requestBreakdown(r.api).map((l) => `  ${l}`))
  if (r.process.length)
    notes.push(
      `- Requests of one run of figure 3 (${r.processPodsReady ?? '?'} of ${r.config.processPods} pods ready):`,
      ...requestBreakdown(r.process).map((l) => `  ${l}`)
    )
  if (r.several?.length) {
    notes.push('- Requests of one run of figure 7:', ...severalBreakdown(r.several).map((l) => `  ${l}`))
    const late = r.several.filter((s) => s.lateStart)
    if (late.length)
      notes.push(
        `- Figure 7: ${late.length} sample(s) whose first request came after the decisive write: ${late.map((s) => `${s.label} run ${s.run}`).join(', ')}.`
      )
  }
  const g = growth(r)
  if (g.length) notes.push('- Growth with the number of pods (medians):', ...g.map((l) => `  ${l}`))
  if (r.failures.length) notes.push('- Failures:', ...r.failures.map((f) => `  - ${f.split('\n')[0]}`))
  if (r.logs?.length) md.push(...logsSection(r.logs, r.config.logs as LogsConfig))
  if (notes.length) md.push('## Notes', '', ...notes, '')
  md.push(METHOD)
  return { table, markdown: md.join('\n') }
}
