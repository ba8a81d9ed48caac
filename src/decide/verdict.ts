// The one function that decides. Given what is known of the Job and its pods
// and what the user asked for, it says whether the wait is over and why, and
// on every end (met, failed, timeout, cancelled) it gives the final word:
// the message, the problems grouped by cause, and the warnings. It knows
// nothing of watches, timers or GitHub: everything about "when is the wait
// over, and what does that mean" is here, and unit-tested without a server.
import { formatDuration } from '../duration.js'
import {
  JOB_CONTROLLER,
  jobCondition,
  jobEnd,
  type JobEnd,
  type JobInfo,
  type PodInfo,
  type Snapshot,
  type Target,
  type WaitPhase,
  type Match,
  type PodIndex
} from '../model.js'
import { ALL_PHASES, CLASS_PODS, podsOf, WATCHED } from '../pod-table.js'
import { queuedIn } from './start.js'
import {
  autoscalerSaid,
  autoscalerText,
  groupCauses,
  heldBySidecar,
  podStatus,
  scalingUp,
  stuckSince,
  terminating,
  type CauseGroup,
  type Stuck
} from './explain.js'

export interface Rules {
  /** A pod stuck (image pull, config, crash loop) longer than this fails the wait; 0: never. */
  podErrorGraceMs: number
  /** The same for an Unschedulable pod no autoscaler is adding a node for; default podErrorGraceMs; 0: never. */
  unschedulableGraceMs?: number
  /** When the step started, by the API server's clock: a Job that finished long before is named. */
  stepStartedAt?: number
}

/** How the wait was ended from outside, when it was. */
export type Ending = { kind: 'timeout'; afterMs: number; fault?: string } | { kind: 'cancelled'; afterMs: number }

export interface VerdictNote {
  title: string
  message: string
}

export interface Verdict {
  state: 'waiting' | 'met' | 'failed' | 'timeout' | 'cancelled'
  /** One line: what was met, why it failed, or what is still missing ("2 of 3 pods Running"). */
  summary: string
  /** What stands in the way, pod by pod ("build-x7k Pending (ImagePullBackOff)"). */
  detail?: string
  /** The final word, for the outputs and the step's failure; the progress line while waiting. */
  message: string
  /** Pods in the target phase (phase targets). */
  count: number
  /** Pods needed (phase targets); 0 for conditions. */
  expected: number
  /** Why it failed or is not over, pod by pod, grouped by cause (final verdicts only). */
  problems: CauseGroup[]
  /** Things the reader should know that do not change the verdict (warnings). */
  notes: VerdictNote[]
  /** How the Job's end was known, when it decided: its condition, or the Job controller's events. */
  decidedBy?: JobEnd['from']
}

/** A pod ended a regular container but is kept Running this long: named as held by a sidecar. */
export const SIDECAR_GRACE_MS = 30_000
/** A Job that finished this long before the step started is named as stale. */
export const STALE_AFTER_MS = 60_000

const RANK: Record<string, number> = { Pending: 0, Running: 1, Succeeded: 2 }

/** Pods that count toward the target: by default Pending < Running < Succeeded, Failed only for Failed. */
export function reached(pod: PodInfo, phase: WaitPhase, match: Match): boolean {
  if (terminating(pod)) return false
  if (match === 'exact' || phase === 'Failed') return pod.phase === phase
  if (pod.phase === 'Failed' || pod.phase === 'Unknown') return false
  return RANK[pod.phase] >= RANK[phase]
}

/** How many pods to wait for when the user did not say: what the Job runs at once, or must complete. */
export function defaultExpectedCount(job: JobInfo, phase: WaitPhase): number {
  switch (phase) {
    case 'Pending':
    case 'Running': {
      const parallelism = job.parallelism ?? 1
      const toGo = job.completions === undefined ? Infinity : job.completions - job.succeeded
      return Math.max(1, Math.min(parallelism, toGo))
    }
    case 'Succeeded':
      return job.completions ?? 1
    case 'Failed':
      return 1
  }
}

function describe(pods: PodInfo[], max = 3, total = pods.length): string | undefined {
  if (total === 0) return undefined
  const shown = pods.slice(0, max).map((p) => {
    const r = podStatus(p)
    return `${p.name} ${p.phase}${r ? ` (${r})` : ''}`
  })
  if (total > max) shown.push(`${total - max} more`)
  return shown.join(', ')
}

