// inputs → credentials → observe → decide → diagnose → clean-up, without
// GitHub: plain values in (raw inputs, a signal, what to do with text), plain
// values out (an Outcome, what the clean-up did). Each face (the action in
// src/github/, a command line) reads its inputs, renders the Outcome and owns
// the process (signals, the crash path); this file only orchestrates: a loop
// over snapshots, ended by a verdict or by the timeout or a cancel.
import type { Applied } from './create/create.js'
import { loadCredentials, maskKubeconfigInput, CredentialsError } from './credentials.js'
import { deleteJobs, shouldDelete, type Cleanup } from './cleanup.js'
import { decideJobs, type Overall, type Wanted } from './decide/jobs.js'
import { startHeldByAny } from './decide/start.js'
import type { Ending, Rules, Verdict } from './decide/verdict.js'
import type { CollectOptions, Diagnosis } from './diagnose/collect.js'
import { formatDuration } from './duration.js'
import { readSettings, InputError, type GetInput, type Settings } from './inputs.js'
import { KubeError } from './kube/errors.js'
import { KubeHttp } from './kube/http.js'
import { jobEnd, severalJobs, type Observed, type PodInfo, type Snapshot, type Target } from './model.js'
import { sleep } from './observe/backoff.js'
import type { LogFollower } from './observe/logs/follower.js'
import { observe, type Observation } from './observe/observe.js'
import { targetText, type JobReport, type Outcome } from './report/outcome.js'
import { progressLine } from './report/render.js'

export const USER_AGENT = 'kube-job-wait/0.1'

/** Tunables that are not inputs; tests shorten them. */
export interface Timing {
  requestTimeoutMs: number
  idleTimeoutMs: number
  unreachableGraceMs: number
  /** how often the verdict is re-taken without news (time-based rules) */
  tickMs: number
  /** a progress line at least this often */
  heartbeatMs: number
  /** the most that reading logs and events for the report may take */
  diagnosisMs: number
  /** the most that the one fresh LIST of pods for the report may take */
  refreshMs: number
  /** logs: follow, a finished Job: the most its open log streams are read on after the verdict */
  logDrainMs: number
  /** while pods are Unschedulable: autoscalers' events read at most this often (and a few times within unschedulable-grace) */
  autoscalerEventsMs: number
  /** while a Job is suspended: Kueue's Workloads read at most this often */
  workloadsMs: number
}

export const DEFAULT_TIMING: Timing = {
  requestTimeoutMs: 30_000,
  // The API server sends a bookmark about once a minute on a quiet watch.
  idleTimeoutMs: 90_000,
  unreachableGraceMs: 10_000,
  tickMs: 1_000,
  heartbeatMs: 30_000,
  diagnosisMs: 10_000,
  refreshMs: 3_000,
  logDrainMs: 2_000,
  autoscalerEventsMs: 15_000,
  workloadsMs: 15_000
}

/**
 * Where the engine's words go; the face decides how they look. Cluster text
 * (reasons, messages, log lines) and any line that quotes it goes to
 * `untrusted`, which must make it safe where it is shown (the action: the
 * stop-commands block; a terminal: no escape sequences).
 */
export interface EngineIO {
  /** a line of our own */
  info(text: string): void
  /** cluster text, or a line that quotes it; a string may hold several lines */
  untrusted(text: string | readonly string[]): void
  warning(message: string, props?: { title?: string }): void
  /** for whoever debugs the engine: stacks, retries */
  debug(message: string): void
  /** a value that must not be shown from now on (a token, a key) */
  secret(value: string): void
  /**
   * Every verdict taken while waiting, for a live status. Without it, a
   * progress line goes to `untrusted` when the picture changes and at least
   * every heartbeat.
   */
  progress?(overall: Overall, elapsedMs: number): void
  /** The first snapshot has come (the first request is out): what only the report needs may load now, beside the wait. */
  observing?(): void
}

