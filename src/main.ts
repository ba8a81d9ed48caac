// inputs → credentials → observe → decide → report. This file only
// orchestrates; each stage lives in its own file.
import * as core from '@actions/core'
import { loadCredentials, CredentialsError } from './credentials.js'
import { decide, type Verdict } from './decide/verdict.js'
import { collectDiagnosis, type Diagnosis } from './diagnose/collect.js'
import { formatDuration } from './duration.js'
import { readSettings, InputError, type Settings } from './inputs.js'
import { KubeError } from './kube/errors.js'
import { KubeHttp } from './kube/http.js'
import type { Snapshot } from './observe/model.js'
import { JobObserver } from './observe/observer.js'
import type { Outcome, Result } from './report/outcome.js'
import { progressLine } from './report/render.js'
import { report } from './report/report.js'
import { commentOnPullRequest } from './report/pr-comment.js'
import { sleep } from './observe/backoff.js'

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
}

export const DEFAULT_TIMING: Timing = {
  requestTimeoutMs: 30_000,
  // The API server sends a bookmark about once a minute on a quiet watch.
  idleTimeoutMs: 90_000,
  unreachableGraceMs: 10_000,
  tickMs: 1_000,
  heartbeatMs: 30_000,
  diagnosisMs: 10_000
}

export async function run(tuning: Partial<Timing> = {}): Promise<Outcome> {
  const timing: Timing = { ...DEFAULT_TIMING, ...tuning }
  const started = Date.now()
  let settings: Settings | undefined
  let namespace: string | undefined
  let http: KubeHttp | undefined
  let observer: JobObserver | undefined
  let outcome: Outcome
  // The runner cancels with SIGINT, then SIGTERM 7.5 s later: both end the wait
  // at once, and the report is still written.
  const cancel = new AbortController()
  const onSignal = () => cancel.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    settings = readSettings((name) => core.getInput(name))
    if (settings.prCommentToken) core.setSecret(settings.prCommentToken)
    // A base64 kubeconfig as typed (the runner masks secrets.*, but not a value pasted in)
    const rawKubeconfig = core.getInput('kubeconfig').trim()
    if (rawKubeconfig && !rawKubeconfig.includes(':')) core.setSecret(rawKubeconfig)
    const creds = loadCredentials(settings, { env: process.env, mask: (s) => core.setSecret(s) })
    namespace = settings.namespace ?? creds.namespace
    core.info(
      `Waiting for ${describeTarget(settings)} of job ${namespace}/${settings.job} (timeout ${formatDuration(settings.timeoutMs)}; credentials: ${creds.source}, server ${creds.server})`
    )
    http = new KubeHttp(creds.kc, USER_AGENT, timing.requestTimeoutMs)
    outcome = await wait(settings, namespace, http, timing, started, cancel.signal, (o) => (observer = o))
    if ((outcome.result === 'failed' || outcome.result === 'timeout') && outcome.snapshot && !cancel.signal.aborted) {
      outcome.diagnosis = await diagnose(http, outcome.snapshot, settings.logLines, timing.diagnosisMs, cancel.signal)
    }
  } catch (err) {
    outcome = {
      result: 'error',
      message: errorMessage(err),
      elapsedMs: Date.now() - started
    }
    core.debug((err as Error)?.stack ?? String(err))
  }
  outcome.namespace ??= namespace
  outcome.job ??= settings?.job
  outcome.target ??= settings?.target
  outcome.mode ??= observer?.mode
  outcome.requests ??= http?.requests
  outcome.runUrl ??= runUrl()
  await report(outcome)
  if (settings?.prCommentToken && outcome.result !== 'cancelled') await prComment(outcome, settings.prCommentToken)
  process.removeListener('SIGINT', onSignal)
  process.removeListener('SIGTERM', onSignal)
  return outcome
}