/** The pods of these classes, described: only the few named are read. */
const describeIn = (pods: PodIndex, classes: number, max = 3) => describe(pods.pick(classes, max), max, pods.count(classes))

/** The phase classes (src/pod-table.ts) whose pods the rule accepts: the rule taken once per class, not once per pod. */
function classesWhere(rule: (p: PodInfo) => boolean): number {
  let classes = 0
  for (const c of CLASS_PODS) if (rule({ name: '', uid: '', ready: false, restarts: 0, containers: [], ...c.pod })) classes |= c.bit
  return classes
}

const reachedClasses = new Map<string, number>()
/** The classes of the pods that count toward a phase: taken once per target, not on every snapshot. */
function classesReaching(phase: WaitPhase, match: Match): number {
  const key = `${phase}/${match}`
  let classes = reachedClasses.get(key)
  if (classes === undefined) reachedClasses.set(key, (classes = classesWhere((p) => reached(p, phase, match))))
  return classes
}

const FAILED = classesWhere((p) => p.phase === 'Failed')
const SUCCEEDED = classesWhere((p) => p.phase === 'Succeeded')

const jobRef = (s: Snapshot) => `job ${s.namespace}/${s.name}`

/** A verdict before its final word (message, problems, notes) is added. */
type Judgement = Pick<Verdict, 'state' | 'summary' | 'count' | 'expected'> & Partial<Pick<Verdict, 'detail' | 'decidedBy'>>

function failedByJob(s: Snapshot, end: JobEnd, base: Pick<Verdict, 'count' | 'expected'>): Judgement {
  const why = [end.reason, end.message].filter(Boolean).join(': ')
  return {
    state: 'failed',
    summary: `${jobRef(s)} failed${why ? `: ${why}` : ''}`,
    detail: describeIn(podsOf(s), FAILED),
    decidedBy: end.from,
    ...base
  }
}

/** Every time here is the API server's: `now` too (the runner's clock corrected by the skew its Date header showed). */
function stuckVerdict(s: Snapshot, rules: Rules, now: number, base: Pick<Verdict, 'count' | 'expected'>): Judgement | undefined {
  const graceOf = (st: Stuck) =>
    st.grace === 'unschedulable' ? (rules.unschedulableGraceMs ?? rules.podErrorGraceMs) : rules.podErrorGraceMs
  const stuck: { pod: PodInfo; st: Stuck; forMs: number }[] = []
  for (const pod of podsOf(s).pick(WATCHED)) {
    const st = stuckSince(pod)
    if (!st) continue
    const grace = graceOf(st)
    const forMs = st.since ? now - Date.parse(st.since) : 0
    if (grace <= 0 || forMs < grace) continue
    // Not before autoscalers' events were read after the grace ended: one may have said a node is coming.
    if (
      st.grace === 'unschedulable' &&
      s.autoscalerEvents &&
      !(Date.parse(s.autoscalerEvents.readAt ?? '') >= Date.parse(st.since!) + grace)
    )
      continue
    stuck.push({ pod, st, forMs })
  }
  if (stuck.length === 0) return undefined
  const first = stuck[0]
  const more = stuck.length > 1 ? ` (and ${stuck.length - 1} more pod${stuck.length > 2 ? 's' : ''})` : ''
  const w = first.st.autoscaler
  const said = w ? `; ${autoscalerSaid(w)}` : ''
  return {
    state: 'failed',
    summary: `pod ${first.pod.name} stuck in ${first.st.reason} for ${formatDuration(first.forMs)}${more}${said}`,
    detail: describe(stuck.map((x) => x.pod)),
    ...base
  }
}

/** Unschedulable pods an autoscaler is adding a node for: progress, not trouble. */
function scaling(s: Snapshot): string | undefined {
  let first: ReturnType<typeof scalingUp>
  let n = 0
  for (const p of podsOf(s).pick(WATCHED)) {
    const w = scalingUp(p)
    if (!w || p.deleted) continue
    first ??= w
    n++
  }
  if (!first) return undefined
  return `${n > 1 ? `${n} pods ` : ''}waiting for a new node (${autoscalerText(first)})`
}

function conditionProgress(job: JobInfo): string {
  const of = job.completions !== undefined ? ` of ${job.completions}` : ''
  return `${job.active} active, ${job.succeeded}${of} succeeded, ${job.failed} failed`
}

