// inputs → credentials → observe → decide → report. This file only
// orchestrates: a loop over snapshots, ended by a verdict or by the timeout
// or a cancel; each stage lives in its own folder or file.
import * as core from '@actions/core'
import { loadCredentials, CredentialsError } from './credentials.js'
import { decideJobs, type Overall, type Wanted } from './decide/jobs.js'
import type { Ending, Rules, Verdict } from './decide/verdict.js'
import { collectDiagnosis, type Diagnosis } from './diagnose/collect.js'
import { formatDuration } from './duration.js'
import { readSettings, InputError, type Settings } from './inputs.js'
import { KubeError } from './kube/errors.js'
import { KubeHttp } from './kube/http.js'
import { jobEnd, type Observed, type PodInfo, type Snapshot } from './model.js'
import { sleep } from './observe/backoff.js'
import { observe, type Observation } from './observe/observe.js'
import { cleanUp } from './cleanup.js'
import { targetText, type JobReport, type Outcome } from './report/outcome.js'
import { commentOnPullRequest } from './report/pr-comment.js'
import { progressLine } from './report/render.js'
import { report } from './report/report.js'

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
}

export const DEFAULT_TIMING: Timing = {
  requestTimeoutMs: 30_000,
  // The API server sends a bookmark about once a minute on a quiet watch.
  idleTimeoutMs: 90_000,
  unreachableGraceMs: 10_000,
  tickMs: 1_000,
  heartbeatMs: 30_000,
  diagnosisMs: 10_000,
  refreshMs: 3_000
}

/** What is known so far, for the report on every path (an error may come at any step). */
interface Progress {
  settings?: Settings
  namespace?: string
  http?: KubeHttp
  observation?: Observation
}

export async function run(tuning: Partial<Timing> = {}): Promise<Outcome> {
  const timing: Timing = { ...DEFAULT_TIMING, ...tuning }
  const started = Date.now()
  const known: Progress = {}
  // The runner cancels with SIGINT, then SIGTERM 7.5 s later: both end the wait
  // at once, and the report is still written.
  const cancel = new AbortController()
  const onSignal = () => cancel.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  // The last resort: a throw that escaped every handler still ends in result=error, reported.
  let crashed = false
  const onCrash = (err: unknown) => {
    if (crashed) return
    crashed = true
    void finish(failure(err, known, started), known).finally(() => process.exit(1))
  }
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  let outcome: Outcome
  try {
    outcome = await waitAndDiagnose(known, timing, started, cancel.signal)
  } catch (err) {
    outcome = failure(err, known, started)
  }
  await finish(outcome, known)
  process.removeListener('SIGINT', onSignal)
  process.removeListener('SIGTERM', onSignal)
  process.removeListener('uncaughtException', onCrash)
  process.removeListener('unhandledRejection', onCrash)
  return outcome
}

async function waitAndDiagnose(known: Progress, timing: Timing, started: number, cancelled: AbortSignal): Promise<Outcome> {
  const settings = (known.settings = readSettings((name) => core.getInput(name)))
  if (settings.prCommentToken) core.setSecret(settings.prCommentToken)
  // A base64 kubeconfig as typed (the runner masks secrets.*, but not a value pasted in)
  const rawKubeconfig = core.getInput('kubeconfig').trim()
  if (rawKubeconfig && !rawKubeconfig.includes(':')) core.setSecret(rawKubeconfig)
  const creds = loadCredentials(settings, { env: process.env, mask: (s) => core.setSecret(s) })
  const namespace = (known.namespace = settings.namespace ?? creds.namespace)
  core.info(
    `Waiting for ${targetText(settings.target)} of ${whatJobs(settings, namespace)} (timeout ${formatDuration(settings.timeoutMs)}; credentials: ${creds.source}, server ${creds.server})`
  )
  const http = (known.http = new KubeHttp(creds.kc, USER_AGENT, timing.requestTimeoutMs))

  const overall = await waitForVerdict(settings, namespace, http, timing, started, cancelled, known)
  const elapsedMs = Date.now() - started
  const diagnosable = (v: Verdict) => (v.state === 'failed' || v.state === 'timeout') && !cancelled.aborted
  const diagnoseJob = (j: Overall['jobs'][number]) =>
    diagnosable(j.verdict) ? diagnose(http, j.snapshot, j.verdict, settings.logLines, timing.diagnosisMs, cancelled) : undefined
  if (!severalJobs(settings)) {
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

const severalJobs = (s: Settings) => s.selector !== undefined || s.jobs.length > 1

function whatJobs(s: Settings, namespace: string): string {
  if (s.selector) return `${s.expectedJobs > 1 ? `at least ${s.expectedJobs} jobs` : 'the jobs'} matching ${s.selector} in ${namespace}`
  return s.jobs.length === 1 ? `job ${namespace}/${s.jobs[0]}` : `jobs ${s.jobs.map((j) => `${namespace}/${j}`).join(', ')}`
}

/** The loop: a verdict on every snapshot until one is final, or the timeout or a cancel ends it. */
async function waitForVerdict(
  settings: Settings,
  namespace: string,
  http: KubeHttp,
  timing: Timing,
  started: number,
  cancelled: AbortSignal,
  known: Progress
): Promise<Overall> {
  const timedOut = new AbortController()
  const timer = setTimeout(() => timedOut.abort(), Math.max(0, started + settings.timeoutMs - Date.now()))
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
      onNote: (level, message) =>
        level === 'warning' ? core.warning(message) : level === 'info' ? core.info(message) : core.debug(message)
    },
    AbortSignal.any([timedOut.signal, cancelled])
  ))
  const wanted: Wanted = {
    names: settings.jobs,
    selector: settings.selector,
    expectedJobs: settings.expectedJobs,
    failFast: settings.failFast
  }
  // The step's start by the API server's clock: a Job that finished long before it is named.
  const rules = (): Rules => ({ podErrorGraceMs: settings.podErrorGraceMs, stepStartedAt: started + http.serverClockSkewMs })
  const judge = (seen: Observed, ending?: Ending) => decideJobs(seen, wanted, settings.target, rules(), Date.now(), ending)
  const progress = progressLog(timing.heartbeatMs, started)
  const ignored = new Set<string>()
  let overall: Overall | undefined
  try {
    for await (const seen of observation.snapshots) {
      overall = judge(seen)
      for (const name of overall.ignored) {
        if (ignored.has(name)) continue
        ignored.add(name)
        core.info(`job ${namespace}/${name} matches ${settings.selector} but finished before this step started: not counted`)
      }
      progress(overall.message)
      if (overall.state !== 'waiting') break
    }
  } finally {
    clearTimeout(timer)
  }

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
    const bound = AbortSignal.any([cancelled, AbortSignal.timeout(timing.refreshMs)])
    const again = judge(await observation.refreshPods(bound))
    if (again.state === overall.state) overall = again
  }
  return overall
}