/**
 * One wait, from raw inputs to the Jobs' clean-up. Its fields are what is
 * known so far, for the report on every path (an error may come at any step).
 * The face calls, in order: outcome() (or wait(), failed() with what it
 * threw, complete()), its report, cleanUp(), close(); on a crash, failed()
 * and complete() give the Outcome of what is known.
 */
export class WaitRun {
  readonly started = Date.now()
  readonly timing: Timing
  settings?: Settings
  namespace?: string
  http?: KubeHttp
  observation?: Observation
  /** manifest, from-cronjob: what the step created before the wait */
  created?: Applied
  /** logs: follow */
  follower?: LogFollower
  /** the environment credentials read (KUBECONFIG, HOME, in-cluster variables) */
  readonly env: NodeJS.ProcessEnv
  /** the folder a manifest's relative paths and globs start from */
  readonly workspace: string
  /** a kubeconfig file named on a command line (kubectl's --kubeconfig): it alone, before KUBECONFIG */
  readonly kubeconfigFile?: string

  constructor(
    readonly io: EngineIO,
    tuning: Partial<Timing> = {},
    where: { env?: NodeJS.ProcessEnv; workspace?: string; kubeconfigFile?: string } = {}
  ) {
    this.timing = { ...DEFAULT_TIMING, ...tuning }
    this.env = where.env ?? process.env
    this.workspace = where.workspace ?? process.cwd()
    this.kubeconfigFile = where.kubeconfigFile
  }

  /** wait(), or failed() with what it threw; then complete(): the Outcome on every path but a crash. */
  async outcome(input: GetInput, cancelled: AbortSignal): Promise<Outcome> {
    let outcome: Outcome
    try {
      outcome = await this.wait(input, cancelled)
    } catch (err) {
      outcome = this.failed(err)
    }
    return this.complete(outcome)
  }

  /** The wait and its diagnosis; throws what ends it in error (see failed()). */
  wait(input: GetInput, cancelled: AbortSignal): Promise<Outcome> {
    return waitAndDiagnose(input, this, cancelled)
  }

  /** result=error: bad input, credentials, an API error retrying cannot mend, or a bug. */
  failed(err: unknown): Outcome {
    return failure(err, this)
  }

  /** Fills in what the report shows of the run, from what is known; stops following logs. */
  complete(outcome: Outcome): Outcome {
    outcome.namespace ??= this.namespace
    outcome.created ??= this.created?.created
    if (this.settings && !several(this.settings)) outcome.job ??= this.settings.jobs[0]
    outcome.target ??= this.settings?.target
    outcome.mode ??= this.observation?.status.mode
    outcome.requests ??= this.http?.requests
    this.follower?.close()
    return outcome
  }

  /** Whether cleanUp() will delete Jobs (a face ends the watches first, before any request after the report). */
  deletes(outcome: Outcome): boolean {
    return this.settings !== undefined && shouldDelete(this.settings, outcome.result)
  }

  /** Ends the watches: before a request that follows the verdict. */
  async release(): Promise<void> {
    await this.observation?.close()
  }

  /** What becomes of the Jobs (inputs delete and on-cancel): after the report, so that a failure changes nothing of it. */
  async cleanUp(outcome: Outcome): Promise<Cleanup | undefined> {
    if (!this.settings || !this.http || !this.observation || !this.deletes(outcome)) return undefined
    await this.release()
    // With manifest or from-cronjob, the Jobs this step created, not one it adopted.
    const only = this.created?.created.map((c) => c.slice(c.indexOf('/') + 1))
    return deleteJobs(this.http, this.settings, outcome, this.observation.latest(), only)
  }

  /** Tidy up without waiting: no watch, request or timer left open. */
  close(): void {
    void this.observation?.close()
  }
}