/** Why a Job that is not over may never be: said in the progress line and on timeout. */
function hindrances(s: Snapshot, now: number): string[] {
  const out: string[] = []
  const job = s.job
  if (job?.managedBy && job.managedBy !== JOB_CONTROLLER) {
    out.push(`${jobRef(s)} is managed by ${job.managedBy}, not the Job controller: its pods may run in another cluster`)
  }
  for (const p of podsOf(s).pick(WATCHED)) {
    const held = heldBySidecar(p)
    if (!held || now - Date.parse(held.since) < SIDECAR_GRACE_MS) continue
    out.push(
      `pod ${p.name}: container ${held.ended} ended ${formatDuration(now - Date.parse(held.since))} ago but ${held.running} keeps the pod Running (a sidecar that is not a native one never lets the Job complete)`
    )
    break
  }
  return out
}

/** The state of the wait as it stands, ended from outside or not. */
function judge(s: Snapshot, target: Target, rules: Rules, now: number): Judgement {
  const job = s.job
  if (!job) return { state: 'waiting', summary: `${jobRef(s)} not found yet`, count: 0, expected: 0 }
  if (s.podsListed === false) return { state: 'waiting', summary: `${jobRef(s)} found; listing its pods`, count: 0, expected: 0 }
  const end = jobEnd(job, s.inferred)
  if (s.jobDeleted && !end) {
    return {
      state: 'waiting',
      summary: `${jobRef(s)} was deleted before it finished; waiting for it to be created again`,
      count: 0,
      expected: 0
    }
  }
  const suspended = job.suspend || jobCondition(job, 'Suspended') !== undefined

  if (target.kind === 'condition') {
    const base = { count: 0, expected: 0 }
    const c = target.condition
    if (c === 'Failed') {
      if (end?.state === 'failed')
        return { state: 'met', summary: `${jobRef(s)} failed (${end.reason ?? end.type})`, decidedBy: end.from, ...base }
      if (end?.state === 'complete')
        return { state: 'failed', summary: `${jobRef(s)} completed; it will not fail`, decidedBy: end.from, ...base }
    } else if (c === 'Suspended') {
      if (suspended && jobCondition(job, 'Suspended')) return { state: 'met', summary: `${jobRef(s)} is suspended`, ...base }
      if (end)
        return { state: 'failed', summary: `${jobRef(s)} finished (${end.type}) before it was suspended`, decidedBy: end.from, ...base }
      return { state: 'waiting', summary: `${jobRef(s)} not Suspended yet`, ...base }
    } else {
      if (end?.state === 'failed') return failedByJob(s, end, base)
      if (end?.state === 'complete') {
        return { state: 'met', summary: `${jobRef(s)} completed (${end.type}): ${conditionProgress(job)}`, decidedBy: end.from, ...base }
      }
    }
    const stuck = stuckVerdict(s, rules, now, base)
    if (stuck) return stuck
    const pending = ALL_PHASES & ~classesReaching('Running', 'at-least') & ~SUCCEEDED
    return {
      state: 'waiting',
      summary: `${jobRef(s)} not ${c} yet${suspended ? ` (suspended${queuedIn(s) ? `: ${queuedIn(s)}` : ''})` : ''}: ${conditionProgress(job)}`,
      detail: describeIn(podsOf(s), pending),
      ...base
    }
  }

  const expected = target.expectedCount ?? defaultExpectedCount(job, target.phase)
  const inPhase = classesReaching(target.phase, target.match)
  const missing = ALL_PHASES & ~inPhase
  let count = podsOf(s).count(inPhase)
  if (target.match === 'at-least') {
    // Pods may already be gone (TTL, pod GC): the Job's counters remember them.
    count = Math.max(count, target.phase === 'Failed' ? job.failed : job.succeeded)
  }
  const base = { count, expected }
  const what = `${count} of ${expected} pod${expected === 1 ? '' : 's'} ${target.phase}`
  if (end?.state === 'failed' && target.phase !== 'Failed') return failedByJob(s, end, base)
  const met = target.match === 'exact' ? count === expected : count >= expected
  if (met) return { state: 'met', summary: what, ...base }
  // The Job says it succeeded: with a successPolicy that takes fewer pods than completions.
  if (end?.state === 'complete' && target.phase === 'Succeeded' && target.expectedCount === undefined) {
    return { state: 'met', summary: `${jobRef(s)} completed (${end.reason ?? end.type}) with ${what}`, decidedBy: end.from, ...base }
  }
  if (end) {
    return {
      state: 'failed',
      summary: `${jobRef(s)} ${end.state === 'complete' ? 'completed' : 'failed'} with ${what}`,
      detail: describeIn(podsOf(s), missing),
      decidedBy: end.from,
      ...base
    }
  }
  const stuck = stuckVerdict(s, rules, now, base)
  if (stuck) return stuck
  return {
    state: 'waiting',
    summary: `${what}${suspended ? ` (${jobRef(s)} is suspended${queuedIn(s) ? `: ${queuedIn(s)}` : ''})` : ''}`,
    detail: describeIn(podsOf(s), missing),
    ...base
  }
}

