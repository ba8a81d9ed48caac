// Several Jobs in one step: the verdict of each Job (./verdict.ts), combined.
// Pure, like the verdict: which Jobs count, whether the step is over, and
// the one message that says so. One Job named by the user is the verdict of
// that Job, unchanged.
import { formatDuration } from '../duration.js'
import { jobEnd, severalJobs, type Observed, type Snapshot, type Target } from '../model.js'
import { decide, type Ending, type Rules, type Verdict, type VerdictNote } from './verdict.js'

export interface Wanted {
  /** Jobs by name; empty with a selector */
  names: readonly string[]
  selector?: string
  /** with a selector: at least this many matching Jobs */
  expectedJobs: number
  /** end as soon as one Job fails */
  failFast: boolean
}

export interface JobVerdict {
  name: string
  snapshot: Snapshot
  verdict: Verdict
}

export interface Overall {
  state: Verdict['state']
  /** the one line for the outputs and the step's failure; the progress line while waiting */
  message: string
  /** the Jobs counted, in order, each with its own verdict (final ones when the step ended) */
  jobs: JobVerdict[]
  /** Jobs the selector matched that had finished before the step started: not counted */
  ignored: string[]
  /** pods in the target phase, summed over the Jobs */
  count: number
  notes: VerdictNote[]
}

/** A selector's Job that finished before the step started is an earlier run's: it does not count. */
function finishedBefore(s: Snapshot, rules: Rules): boolean {
  if (!s.job || rules.stepStartedAt === undefined) return false
  const end = jobEnd(s.job)
  const at = Date.parse(s.job.completionTime ?? end?.lastTransitionTime ?? '')
  return end !== undefined && !Number.isNaN(at) && at < rules.stepStartedAt
}

/**
 * Jobs still short named in a progress line: it is printed on every change,
 * and 20 Jobs named each time made lines of 2 KB (a 6 s wait logged 220 KB).
 */
const PROGRESS_JOBS = 3

const ref = (j: JobVerdict) => `${j.snapshot.namespace}/${j.name}`
/** A Job's own message, with the Job named when the message does not name it (a stuck pod). */
const named = (j: JobVerdict) => (j.verdict.message.startsWith('job ') ? j.verdict.message : `job ${ref(j)}: ${j.verdict.message}`)
const ended = (v: Verdict) => v.state === 'met' || v.state === 'failed'

export function decideJobs(observed: Observed, wanted: Wanted, target: Target, rules: Rules, now: number, ending?: Ending): Overall {
  const snapshots = observed.jobs
  // One Job by name: its verdict is the answer, word for word.
  if (!severalJobs(wanted)) {
    const s = snapshots.find((x) => x.name === wanted.names[0]) ?? {
      namespace: '',
      name: wanted.names[0],
      jobDeleted: false,
      synced: observed.synced,
      pods: []
    }
    const verdict = decide(s, target, rules, now, ending)
    return {
      state: verdict.state,
      message: verdict.message,
      jobs: [{ name: s.name, snapshot: s, verdict }],
      ignored: [],
      count: verdict.count,
      notes: verdict.notes
    }
  }

  const ignored: string[] = []
  const counted: Snapshot[] = []
  for (const s of snapshots) {
    if (wanted.selector && (!s.job || finishedBefore(s, rules))) {
      if (s.job) ignored.push(s.name)
      continue
    }
    counted.push(s)
  }
  let jobs = counted.map((s) => ({ name: s.name, snapshot: s, verdict: decide(s, target, rules, now) }))
  const failed = jobs.filter((j) => j.verdict.state === 'failed')
  const met = jobs.filter((j) => j.verdict.state === 'met')
  const enough = wanted.selector ? jobs.length >= wanted.expectedJobs : true
  const allEnded = jobs.every((j) => ended(j.verdict))
  const count = () => jobs.reduce((n, j) => n + j.verdict.count, 0)
  const notes = () => jobs.flatMap((j) => j.verdict.notes.map((n) => ({ ...n, title: `${ref(j)}: ${n.title}` })))
  const total = wanted.selector ? Math.max(wanted.expectedJobs, jobs.length) : jobs.length

  let state: Verdict['state'] = 'waiting'
  let message: string
  if (failed.length && (wanted.failFast || (enough && allEnded))) {
    state = 'failed'
    const others = jobs
      .filter((j) => j !== failed[0])
      .map((j) => `${ref(j)} ${j.verdict.state === 'waiting' ? `waiting (${j.verdict.summary})` : j.verdict.state}`)
    message = `${named(failed[0])}${failed.length > 1 ? ` (${failed.length} of ${jobs.length} jobs failed)` : ''}${others.length ? `; ${others.join(', ')}` : ''}`
  } else if (enough && allEnded && jobs.length) {
    state = 'met'
    message = `${jobs.length} jobs met: ${jobs.map((j) => `${ref(j)} (${j.verdict.summary.replace(/^job \S+ /, '')})`).join(', ')}`
  } else {
    const short = jobs
      .filter((j) => !ended(j.verdict))
      .map((j) => `${ref(j)}: ${j.verdict.summary}${j.verdict.detail ? ` (${j.verdict.detail})` : ''}`)
    const missing = wanted.selector && !enough ? [`${jobs.length} of ${wanted.expectedJobs} jobs matching ${wanted.selector} found`] : []
    // The progress line names a few; the final word (timeout, cancel) names every Job still short.
    const listed =
      ending || short.length <= PROGRESS_JOBS ? short : [...short.slice(0, PROGRESS_JOBS), `${short.length - PROGRESS_JOBS} more waiting`]
    message = `${met.length} of ${total} jobs met; ${[...missing, ...listed].join('; ')}`
  }

  if (state === 'waiting' && ending) {
    state = ending.kind
    // Each Job still short gets its own final word.
    jobs = jobs.map((j) => (ended(j.verdict) ? j : { ...j, verdict: decide(j.snapshot, target, rules, now, ending) }))
    const after = formatDuration(ending.afterMs)
    if (!observed.synced)
      message =
        ending.kind === 'cancelled'
          ? `cancelled after ${after}`
          : `timed out: ${ending.fault ? `the API server kept failing for ${after}: ${ending.fault}` : `no answer from the API server in ${after}`}`
    else message = `${ending.kind === 'timeout' ? 'timed out' : 'cancelled'} after ${after}: ${message}`
  }
  return { state, message, jobs, ignored, count: count(), notes: state === 'waiting' ? [] : notes() }
}