async function waitAndDiagnose(input: GetInput, known: WaitRun, cancelled: AbortSignal): Promise<Outcome> {
  const { io, timing, started } = known
  const settings = (known.settings = readSettings(input))
  if (settings.prCommentToken) io.secret(settings.prCommentToken)
  maskKubeconfigInput(input('kubeconfig'), (s) => io.secret(s))
  const creds = loadCredentials(settings, { env: known.env, mask: (s) => io.secret(s), kubeconfigFile: known.kubeconfigFile })
  let namespace = (known.namespace = settings.namespace ?? creds.namespace)
  const http = (known.http = new KubeHttp(creds.auth, USER_AGENT, timing.requestTimeoutMs))
  if (settings.create) namespace = known.namespace = await create(settings, namespace, http, cancelled, known)
  io.info(
    `Waiting for ${targetText(settings.target)} of ${whatJobs(settings, namespace)} (timeout ${formatDuration(settings.timeoutMs)}; credentials: ${creds.source}, server ${creds.server})`
  )

  const overall = await waitForVerdict(settings, namespace, http, cancelled, known)
  const elapsedMs = Date.now() - started
  const diagnosable = (v: Verdict) => (v.state === 'failed' || v.state === 'timeout') && !cancelled.aborted
  const follower = known.follower
  const logSource: CollectOptions['logSource'] = settings.logs === 'none' ? 'none' : follower ? follower.tail.bind(follower) : 'read'
  // Reading logs and events: the watches end first, as before any request that follows the verdict.
  if (overall.jobs.some((j) => diagnosable(j.verdict))) await known.observation?.close()
  const diagnoseJob = async (j: Overall['jobs'][number]) => {
    if (!diagnosable(j.verdict)) return undefined
    const d = await diagnose(http, j.snapshot, j.verdict, settings.logLines, logSource, timing.diagnosisMs, cancelled, io)
    if (d && follower) d.notes.push(...follower.notes)
    return d
  }
  if (!several(settings)) {
    const [one] = overall.jobs
    return {
      result: overall.state as Outcome['result'],
      message: overall.message,
      verdict: one.verdict,
      snapshot: one.snapshot,
      elapsedMs,
      diagnosis: await diagnoseJob(one)
    }
  }
  const jobs: JobReport[] = await Promise.all(overall.jobs.map(async (j) => ({ ...j, diagnosis: await diagnoseJob(j) })))
  return {
    result: overall.state as Outcome['result'],
    message: overall.message,
    jobs,
    count: overall.count,
    notes: overall.notes,
    elapsedMs
  }
}

/** A Job the step was to create and did not: result=error with the one line that says why. */
class CreationError extends Error {}

/** manifest, from-cronjob: the Jobs created before the wait, whose names the wait then follows. */
async function create(settings: Settings, namespace: string, http: KubeHttp, cancelled: AbortSignal, known: WaitRun): Promise<string> {
  const bound = AbortSignal.any([cancelled, AbortSignal.timeout(Math.max(0, known.started + settings.timeoutMs - Date.now()))])
  // Loaded here: a plain wait (most steps) never reads a manifest.
  const { createJobs } = await import('./create/create.js')
  const made = await createJobs(settings.create!, { http, namespace, workspace: known.workspace, signal: bound })
  if (!made.ok) throw new CreationError(made.message)
  known.created = made.value
  settings.jobs = made.value.names
  for (const note of made.value.notes) known.io.info(note)
  if (made.value.created.length) known.io.info(`created ${made.value.created.map((c) => `job ${c}`).join(', ')}`)
  return made.value.namespace
}

const several = (s: Settings) => severalJobs({ names: s.jobs, selector: s.selector })

function whatJobs(s: Settings, namespace: string): string {
  if (s.selector) return `${s.expectedJobs > 1 ? `at least ${s.expectedJobs} jobs` : 'the jobs'} matching ${s.selector} in ${namespace}`
  return s.jobs.length === 1 ? `job ${namespace}/${s.jobs[0]}` : `jobs ${s.jobs.map((j) => `${namespace}/${j}`).join(', ')}`
}