const unfinished = (p: PodInfo) => !p.deleted && p.phase !== 'Succeeded' && p.phase !== 'Failed'

/** A progress line when the picture changes, and at least every heartbeat. */
function progressLog(heartbeatMs: number, started: number): (message: string) => void {
  let last = ''
  let at = 0
  return (message) => {
    const now = Date.now()
    if (message === last && now - at < heartbeatMs) return
    core.info(progressLine(message, now - started))
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
  boundMs: number,
  cancelled: AbortSignal
): Promise<Diagnosis | undefined> {
  const bound = new AbortController()
  const stop = () => bound.abort()
  cancelled.addEventListener('abort', stop, { once: true })
  try {
    return await Promise.race([
      collectDiagnosis(http, snapshot, verdict.problems, { logLines, maxGroups: 5 }),
      sleep(boundMs, bound.signal).then(() => {
        // sleep() also ends when the bound is lifted after the diagnosis arrived
        if (!bound.signal.aborted) core.info(`logs and events not shown: reading them took longer than ${formatDuration(boundMs)}`)
        return undefined
      })
    ])
  } catch (err) {
    core.debug(`diagnosis failed: ${(err as Error)?.stack ?? err}`)
    return undefined
  } finally {
    bound.abort()
    cancelled.removeEventListener('abort', stop)
  }
}

/** result=error: bad input, credentials, an API error retrying cannot mend, or a bug. */
function failure(err: unknown, known: Progress, started: number): Outcome {
  core.debug((err as Error)?.stack ?? String(err))
  const seen = known.observation?.latest().jobs ?? []
  const several = known.settings !== undefined && severalJobs(known.settings)
  return {
    result: 'error',
    message: errorMessage(err),
    ...(several ? {} : { snapshot: seen[0] }),
    elapsedMs: Date.now() - started
  }
}

/** Outputs, annotations and summary; then the optional PR comment. */
async function finish(outcome: Outcome, known: Progress): Promise<void> {
  outcome.namespace ??= known.namespace
  if (known.settings && !severalJobs(known.settings)) outcome.job ??= known.settings.jobs[0]
  outcome.target ??= known.settings?.target
  outcome.mode ??= known.observation?.status.mode
  outcome.requests ??= known.http?.requests
  outcome.runUrl ??= runUrl()
  await report(outcome)
  const token = known.settings?.prCommentToken
  if (token && outcome.result !== 'cancelled') await prComment(outcome, token)
  // What becomes of the Jobs: after the report, so that a failure to delete changes nothing of it.
  if (known.settings && known.http && known.observation) {
    await cleanUp(known.http, known.settings, outcome, known.observation.latest())
  }
}

async function prComment(o: Outcome, token: string): Promise<void> {
  try {
    const url = await commentOnPullRequest(o, token)
    if (url) core.info(`pull-request comment: ${url}`)
  } catch (err) {
    core.warning(`could not comment on the pull request: ${(err as Error).message?.split('\n')[0]}`)
  }
}

/** The run's page, from the variables the runner sets (as @actions/github's context reads them). */
function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID } = process.env
  if (!GITHUB_REPOSITORY || !GITHUB_RUN_ID) return undefined
  return `${GITHUB_SERVER_URL || 'https://github.com'}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`
}

function errorMessage(err: unknown): string {
  if (err instanceof InputError || err instanceof CredentialsError || err instanceof KubeError) return err.message
  // Anything else is a bug of ours: its message in the log, its stack in debug.
  return `kube-job-wait failed unexpectedly (a bug: please report it): ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`
}