/** Logs and events of the failing pods, within a time bound; never fails the report. */
async function diagnose(
  http: KubeHttp,
  snapshot: Snapshot,
  logLines: number,
  boundMs: number,
  cancelled: AbortSignal
): Promise<Diagnosis | undefined> {
  const bound = new AbortController()
  const stop = () => bound.abort()
  cancelled.addEventListener('abort', stop, { once: true })
  try {
    return await Promise.race([
      collectDiagnosis(http, snapshot, { logLines, maxGroups: 5 }),
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

function describeTarget(s: Settings): string {
  const t = s.target
  if (t.kind === 'condition') return `condition ${t.condition}`
  const n = t.expectedCount === undefined ? '' : `${t.match === 'exact' ? 'exactly ' : 'at least '}${t.expectedCount} `
  return `${n}pods ${t.phase}`
}

function errorMessage(err: unknown): string {
  if (err instanceof InputError || err instanceof CredentialsError || err instanceof KubeError) return err.message
  return `kube-job-wait failed unexpectedly: ${(err as Error)?.message?.split('\n')[0] ?? String(err)}`
}

async function wait(
  settings: Settings,
  namespace: string,
  http: KubeHttp,
  timing: Timing,
  started: number,
  cancelled: AbortSignal,
  exposeObserver: (o: JobObserver) => void
): Promise<Outcome> {
  const stop = new AbortController()
  const rules = { podErrorGraceMs: settings.podErrorGraceMs }
  let snapshot: Snapshot | undefined
  let verdict: Verdict | undefined
  let lastLine = ''
  let lastLogAt = 0
  const timers: NodeJS.Timeout[] = []
  let onCancel = () => {}
  let observer: JobObserver | undefined

  const end = await new Promise<{ result: Result; error?: unknown }>((resolve) => {
    const evaluate = () => {
      if (!snapshot) return
      verdict = decide(snapshot, settings.target, rules, Date.now())
      const now = Date.now()
      const line = progressLine(verdict, now - started)
      const changed = line.replace(/^\[[^\]]*\] /, '') !== lastLine
      if (changed || now - lastLogAt >= timing.heartbeatMs) {
        core.info(line)
        lastLine = line.replace(/^\[[^\]]*\] /, '')
        lastLogAt = now
      }
      if (verdict.state !== 'waiting') resolve({ result: verdict.state })
    }
    observer = new JobObserver({
      http,
      namespace,
      name: settings.job,
      mode: settings.mode,
      pollIntervalMs: settings.pollIntervalMs,
      idleTimeoutMs: timing.idleTimeoutMs,
      unreachableGraceMs: timing.unreachableGraceMs,
      onSnapshot: (s) => {
        snapshot = s
        evaluate()
      },
      onNote: (level, message) => {
        if (level === 'warning') core.warning(message)
        else if (level === 'info') core.info(message)
        else core.debug(message)
      }
    })
    exposeObserver(observer)
    timers.push(setInterval(evaluate, timing.tickMs))
    timers.push(setTimeout(() => resolve({ result: 'timeout' }), Math.max(0, started + settings.timeoutMs - Date.now())))
    onCancel = () => resolve({ result: 'cancelled' })
    if (cancelled.aborted) onCancel()
    cancelled.addEventListener('abort', onCancel, { once: true })
    observer.run(stop.signal).then(
      () => resolve({ result: 'error', error: new Error('observing the Job stopped unexpectedly') }),
      (error) => resolve({ result: 'error', error })
    )
  })
  stop.abort()
  for (const t of timers) clearTimeout(t)
  cancelled.removeEventListener('abort', onCancel)

  // A Job's condition can end the wait before the watch brought its pods' last
  // state: one fresh LIST, so that the report shows the pods as they are.
  if (observer && snapshot?.job && (end.result === 'failed' || (end.result === 'met' && settings.target.kind === 'condition'))) {
    const fresh = await Promise.race([observer.refreshPods(), sleep(3_000, cancelled).then(() => undefined)])
    if (fresh) {
      snapshot = fresh
      const again = decide(fresh, settings.target, rules, Date.now())
      if (again.state === end.result) verdict = again
    }
  }
  const elapsedMs = Date.now() - started
  if (end.error !== undefined) {
    core.debug((end.error as Error)?.stack ?? String(end.error))
    return { result: 'error', message: errorMessage(end.error), verdict, snapshot, elapsedMs }
  }
  // Take the verdict once more: the time-based rules see the final moment.
  if (snapshot && end.result !== 'met' && end.result !== 'failed') verdict = decide(snapshot, settings.target, rules, Date.now())
  const v = verdict
  switch (end.result) {
    case 'met':
      return { result: 'met', message: v!.summary, verdict: v, snapshot, elapsedMs }
    case 'failed':
      return { result: 'failed', message: `${v!.summary}${v!.detail ? ` (${v!.detail})` : ''}`, verdict: v, snapshot, elapsedMs }
    case 'timeout': {
      const what = v
        ? `${v.summary} after ${formatDuration(settings.timeoutMs)}${v.detail ? `: ${v.detail}` : ''}`
        : observer?.lastError
          ? `the API server kept failing for ${formatDuration(settings.timeoutMs)}: ${observer.lastError.message}`
          : `no answer from the API server in ${formatDuration(settings.timeoutMs)}`
      return { result: 'timeout', message: `timed out: ${what}`, verdict: v, snapshot, elapsedMs }
    }
    default:
      return {
        result: 'cancelled',
        message: `cancelled after ${formatDuration(elapsedMs)}${v ? `: ${v.summary}` : ''}`,
        verdict: v,
        snapshot,
        elapsedMs
      }
  }
}
