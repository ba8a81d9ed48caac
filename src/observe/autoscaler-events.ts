// What autoscalers say about Unschedulable pods. cluster-autoscaler and
// Karpenter tell what they do for a pod only in its Events (TriggeredScaleUp,
// Nominated; NotTriggerScaleUp, FailedScaleUp): this source reads them while
// some pod is Unschedulable and turns them into one event for the state
// (./state.ts). Its cost does not grow with the Job: one LIST per reason in
// the namespace (a field selector), never one request per pod, at most every
// intervalMs, each LIST bounded in pages.
import { KubeError } from '../kube/errors.js'
import type { KubeHttp } from '../kube/http.js'
import { NOT_SCALING_REASONS, SCALING_UP_REASONS } from '../model.js'
import { sleep } from './backoff.js'
import { serverTime, type NoteLevel } from './sources.js'
import type { ObserveEvent } from './state.js'

export const AUTOSCALER_REASONS: readonly string[] = [...SCALING_UP_REASONS, ...NOT_SCALING_REASONS]

/** Events of one reason read in pages of this many, at most MAX_PAGES of them. */
const PAGE = 500
const MAX_PAGES = 10

/** The fields of a core/v1 Event read here. */
export interface CoreEvent {
  metadata?: { creationTimestamp?: string }
  involvedObject?: { kind?: string; uid?: string }
  reason?: string
  message?: string
  source?: { component?: string }
  reportingComponent?: string
  lastTimestamp?: string | null
  eventTime?: string | null
  series?: { lastObservedTime?: string } | null
}

export type Word = Extract<ObserveEvent, { type: 'autoscaler-said' }>['words'][number]

/** The autoscalers' words about these pods (pod uid → its Job's uid). */
export function autoscalerWords(events: readonly CoreEvent[], pods: ReadonlyMap<string, string>): Word[] {
  const words: Word[] = []
  for (const e of events) {
    const podUid = e.involvedObject?.uid ?? ''
    const jobUid = pods.get(podUid)
    if (!jobUid || !e.reason || !AUTOSCALER_REASONS.includes(e.reason)) continue
    const at = e.series?.lastObservedTime || e.lastTimestamp || e.eventTime || e.metadata?.creationTimestamp || undefined
    const component = e.source?.component || e.reportingComponent || undefined
    words.push({ podUid, jobUid, word: { reason: e.reason, message: e.message, component, at } })
  }
  return words
}

export interface AutoscalerSourceOptions {
  http: KubeHttp
  namespace: string
  /** at most one read this often */
  intervalMs: number
  /** how often to look again for Unschedulable pods when there were none */
  checkMs: number
  /** the Unschedulable pods now: pod uid → its Job's uid */
  unschedulable(): ReadonlyMap<string, string>
  emit(events: ObserveEvent[]): void
  onNote(level: NoteLevel, message: string): void
}

async function listReason(http: KubeHttp, namespace: string, reason: string): Promise<CoreEvent[]> {
  const items: CoreEvent[] = []
  let cont: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await http.getJSON<{ items?: CoreEvent[]; metadata?: { continue?: string } }>(
      `/api/v1/namespaces/${namespace}/events`,
      { fieldSelector: `involvedObject.kind=Pod,reason=${reason}`, limit: PAGE, continue: cont },
      'list events'
    )
    items.push(...(list.items ?? []))
    cont = list.metadata?.continue || undefined
    if (!cont) break
  }
  return items
}

/**
 * Reads until the signal ends it. Without the right to list events it says so
 * once and stops: Unschedulable pods are then judged by their grace alone, as
 * they are after any read that failed.
 */
export async function readAutoscalerEvents(o: AutoscalerSourceOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const pods = o.unschedulable()
    if (pods.size === 0) {
      await sleep(o.checkMs, signal)
      continue
    }
    // Every event recorded before this moment is in the answers: the verdict waits for a read begun after a grace ends.
    const readAt = serverTime(o.http)
    try {
      const lists = await Promise.all(AUTOSCALER_REASONS.map((reason) => listReason(o.http, o.namespace, reason)))
      if (!signal.aborted) o.emit([{ type: 'autoscaler-said', readAt, words: autoscalerWords(lists.flat(), pods) }])
    } catch (err) {
      if (err instanceof KubeError && err.code === 403) {
        o.emit([{ type: 'autoscaler-unreadable' }])
        o.onNote(
          'info',
          `no permission to list events in namespace ${o.namespace}: what autoscalers say about Unschedulable pods is not read, unschedulable-grace alone applies (grant list on events)`
        )
        return
      }
      o.onNote('debug', `could not read the autoscalers' events: ${(err as Error).message}`)
      // A read that failed found no new word: the grace applies as without one, not held until the timeout.
      if (!signal.aborted) o.emit([{ type: 'autoscaler-said', readAt, words: [] }])
    }
    await sleep(o.intervalMs, signal)
  }
}
