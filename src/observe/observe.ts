// Observe the Jobs and their pods as a stream of snapshots (one per Job):
// the sources' events go through apply() (./state.ts), and snapshots come out
// whenever the state changed, and on every tick so that time-based rules are
// taken again. The caller's loop ends it (break, or the signal): every
// source, request and timer stops with it.
import type { JobInfo, Observed } from '../model.js'
import { WATCHED } from '../pod-table.js'
import { readAutoscalerEvents } from './autoscaler-events.js'
import { readKueueWorkloads } from './kueue-workloads.js'
import { Sources, type SourceOptions, type SourceStatus } from './sources.js'
import { applyAll, initialState, observed, type ObserveEvent, type ObservedState } from './state.js'

export interface ObserveOptions extends SourceOptions {
  /** a snapshot at least this often, changed or not */
  tickMs: number
  /** while pods are Unschedulable, autoscalers' events read at most this often; 0: never */
  autoscalerEventsMs?: number
  /** while a Job is suspended, Kueue's Workloads read at most this often; 0: never */
  workloadsMs?: number
}

export interface Observation {
  snapshots: AsyncGenerator<Observed, void, void>
  /** how the observing went: mode, last fault */
  status: SourceStatus
  /** the latest state, also after the loop ended */
  latest(): Observed
  /** one fresh LIST of the current Jobs' pods, applied (for the report); the latest state when it fails */
  refreshPods(signal: AbortSignal): Promise<Observed>
  /** Ends the snapshots where they stand (a loop that stopped reading them without return()): every source, request and timer. */
  close(): Promise<void>
}

export function observe(o: ObserveOptions, signal: AbortSignal): Observation {
  let state: ObservedState = initialState(o.namespace, o.names, (o.autoscalerEventsMs ?? 0) > 0)
  let pending: ObserveEvent[] = []
  let failure: { err: unknown } | undefined
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const events = (batch: ObserveEvent[]) => {
    pending.push(...batch)
    notify()
  }
  const sources = new Sources(o, events, (err) => {
    failure ??= { err }
    notify()
  })

  // Autoscalers' events: read only while some pod is Unschedulable, looked for at most once a tick,
  // among the pods a timed rule may apply to (the table keeps them apart).
  const unschedulable = (): Map<string, string> => {
    const pods = new Map<string, string>()
    for (const e of state.jobs.values())
      for (const p of e.pods.pick(WATCHED)) if (p.unschedulable && !p.deleted && p.ownerUid) pods.set(p.uid, p.ownerUid)
    return pods
  }
  const scaling = new AbortController()
  const suspended = (): Set<string> => {
    const uids = new Set<string>()
    for (const e of state.jobs.values()) if (e.job?.suspend && !e.jobDeleted) uids.add(e.job.uid)
    return uids
  }

  const step = () => {
    state = applyAll(state, pending)
    pending = []
    sources.follow(state)
  }

  async function* snapshots(): AsyncGenerator<Observed, void, void> {
    const onAbort = () => notify()
    signal.addEventListener('abort', onAbort)
    let timer: NodeJS.Timeout | undefined
    try {
      sources.start()
      if (o.autoscalerEventsMs) {
        const options = { ...o, intervalMs: o.autoscalerEventsMs, checkMs: o.tickMs, unschedulable, emit: events }
        void readAutoscalerEvents(options, AbortSignal.any([signal, scaling.signal]))
      }
      if (o.workloadsMs) {
        const options = { ...o, intervalMs: o.workloadsMs, checkMs: o.tickMs, suspended, emit: events }
        void readKueueWorkloads(options, AbortSignal.any([signal, scaling.signal]))
      }
      while (!signal.aborted) {
        if (failure) throw failure.err
        if (pending.length) {
          // Events that arrive together are decided on together: what the same read brought is applied at once.
          await new Promise((resolve) => setImmediate(resolve))
          step()
          yield observed(state)
          continue
        }
        const ticked = await new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), o.tickMs)
          wake = () => resolve(false)
        })
        clearTimeout(timer)
        wake = undefined
        if (ticked && !signal.aborted && !failure && !pending.length) yield observed(state)
      }
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      sources.close()
      scaling.abort()
    }
  }

  const generator = snapshots()
  return {
    snapshots: generator,
    close: () => generator.return().then(() => undefined),
    status: sources.status,
    latest: () => observed(state),
    async refreshPods(refreshSignal: AbortSignal): Promise<Observed> {
      const jobs = [...state.jobs.values()].map((e) => e.job).filter((j): j is JobInfo => j !== undefined)
      if (!jobs.length) return observed(state)
      try {
        const listed = await Promise.race([
          sources.listPods(jobs),
          new Promise<undefined>((resolve) => refreshSignal.addEventListener('abort', () => resolve(undefined), { once: true }))
        ])
        if (listed) state = applyAll(state, [listed])
      } catch (err) {
        o.onNote('debug', `could not list the pods once more for the report: ${(err as Error).message}`)
      }
      return observed(state)
    }
  }
}
