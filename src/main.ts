// inputs → credentials → observe → decide → report. This file only
// orchestrates: a loop over snapshots, ended by a verdict or by the timeout
// or a cancel; each stage lives in its own folder or file.
import * as core from '@actions/core'
import { loadCredentials, CredentialsError } from './credentials.js'
import { decide, type Ending, type Rules, type Verdict } from './decide/verdict.js'
import { collectDiagnosis, type Diagnosis } from './diagnose/collect.js'
import { formatDuration } from './duration.js'
import { readSettings, InputError, type Settings } from './inputs.js'
import { KubeError } from './kube/errors.js'
import { KubeHttp } from './kube/http.js'
import type { Snapshot } from './model.js'
import { sleep } from './observe/backoff.js'
import { observe, type Observation } from './observe/observe.js'
import type { Outcome } from './report/outcome.js'
import { targetText } from './report/outcome.js'
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
    `Waiting for ${targetText(settings.target)} of job ${namespace}/${settings.job} (timeout ${formatDuration(settings.timeoutMs)}; credentials: ${creds.source}, server ${creds.server})`
  )
  const http = (known.http = new KubeHttp(creds.kc, USER_AGENT, timing.requestTimeoutMs))

  const { verdict, snapshot } = await waitForVerdict(settings, namespace, http, timing, started, cancelled, known)
  const outcome: Outcome = {
    result: verdict.state as Outcome['result'],
    message: verdict.message,
    verdict,
    snapshot,
    elapsedMs: Date.now() - started
  }
  if ((verdict.state === 'failed' || verdict.state === 'timeout') && !cancelled.aborted) {
    outcome.diagnosis = await diagnose(http, snapshot, verdict, settings.logLines, timing.diagnosisMs, cancelled)
  }
  return outcome
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
): Promise<{ verdict: Verdict; snapshot: Snapshot }> {
  const timedOut = new AbortController()
  const timer = setTimeout(() => timedOut.abort(), Math.max(0, started + settings.timeoutMs - Date.now()))
  const observation = (known.observation = observe(
    {
      http,
      namespace,
      name: settings.job,
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
  // The step's start by the API server's clock: a Job that finished long before it is named.
  const rules = (): Rules => ({ podErrorGraceMs: settings.podErrorGraceMs, stepStartedAt: started + http.serverClockSkewMs })
  const progress = progressLog(timing.heartbeatMs, started)
  let verdict: Verdict | undefined
  try {
    for await (const snapshot of observation.snapshots) {
      verdict = decide(snapshot, settings.target, rules(), Date.now())
      progress(verdict)
      if (verdict.state !== 'waiting') break
    }
  } finally {
    clearTimeout(timer)
  }

  let snapshot = observation.latest()
  if (!verdict || verdict.state === 'waiting') {
    const afterMs = Date.now() - started
    const ending: Ending = cancelled.aborted
      ? { kind: 'cancelled', afterMs }
      : { kind: 'timeout', afterMs: settings.timeoutMs, fault: observation.status.lastError?.message }
    return { verdict: decide(snapshot, settings.target, rules(), Date.now(), ending), snapshot }
  }
  // A Job's condition can end the wait before the watch brought its pods' last
  // state: one fresh LIST, so that the report shows the pods as they are.
  if (verdict.state === 'failed' || (verdict.state === 'met' && settings.target.kind === 'condition')) {
    const bound = AbortSignal.any([cancelled, AbortSignal.timeout(timing.refreshMs)])
    const fresh = await observation.refreshPods(bound)
    const again = decide(fresh, settings.target, rules(), Date.now())
    if (again.state === verdict.state) {
      verdict = again
      snapshot = fresh
    }
  }
  return { verdict, snapshot }
}

/** A progress line when the picture changes, and at least every heartbeat. */
function progressLog(heartbeatMs: number, started: number): (v: Verdict) => void {
  let last = ''
  let at = 0
  return (v) => {
    const now = Date.now()
    const line = progressLine(v, now - started)
    const what = line.replace(/^\[[^\]]*\] /, '')
    if (what === last && now - at < heartbeatMs) return
    core.info(line)
    last = what
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
  return { result: 'error', message: errorMessage(err), snapshot: known.observation?.latest(), elapsedMs: Date.now() - started }
}

/** Outputs, annotations and summary; then the optional PR comment. */
async function finish(outcome: Outcome, known: Progress): Promise<void> {
  outcome.namespace ??= known.namespace
  outcome.job ??= known.settings?.job
  outcome.target ??= known.settings?.target
  outcome.mode ??= known.observation?.status.mode
  outcome.requests ??= known.http?.requests
  outcome.runUrl ??= runUrl()
  await report(outcome)
  const token = known.settings?.prCommentToken
  if (token && outcome.result !== 'cancelled') await prComment(outcome, token)
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
