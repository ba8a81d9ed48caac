// The one function that decides. Given what is known of the Job and its pods
// and what the user asked for, it says whether the wait is over and why. It
// knows nothing of watches, timers or GitHub: everything about "when is the
// wait over" is here, and unit-tested without a server.
import { formatDuration } from '../duration.js'
import { podReason, type JobInfo, type PodInfo, type PodPhase, type Snapshot } from '../observe/model.js'

export type WaitPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed'
export type WaitCondition = 'Complete' | 'Failed' | 'Finished' | 'Suspended'
export type Match = 'at-least' | 'exact'

export type Target =
  { kind: 'phase'; phase: WaitPhase; expectedCount?: number; match: Match } | { kind: 'condition'; condition: WaitCondition }

export interface Rules {
  /** A pod stuck (image pull, config, unschedulable, crash loop) longer than this fails the wait; 0: never. */
  podErrorGraceMs: number
}

/** A pod that explains why the wait failed or is not over. */
export interface PodProblem {
  pod: string
  phase: PodPhase
  reason?: string
  message?: string
}

export interface Verdict {
  state: 'waiting' | 'met' | 'failed'
  /** One line: what was met, why it failed, or what is still missing ("2 of 3 pods Running"). */
  summary: string
  /** What stands in the way, pod by pod ("build-x7k Pending (ImagePullBackOff)"). */
  detail?: string
  /** Pods in the target phase (phase targets). */
  count: number
  /** Pods needed (phase targets); 0 for conditions. */
  expected: number
  problems: PodProblem[]
}

/** Waiting reasons that never resolve on their own; the Job controller does not count them as failures. */
export const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff'
])

const RANK: Record<string, number> = { Pending: 0, Running: 1, Succeeded: 2 }

export function jobCondition(job: JobInfo, type: string) {
  return job.conditions.find((c) => c.type === type && c.status === 'True')
}

/** The earliest final word on the Job: FailureTarget/SuccessCriteriaMet come before Failed/Complete (1.31+). */
export function jobOutcome(job: JobInfo): { state: 'failed' | 'complete'; type: string; reason?: string; message?: string } | undefined {
  for (const type of ['Failed', 'FailureTarget']) {
    const c = jobCondition(job, type)
    if (c) return { state: 'failed', type, reason: c.reason, message: c.message }
  }
  for (const type of ['Complete', 'SuccessCriteriaMet']) {
    const c = jobCondition(job, type)
    if (c) return { state: 'complete', type, reason: c.reason, message: c.message }
  }
  return undefined
}

