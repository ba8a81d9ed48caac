// Observe a Job and its pods as a stream of snapshots: the sources' events go
// through apply() (./state.ts), and a snapshot comes out whenever the state
// changed, and on every tick so that time-based rules are taken again. The
// caller's loop ends it (break, or the signal): every source, request and
// timer stops with it.
import { jobEnd, type Snapshot } from '../model.js'
import { Sources, type SourceOptions, type SourceStatus } from './sources.js'
import { applyAll, initialState, snapshotOf, type ObserveEvent, type ObservedState } from './state.js'

export interface ObserveOptions extends SourceOptions {
  /** a snapshot at least this often, changed or not */
  tickMs: number
}

export interface Observation {
  snapshots: AsyncGenerator<Snapshot, void, void>
  /** how the observing went: mode, last fault */
  status: SourceStatus
  /** the latest state, also after the loop ended */
  latest(): Snapshot
  /** one fresh LIST of the current Job's pods, applied (for the report); the latest snapshot when it fails */
  refreshPods(signal: AbortSignal): Promise<Snapshot>
}

export function observe(o: ObserveOptions, signal: AbortSignal): Observation {
  let state: ObservedState = initialState(o.namespace, o.name)
  let pending: ObserveEvent[] = []
  let failure: { err: unknown } | undefined
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const sources = new Sources(
    o,
    (events) => {
      pending.push(...events)
      notify()
    },
    (err) => {
      failure ??= { err }
      notify()
    }
  )

  const step = () => {
    const before = state
    state = applyAll(state, pending)
    pending = []
    const job = state.job
    sources.follow(job, before.job?.uid, state.jobDeleted, job ? jobEnd(job) !== undefined : false, state.inferred !== undefined)
  }

  async function* snapshots(): AsyncGenerator<Snapshot, void, void> {
    const onAbort = () => notify()
    signal.addEventListener('abort', onAbort)
    let timer: NodeJS.Timeout | undefined
    try {
      sources.start()
      while (!signal.aborted) {
        if (failure) throw failure.err
        if (pending.length) {
          step()
          yield snapshotOf(state)
          continue
        }
        const ticked = await new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), o.tickMs)
          wake = () => resolve(false)
        })
        clearTimeout(timer)
        wake = undefined
        if (ticked && !signal.aborted && !failure && !pending.length) yield snapshotOf(state)
      }
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      sources.close()
    }
  }

  return {
    snapshots: snapshots(),
    status: sources.status,
    latest: () => snapshotOf(state),
    async refreshPods(refreshSignal: AbortSignal): Promise<Snapshot> {
      const job = state.job
      if (!job) return snapshotOf(state)
      try {
        const listed = await Promise.race([
          Sources.listPods(o.http, o.namespace, job),
          new Promise<undefined>((resolve) => refreshSignal.addEventListener('abort', () => resolve(undefined), { once: true }))
        ])
        if (listed) state = applyAll(state, [listed])
      } catch (err) {
        o.onNote('debug', `could not list the pods once more for the report: ${(err as Error).message}`)
      }
      return snapshotOf(state)
    }
  }
}
