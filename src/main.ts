// inputs → credentials → observe → decide → report. This file only
// orchestrates; each stage lives in its own file.
import * as core from '@actions/core'
import { loadCredentials, CredentialsError } from './credentials.js'
import { decide, type Verdict } from './decide/verdict.js'
import { formatDuration } from './duration.js'
import { readSettings, InputError, type Settings } from './inputs.js'
import { KubeError } from './kube/errors.js'
import { KubeHttp } from './kube/http.js'
import type { Snapshot } from './observe/model.js'
import { JobObserver } from './observe/observer.js'
import type { Outcome, Result } from './report/outcome.js'
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
}

export const DEFAULT_TIMING: Timing = {
  requestTimeoutMs: 30_000,
  // The API server sends a bookmark about once a minute on a quiet watch.
  idleTimeoutMs: 90_000,
  unreachableGraceMs: 10_000,
  tickMs: 1_000,
  heartbeatMs: 30_000
}

export async function run(timing: Timing = DEFAULT_TIMING): Promise<Outcome> {
  const started = Date.now()
  let settings: Settings | undefined
  let namespace: string | undefined
  let http: KubeHttp | undefined
  let observer: JobObserver | undefined
  let outcome: Outcome
  try {
    settings = readSettings((name) => core.getInput(name))
    const creds = loadCredentials(settings, { env: process.env, mask: (s) => core.setSecret(s) })
    namespace = settings.namespace ?? creds.namespace
    core.info(`Waiting for ${describeTarget(settings)} of job ${namespace}/${settings.job} (timeout ${formatDuration(settings.timeoutMs)}; credentials: ${creds.source}, server ${creds.server})`)
    http = new KubeHttp(creds.kc, USER_AGENT, timing.requestTimeoutMs)
    outcome = await wait(settings, namespace, http, timing, started, (o) => (observer = o))
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
  await report(outcome, settings)
  return outcome
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
  exposeObserver: (o: JobObserver) => void
): Promise<Outcome> {
  const stop = new AbortController()
  const rules = { podErrorGraceMs: settings.podErrorGraceMs }
  let snapshot: Snapshot | undefined
  let verdict: Verdict | undefined
  let lastLine = ''
  let lastLogAt = 0
  const timers: NodeJS.Timeout[] = []
  const signalHandlers: [NodeJS.Signals, () => void][] = []

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
    const observer = new JobObserver({
      http,
      namespace,
      name: settings.job,
      mode: settings.mode,
      pollIntervalMs: settings.pollIntervalMs,
      idleTimeoutMs: timing.idleTimeoutMs,
      deadline: started + settings.timeoutMs,
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
    for (const sig of ['SIGINT', 'SIGTERM'] as NodeJS.Signals[]) {
      const h = () => resolve({ result: 'cancelled' })
      process.once(sig, h)
      signalHandlers.push([sig, h])
    }
    observer.run(stop.signal).then(
      () => resolve({ result: 'error', error: new Error('observing the Job stopped unexpectedly') }),
      (error) => resolve({ result: 'error', error })
    )
  })
  stop.abort()
  for (const t of timers) clearTimeout(t)
  for (const [sig, h] of signalHandlers) process.removeListener(sig, h)

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
      const what = v ? `${v.summary} after ${formatDuration(settings.timeoutMs)}${v.detail ? `: ${v.detail}` : ''}` : `no answer from the API server in ${formatDuration(settings.timeoutMs)}`
      return { result: 'timeout', message: `timed out: ${what}`, verdict: v, snapshot, elapsedMs }
    }
    default:
      return { result: 'cancelled', message: `cancelled after ${formatDuration(elapsedMs)}${v ? `: ${v.summary}` : ''}`, verdict: v, snapshot, elapsedMs }
  }
}