/** The loop: a verdict on every snapshot until one is final, or the timeout or a cancel ends it. */
async function waitForVerdict(
  settings: Settings,
  namespace: string,
  http: KubeHttp,
  cancelled: AbortSignal,
  known: WaitRun
): Promise<Overall> {
  const { io, timing, started } = known
  const timedOut = new AbortController()
  const timer = setTimeout(() => timedOut.abort(), Math.max(0, started + settings.timeoutMs - Date.now()))
  // start-timeout: ends the wait when the pods have not started by then; the run's timeout counts on from the step's start.
  const start = startClock(settings, started)
  const observation = (known.observation = observe(
    {
      http,
      namespace,
      names: settings.jobs,
      selector: settings.selector,
      mode: settings.mode,
      pollIntervalMs: settings.pollIntervalMs,
      idleTimeoutMs: timing.idleTimeoutMs,
      unreachableGraceMs: timing.unreachableGraceMs,
      tickMs: timing.tickMs,
      // A few reads within a short grace, so that its end is not held long for the next one.
      autoscalerEventsMs:
        settings.unschedulableGraceMs > 0
          ? Math.min(timing.autoscalerEventsMs, Math.max(1_000, settings.unschedulableGraceMs / 4))
          : timing.autoscalerEventsMs,
      workloadsMs: timing.workloadsMs,
      onNote: (level, message) => (level === 'info' ? io.untrusted(message) : level === 'warning' ? io.warning(message) : io.debug(message))
    },
    AbortSignal.any([timedOut.signal, cancelled, start.expired])
  ))
  const wanted: Wanted = {
    names: settings.jobs,
    selector: settings.selector,
    expectedJobs: settings.expectedJobs,
    failFast: settings.failFast
  }
  // Rules compare the API server's timestamps with its time: the step's start and now by its clock
  // (ours corrected by the skew its Date header showed).
  const rules = (): Rules => ({
    podErrorGraceMs: settings.podErrorGraceMs,
    unschedulableGraceMs: settings.unschedulableGraceMs,
    stepStartedAt: started + http.serverClockSkewMs
  })
  const judge = (seen: Observed, ending?: Ending) =>
    decideJobs(seen, wanted, settings.target, rules(), Date.now() + http.serverClockSkewMs, ending)
  const progress = io.progress ? (o: Overall) => io.progress!(o, Date.now() - started) : progressLog(timing.heartbeatMs, started, io)
  // logs: follow — every container's log streamed beside the loop, never holding it up. Its code loads
  // with the first snapshot (the first request does not wait for it), and is given that snapshot's pods.
  let follower: LogFollower | undefined
  const follow = async () => {
    const { LogFollower } = await import('./observe/logs/follower.js')
    return (known.follower = new LogFollower({
      http,
      namespace,
      maxStreams: settings.logMaxStreams,
      tailLines: settings.logLines,
      write: (lines) => io.untrusted(lines),
      note: (message) => io.untrusted(message)
    }))
  }
  const ignored = new Set<string>()
  let overall: Overall | undefined
  try {
    try {
      // Not `for await`: leaving it would close the watches at once. They stay open past the verdict
      // when the report is all that remains (run() closes them after it: report first, tidy up after);
      // any request that follows the verdict closes them first.
      for (let next = await observation.snapshots.next(); !next.done; next = await observation.snapshots.next()) {
        const seen = next.value
        if (overall === undefined) io.observing?.()
        if (settings.logs === 'follow') follower ??= await follow()
        for (const s of seen.jobs) follower?.update(s)
        start.check(seen)
        overall = judge(seen)
        for (const name of overall.ignored) {
          if (ignored.has(name)) continue
          ignored.add(name)
          io.untrusted(`job ${namespace}/${name} matches ${settings.selector} but finished before this step started: not counted`)
        }
        progress(overall)
        if (overall.state !== 'waiting') break
      }
    } finally {
      clearTimeout(timer)
      start.stop()
    }
    let result = await finalVerdict(settings, observation, overall, judge, timing, started, cancelled)
    if (result.state === 'timeout' && !timedOut.signal.aborted && !cancelled.aborted && start.heldBy)
      result = startTimedOut(result, start.heldBy, settings)
    // Logs of finished Jobs are read to their end, briefly; a wait that stops early closes them at once.
    if (follower) {
      await observation.close()
      for (const j of result.jobs) follower.update(j.snapshot)
      await follower.finish(jobsFinished(result, settings.target), timing.logDrainMs)
    }
    return result
  } finally {
    follower?.close()
  }
}

