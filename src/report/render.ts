// Pure renderings of an Outcome: the outputs, the progress line, and the pod
// rows and order that the summary (summary.ts, the markdown) shares with
// them. Nothing here writes anywhere, and nothing here is markdown.
import { formatDuration } from '../duration.js'
import { podStatus, terminating } from '../decide/explain.js'
import type { Verdict } from '../decide/verdict.js'
import type { PodInfo, Snapshot } from '../model.js'
import { exitCodeOf, exitCodes } from './exit-code.js'
import type { Outcome } from './outcome.js'

export interface PodRow {
  name: string
  phase: string
  node: string | null
  startTime: string | null
  restarts: number
  reason: string | null
  index?: string
  /** gone from the API server: the row is its last state */
  deleted?: boolean
  /** container name → exit code of each terminated container, init containers included */
  exitCodes?: Record<string, number>
}

export function podRow(p: PodInfo): PodRow {
  return {
    name: p.name,
    phase: terminating(p) ? 'Terminating' : p.phase,
    node: p.node ?? null,
    startTime: p.startTime ?? null,
    restarts: p.restarts,
    reason: podStatus(p) ?? null,
    ...(p.completionIndex !== undefined ? { index: p.completionIndex } : {}),
    ...(p.deleted ? { deleted: true } : {}),
    ...withExitCodes(p)
  }
}

function withExitCodes(p: PodInfo): Pick<PodRow, 'exitCodes'> {
  const codes = exitCodes(p)
  return codes ? { exitCodes: codes } : {}
}

/** Pods in a stable order: by completion index, then creation, then name. */
export function sortedPods(s: Snapshot | undefined): PodInfo[] {
  return [...(s?.pods ?? [])].sort(
    (a, b) =>
      Number(a.completionIndex ?? 0) - Number(b.completionIndex ?? 0) ||
      (a.creationTimestamp ?? '').localeCompare(b.creationTimestamp ?? '') ||
      a.name.localeCompare(b.name)
  )
}

/** The Job's counters and conditions, as the `job` output (and each entry of `jobs`) has them. */
function jobJson(s: Snapshot | undefined): object | null {
  const job = s?.job
  if (!job) return null
  return {
    name: job.name,
    namespace: job.namespace,
    uid: job.uid,
    active: job.active,
    ready: job.ready,
    succeeded: job.succeeded,
    failed: job.failed,
    terminating: job.terminating,
    deleted: s.jobDeleted,
    conditions: job.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason ?? null, message: c.message ?? null })),
    // An end the API server never showed us, inferred from the Job controller's events.
    inferred: s.inferred
      ? {
          type: s.inferred.condition.type,
          reason: s.inferred.condition.reason ?? null,
          message: s.inferred.condition.message ?? null,
          source: s.inferred.source
        }
      : null
  }
}

/** GitHub takes at most 1 MB per output: longer JSON is cut to whole entries, with a note. */
export const MAX_OUTPUT = 1_000_000

/**
 * A JSON array ('[]') or object ('{}') of these pieces (each an item's JSON,
 * or `"key":value` for an object), cut to whole entries with a note when the
 * whole is longer than MAX_OUTPUT. Each item is rendered once and the cut is
 * found from the pieces' lengths: at 10,000 pods the whole is over 1 MB, and
 * this runs on the way out.
 */
export function cutJson<T>(items: readonly T[], piece: (item: T) => string, note: (kept: number) => string, brackets: '[]' | '{}'): string {
  const pieces = items.map(piece)
  // ends[k]: the length of the first k pieces, each with the comma after it
  const ends = [0]
  for (const p of pieces) ends.push(ends[ends.length - 1] + p.length + 1)
  const join = (parts: string[]) => `${brackets[0]}${parts.join(',')}${brackets[1]}`
  if (Math.max(0, ends[pieces.length] - 1) + 2 <= MAX_OUTPUT) return join(pieces)
  const fits = (k: number) => ends[k] + note(k).length + 2 <= MAX_OUTPUT
  // The most entries that fit with the note: a longer prefix never takes a shorter note.
  let lo = 0
  let hi = pieces.length
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (fits(mid)) lo = mid
    else hi = mid - 1
  }
  return join([...pieces.slice(0, lo), note(lo)])
}

/** An object's entries as JSON.stringify(Object.fromEntries(entries)) orders and keeps them. */
const objectEntries = <V>(entries: [string, V][]): [string, V][] => Object.entries(Object.fromEntries(entries))
const member = ([k, v]: [string, unknown]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`

/** The Jobs of an Outcome, one or several, each with its verdict and snapshot. */
function reportsOf(o: Outcome): { name: string; verdict?: Verdict; snapshot?: Snapshot }[] {
  if (o.jobs) return o.jobs
  return o.job ? [{ name: o.job, verdict: o.verdict, snapshot: o.snapshot }] : []
}

export function outputs(o: Outcome): Record<string, string> {
  const reports = reportsOf(o)
  const several = o.jobs !== undefined
  // Several Jobs: each pod names its Job.
  const rows = reports.flatMap((r) => sortedPods(r.snapshot).map((p) => ({ ...podRow(p), ...(several ? { job: r.name } : {}) })))
  const cutName = (kept: number) => `…${rows.length - kept} more pods not listed: the output is limited to 1 MB`
  const jobs = Object.fromEntries(
    reports.map((r) => [
      r.name,
      {
        result: r.verdict?.state ?? o.result,
        message: r.verdict?.message ?? o.message,
        count: r.verdict?.count ?? 0,
        phases: Object.fromEntries(sortedPods(r.snapshot).map((p) => [p.name, podRow(p).phase])),
        job: jobJson(r.snapshot)
      }
    ])
  )
  return {
    result: o.result,
    message: o.message,
    count: String(several ? (o.count ?? 0) : (o.verdict?.count ?? 0)),
    phases: cutJson(objectEntries(rows.map((r) => [r.name, r.phase])), member, (kept) => member([cutName(kept), 'cut']), '{}'),
    pods: cutJson(
      rows,
      (r) => JSON.stringify(r),
      (kept) => JSON.stringify({ name: cutName(kept) }),
      '[]'
    ),
    job: JSON.stringify(several ? null : jobJson(o.snapshot)),
    jobs: cutJson(
      Object.entries(jobs),
      member,
      (kept) => member(['…', `${reports.length - kept} more jobs not listed: the output is limited to 1 MB`]),
      '{}'
    ),
    created: JSON.stringify(o.created ?? []),
    deleted: JSON.stringify(o.deleted ?? []),
    'exit-code': String(exitCodeOf(o) ?? ''),
    elapsed: (o.elapsedMs / 1000).toFixed(1)
  }
}

/** "[1m12s] 2 of 3 pods Running: build-x7k Pending (ContainerCreating)" */
export function progressLine(message: string, elapsedMs: number): string {
  return `[${formatDuration(elapsedMs)}] ${message}`
}

/** "ns/name", or just the name when the namespace is not known (credentials failed). */
export const jobName = (o: Pick<Outcome, 'namespace' | 'job' | 'jobs'>): string => {
  const name = o.job ?? o.jobs?.map((j) => j.name).join(',') ?? ''
  return o.namespace ? `${o.namespace}/${name}` : name
}