/** Warnings that do not change the verdict: restarts, a stale Job, what holds a Job back. */
function notesFor(s: Snapshot, v: Judgement, rules: Rules, now: number): VerdictNote[] {
  const notes: VerdictNote[] = []
  const restarted = s.pods.filter((p) => p.restarts > 0)
  if (restarted.length) {
    const total = restarted.reduce((n, p) => n + p.restarts, 0)
    const names =
      restarted
        .slice(0, 5)
        .map((p) => `${p.name} (${p.restarts})`)
        .join(', ') + (restarted.length > 5 ? `, ${restarted.length - 5} more` : '')
    notes.push({ title: `${restarted.length} pod${restarted.length === 1 ? '' : 's'} restarted (${total} restarts)`, message: names })
  }
  const job = s.job
  const end = job ? jobEnd(job) : undefined
  const endedAt = Date.parse(job?.completionTime ?? end?.lastTransitionTime ?? '')
  if (
    (v.state === 'met' || v.state === 'failed') &&
    end &&
    rules.stepStartedAt !== undefined &&
    rules.stepStartedAt - endedAt > STALE_AFTER_MS
  ) {
    notes.push({
      title: `${jobRef(s)} finished before this step started`,
      message: `${jobRef(s)} finished ${formatDuration(rules.stepStartedAt - endedAt)} ago, before this step started: was it applied again unchanged? (kubectl apply leaves a finished Job as it is)`
    })
  }
  if (v.state === 'waiting' || v.state === 'timeout')
    for (const h of hindrances(s, now)) notes.push({ title: 'the Job may never finish', message: h })
  return notes
}

/**
 * The verdict. Without an ending: waiting, met or failed. With one (the
 * timeout or a cancel), the final word on a wait that did not end by itself;
 * an answer known by then (met, failed) still wins over a timeout.
 */
export function decide(s: Snapshot, target: Target, rules: Rules, now: number, ending?: Ending): Verdict {
  let v = judge(s, target, rules, now)
  if (v.state === 'waiting') {
    const why = [scaling(s), ...hindrances(s, now)].filter((x): x is string => x !== undefined)
    if (why.length) v = { ...v, detail: [v.detail, ...why].filter(Boolean).join('; ') }
  }
  if (ending && (v.state === 'waiting' || ending.kind === 'cancelled')) v = { ...v, state: ending.kind }
  const final = v.state !== 'waiting'
  return {
    ...v,
    message: message(s, v, ending),
    problems: final ? groupCauses(s.pods) : [],
    notes: final ? notesFor(s, v, rules, now) : []
  }
}

function message(s: Snapshot, v: Judgement, ending: Ending | undefined): string {
  const detail = v.detail ? `: ${v.detail}` : ''
  switch (v.state) {
    case 'met':
      return v.summary
    case 'failed':
      return `${v.summary}${v.detail ? ` (${v.detail})` : ''}`
    case 'timeout': {
      const after = formatDuration(ending?.afterMs ?? 0)
      if (s.synced !== false) return `timed out: ${v.summary} after ${after}${detail}`
      const fault = ending?.kind === 'timeout' ? ending.fault : undefined
      return `timed out: ${fault ? `the API server kept failing for ${after}: ${fault}` : `no answer from the API server in ${after}`}`
    }
    case 'cancelled':
      return `cancelled after ${formatDuration(ending?.afterMs ?? 0)}${s.synced !== false ? `: ${v.summary}` : ''}`
    default:
      return `${v.summary}${detail}`
  }
}