/** The start-timeout clock: expired when the pods have not started in time, with what held them. */
function startClock(settings: Settings, started: number) {
  const expired = new AbortController()
  let startedYet = settings.startTimeoutMs === undefined
  let last: Observed | undefined
  const clock = {
    expired: expired.signal,
    heldBy: undefined as string | undefined,
    check(seen: Observed) {
      last = seen
      if (!startedYet && heldOf(seen) === undefined) {
        startedYet = true
        clearTimeout(timer)
      }
    },
    stop: () => clearTimeout(timer)
  }
  const heldOf = (seen: Observed): string | undefined => {
    if (!settings.selector) return startHeldByAny(seen.jobs, settings.jobs)
    if (!seen.jobs.length) return `no job matching ${settings.selector} yet`
    return startHeldByAny(
      seen.jobs,
      seen.jobs.map((j) => j.name)
    )
  }
  const timer = startedYet
    ? undefined
    : setTimeout(
        () => {
          if (startedYet) return
          clock.heldBy = last ? (heldOf(last) ?? 'the pods had not started') : 'no answer from the API server yet'
          expired.abort()
        },
        Math.max(0, started + settings.startTimeoutMs! - Date.now())
      )
  return clock
}

/** A timeout at start-timeout: the message says it was the start, and what held it. */
function startTimedOut(o: Overall, heldBy: string, settings: Settings): Overall {
  const message = `timed out waiting for the pods to start (start-timeout ${formatDuration(settings.startTimeoutMs!)}): ${heldBy}`
  return {
    ...o,
    message,
    jobs: o.jobs.map((j) => (j.verdict.state === 'timeout' && o.jobs.length === 1 ? { ...j, verdict: { ...j.verdict, message } } : j))
  }
}

/** Every Job ended (a final condition), or its pods reached an end phase the wait asked for. */
function jobsFinished(o: Overall, target: Target): boolean {
  if (o.state !== 'met' && o.state !== 'failed') return false
  if (target.kind === 'phase' && (target.phase === 'Succeeded' || target.phase === 'Failed')) return true
  return o.jobs.every((j) => j.snapshot.job !== undefined && jobEnd(j.snapshot.job, j.snapshot.inferred) !== undefined)
}

/** The verdict to report: the loop's, taken again after a timeout or a cancel, or on fresh pods. */
async function finalVerdict(
  settings: Settings,
  observation: Observation,
  overall: Overall | undefined,
  judge: (seen: Observed, ending?: Ending) => Overall,
  timing: Timing,
  started: number,
  cancelled: AbortSignal
): Promise<Overall> {
  if (!overall || overall.state === 'waiting') {
    const afterMs = Date.now() - started
    const ending: Ending = cancelled.aborted
      ? { kind: 'cancelled', afterMs }
      : { kind: 'timeout', afterMs: settings.timeoutMs, fault: observation.status.lastError?.message }
    return judge(observation.latest(), ending)
  }
  // A Job's condition can end the wait before the watch brought its pods' last
  // state: one fresh LIST, so that the report shows the pods as they are. Not
  // when every pod shown has already ended: the report is then written at once.
  const behind = overall.jobs.some((j) => j.snapshot.job && jobEnd(j.snapshot.job) && j.snapshot.pods.some(unfinished))
  if (behind && (overall.state === 'failed' || (overall.state === 'met' && settings.target.kind === 'condition'))) {
    // More requests than the report: the watches end first (nothing needs them now, and a watch resuming
    // after a fault would list the pods a second time).
    await observation.close()
    const bound = AbortSignal.any([cancelled, AbortSignal.timeout(timing.refreshMs)])
    const again = judge(await observation.refreshPods(bound))
    if (again.state === overall.state) overall = again
  }
  return overall
}