/** Pods that count toward the target: by default Pending < Running < Succeeded, Failed only for Failed. */
export function reached(pod: PodInfo, phase: WaitPhase, match: Match): boolean {
  const terminating = pod.deletionTimestamp !== undefined && pod.phase !== 'Succeeded' && pod.phase !== 'Failed'
  if (terminating) return false
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

/** A pod stuck in a state that will not resolve by itself, and since when. */
export function stuckSince(pod: PodInfo): { reason: string; message?: string; since?: string } | undefined {
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed' || pod.deletionTimestamp) return undefined
  if (pod.unschedulable) {
    return { ...pod.unschedulable, since: pod.unschedulable.since ?? pod.creationTimestamp }
  }
  for (const c of pod.containers) {
    if (c.state !== 'waiting' || !c.reason || !STUCK_REASONS.has(c.reason)) continue
    // A crash loop is stuck from its last crash; the others from the pod's creation.
    const since = c.reason === 'CrashLoopBackOff' ? (c.lastFinishedAt ?? pod.creationTimestamp) : pod.creationTimestamp
    return { reason: c.reason, message: c.message, since }
  }
  return undefined
}

function problem(pod: PodInfo): PodProblem {
  const stuck = stuckSince(pod)
  const term = pod.containers.find((c) => c.state === 'terminated' && c.exitCode !== 0)
  return {
    pod: pod.name,
    phase: pod.phase,
    reason: podReason(pod),
    message: stuck?.message ?? pod.podMessage ?? term?.message
  }
}

function describe(pods: PodInfo[], max = 3): string | undefined {
  if (pods.length === 0) return undefined
  const shown = pods.slice(0, max).map((p) => {
    const r = podReason(p)
    return `${p.name} ${p.phase}${r ? ` (${r})` : ''}`
  })
  if (pods.length > max) shown.push(`${pods.length - max} more`)
  return shown.join(', ')
}

const jobRef = (s: Snapshot) => `job ${s.namespace}/${s.name}`

function failedByJob(s: Snapshot, job: JobInfo, outcome: NonNullable<ReturnType<typeof jobOutcome>>, base: Partial<Verdict>): Verdict {
  const failedPods = s.pods.filter((p) => p.phase === 'Failed')
  const why = [outcome.reason, outcome.message].filter(Boolean).join(': ')
  return {
    state: 'failed',
    summary: `${jobRef(s)} failed${why ? `: ${why}` : ''}`,
    detail: describe(failedPods),
    count: base.count ?? 0,
    expected: base.expected ?? 0,
    problems: failedPods.map(problem)
  }
}

function stuckVerdict(s: Snapshot, rules: Rules, now: number, base: Pick<Verdict, 'count' | 'expected'>): Verdict | undefined {
  if (rules.podErrorGraceMs <= 0) return undefined
  const stuck: { pod: PodInfo; reason: string; forMs: number }[] = []
  for (const pod of s.pods) {
    const st = stuckSince(pod)
    if (!st) continue
    const forMs = st.since ? now - Date.parse(st.since) : 0
    if (forMs >= rules.podErrorGraceMs) stuck.push({ pod, reason: st.reason, forMs })
  }
  if (stuck.length === 0) return undefined
  const first = stuck[0]
  const more = stuck.length > 1 ? ` (and ${stuck.length - 1} more pod${stuck.length > 2 ? 's' : ''})` : ''
  return {
    state: 'failed',
    summary: `pod ${first.pod.name} stuck in ${first.reason} for ${formatDuration(first.forMs)}${more}`,
    detail: describe(stuck.map((x) => x.pod)),
    ...base,
    problems: stuck.map((x) => problem(x.pod))
  }
}

function conditionProgress(job: JobInfo): string {
  const of = job.completions !== undefined ? ` of ${job.completions}` : ''
  return `${job.active} active, ${job.succeeded}${of} succeeded, ${job.failed} failed`
}

export function decide(s: Snapshot, target: Target, rules: Rules, now: number): Verdict {
  const job = s.job
  if (!job) {
    return { state: 'waiting', summary: `${jobRef(s)} not found yet`, count: 0, expected: 0, problems: [] }
  }
  const outcome = jobOutcome(job)
  if (s.jobDeleted && !outcome) {
    return {
      state: 'waiting',
      summary: `${jobRef(s)} was deleted before it finished; waiting for it to be created again`,
      count: 0,
      expected: 0,
      problems: []
    }
  }
  const suspended = job.suspend || jobCondition(job, 'Suspended') !== undefined

  if (target.kind === 'condition') {
    const base = { count: 0, expected: 0 }
    const c = target.condition
    if (c === 'Failed') {
      if (outcome?.state === 'failed')
        return { state: 'met', summary: `${jobRef(s)} failed (${outcome.reason ?? outcome.type})`, ...base, problems: [] }
      if (outcome?.state === 'complete')
        return { state: 'failed', summary: `${jobRef(s)} completed; it will not fail`, ...base, problems: [] }
    } else if (c === 'Suspended') {
      if (suspended && jobCondition(job, 'Suspended')) return { state: 'met', summary: `${jobRef(s)} is suspended`, ...base, problems: [] }
      if (outcome)
        return { state: 'failed', summary: `${jobRef(s)} finished (${outcome.type}) before it was suspended`, ...base, problems: [] }
      return { state: 'waiting', summary: `${jobRef(s)} not Suspended yet`, ...base, problems: [] }
    } else {
      if (outcome?.state === 'failed') return failedByJob(s, job, outcome, base)
      if (outcome?.state === 'complete') {
        return { state: 'met', summary: `${jobRef(s)} completed (${outcome.type}): ${conditionProgress(job)}`, ...base, problems: [] }
      }
    }
    const stuck = stuckVerdict(s, rules, now, base)
    if (stuck) return stuck
    const pending = s.pods.filter((p) => p.phase !== 'Succeeded' && !reached(p, 'Running', 'at-least'))
    return {
      state: 'waiting',
      summary: `${jobRef(s)} not ${c} yet${suspended ? ' (suspended)' : ''}: ${conditionProgress(job)}`,
      detail: describe(pending),
      ...base,
      problems: []
    }
  }

  const expected = target.expectedCount ?? defaultExpectedCount(job, target.phase)
  const inPhase = s.pods.filter((p) => reached(p, target.phase, target.match))
  let count = inPhase.length
  if (target.match === 'at-least') {
    // Pods may already be gone (TTL, pod GC): the Job's counters remember them.
    count = Math.max(count, target.phase === 'Failed' ? job.failed : job.succeeded)
  }
  const base = { count, expected }
  const what = `${count} of ${expected} pod${expected === 1 ? '' : 's'} ${target.phase}`
  if (outcome?.state === 'failed' && target.phase !== 'Failed') return failedByJob(s, job, outcome, base)
  const met = target.match === 'exact' ? count === expected : count >= expected
  if (met) return { state: 'met', summary: what, ...base, problems: [] }
  if (outcome) {
    return {
      state: 'failed',
      summary: `${jobRef(s)} ${outcome.state === 'complete' ? 'completed' : 'failed'} with ${what}`,
      ...base,
      detail: describe(s.pods.filter((p) => !reached(p, target.phase, target.match))),
      problems: []
    }
  }
  const stuck = stuckVerdict(s, rules, now, base)
  if (stuck) return stuck
  const missing = s.pods.filter((p) => !reached(p, target.phase, target.match))
  return {
    state: 'waiting',
    summary: `${what}${suspended ? ` (${jobRef(s)} is suspended)` : ''}`,
    detail: describe(missing),
    ...base,
    problems: []
  }
}