const unfinished = (p: PodInfo) => !p.deleted && p.phase !== 'Succeeded' && p.phase !== 'Failed'

/** Progress lines written at once when the picture changes; beyond them, one a second. */
const PROGRESS_BURST = 5

/**
 * A progress line when the picture changes, and at least every heartbeat. A
 * large Job changes its picture on nearly every batch of pod events: past a
 * few lines at once, at most one a second, the latest picture (snapshots come
 * at least every tick, so none is held back for long). It quotes cluster text
 * (reasons, messages): untrusted.
 */
export function progressLog(
  heartbeatMs: number,
  started: number,
  io: Pick<EngineIO, 'untrusted'>,
  clock = Date.now
): (overall: Pick<Overall, 'state' | 'message'>) => void {
  let last = ''
  let at = 0
  let lines = PROGRESS_BURST
  let refilled = started
  return ({ state, message }) => {
    const now = clock()
    if (message === last && now - at < heartbeatMs) return
    lines = Math.min(PROGRESS_BURST, lines + (now - refilled) / 1000)
    refilled = now
    // The last picture, the verdict's, is always written.
    if (lines < 1 && state === 'waiting') return
    lines = Math.max(0, lines - 1)
    io.untrusted(progressLine(message, now - started))
    last = message
    at = now
  }
}

/** Logs and events of the failing pods, within a time bound; never fails the report. */
async function diagnose(
  http: KubeHttp,
  snapshot: Snapshot,
  verdict: Verdict,
  logLines: number,
  logSource: CollectOptions['logSource'],
  boundMs: number,
  cancelled: AbortSignal,
  io: EngineIO
): Promise<Diagnosis | undefined> {
  const bound = new AbortController()
  const stop = () => bound.abort()
  cancelled.addEventListener('abort', stop, { once: true })
  try {
    // Loaded here: only a failed wait reads logs and events.
    const { collectDiagnosis } = await import('./diagnose/collect.js')
    return await Promise.race([
      collectDiagnosis(http, snapshot, verdict.problems, { logLines, logSource, maxGroups: 5 }),
      sleep(boundMs, bound.signal).then(() => {
        // sleep() also ends when the bound is lifted after the diagnosis arrived
        if (!bound.signal.aborted) io.untrusted(`logs and events not shown: reading them took longer than ${formatDuration(boundMs)}`)
        return undefined
      })
    ])
  } catch (err) {
    io.debug(`diagnosis failed: ${(err as Error)?.stack ?? err}`)
    return undefined
  } finally {
    bound.abort()
    cancelled.removeEventListener('abort', stop)
  }
}

/** result=error: bad input, credentials, an API error retrying cannot mend, or a bug. */
function failure(err: unknown, known: WaitRun): Outcome {
  known.io.debug((err as Error)?.stack ?? String(err))
  const seen = known.observation?.latest().jobs ?? []
  const many = known.settings !== undefined && several(known.settings)
  return {
    result: 'error',
    message: errorMessage(err),
    ...(many ? {} : { snapshot: seen[0] }),
    elapsedMs: Date.now() - known.started
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof InputError || err instanceof CredentialsError || err instanceof KubeError || err instanceof CreationError)
    return err.message
  // Anything else is a bug of ours: its message in the log, its stack in debug.
  return `kube-job-wait failed unexpectedly (a bug: please report it): ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`
}
