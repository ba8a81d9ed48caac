// What Kueue says about a suspended Job. Kueue keeps a Job suspended until it
// admits the Job's Workload (kueue.x-k8s.io, owned by the Job), whose
// conditions say why it waits: this source reads the Workloads of the
// namespace while some Job waited for is suspended and turns those owned by
// them into one event for the state (./state.ts). One LIST, bounded in pages,
// at most every intervalMs. Where Kueue is not installed (404) or its
// Workloads may not be read (403) it says so in a debug line and stops: the
// start message then names the LocalQueue alone.
import { KubeError } from '../kube/errors.js'
import type { KubeHttp } from '../kube/http.js'
import type { KueueWorkload } from '../model.js'
import { sleep } from './backoff.js'
import type { NoteLevel } from './sources.js'
import type { ObserveEvent } from './state.js'

export const WORKLOADS_PATH = (namespace: string) => `/apis/kueue.x-k8s.io/v1beta1/namespaces/${namespace}/workloads`

const PAGE = 500
const MAX_PAGES = 10

/** The fields of a kueue.x-k8s.io/v1beta1 Workload read here. */
export interface WorkloadObject {
  metadata?: { name?: string; ownerReferences?: { uid?: string; kind?: string }[] }
  spec?: { queueName?: string }
  status?: {
    admission?: { clusterQueue?: string }
    conditions?: { type?: string; status?: string; reason?: string; message?: string; lastTransitionTime?: string }[]
  }
}

/** The Workloads owned by these Jobs (by uid). */
export function workloadsOf(items: readonly WorkloadObject[], jobUids: ReadonlySet<string>): { jobUid: string; workload: KueueWorkload }[] {
  const found: { jobUid: string; workload: KueueWorkload }[] = []
  for (const w of items) {
    const owner = w.metadata?.ownerReferences?.find((r) => r.uid && jobUids.has(r.uid))
    if (!owner?.uid) continue
    found.push({
      jobUid: owner.uid,
      workload: {
        name: w.metadata?.name ?? '',
        queueName: w.spec?.queueName || undefined,
        clusterQueue: w.status?.admission?.clusterQueue || undefined,
        conditions: (w.status?.conditions ?? [])
          .filter((c) => c.type && c.status)
          .map((c) => ({
            type: c.type!,
            status: c.status!,
            reason: c.reason,
            message: c.message,
            lastTransitionTime: c.lastTransitionTime
          }))
      }
    })
  }
  return found
}

export interface WorkloadSourceOptions {
  http: KubeHttp
  namespace: string
  /** at most one read this often */
  intervalMs: number
  /** how often to look again for a suspended Job when there was none */
  checkMs: number
  /** the uids of the Jobs waited for that are suspended now */
  suspended(): ReadonlySet<string>
  emit(events: ObserveEvent[]): void
  onNote(level: NoteLevel, message: string): void
}

/** Reads until the signal ends it, or until the Workloads cannot be read at all. */
export async function readKueueWorkloads(o: WorkloadSourceOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const uids = o.suspended()
    if (uids.size === 0) {
      await sleep(o.checkMs, signal)
      continue
    }
    try {
      const items: WorkloadObject[] = []
      let cont: string | undefined
      for (let page = 0; page < MAX_PAGES; page++) {
        const list = await o.http.getJSON<{ items?: WorkloadObject[]; metadata?: { continue?: string } }>(
          WORKLOADS_PATH(o.namespace),
          { limit: PAGE, continue: cont },
          'list workloads.kueue.x-k8s.io'
        )
        items.push(...(list.items ?? []))
        cont = list.metadata?.continue || undefined
        if (!cont) break
      }
      if (!signal.aborted) o.emit([{ type: 'workloads-read', uids: [...uids], workloads: workloadsOf(items, uids) }])
    } catch (err) {
      if (err instanceof KubeError && (err.code === 404 || err.code === 403)) {
        o.onNote(
          'debug',
          err.code === 404
            ? `Kueue's Workloads are not served here (no kueue.x-k8s.io/v1beta1): a suspended Job's admission state is not read`
            : `no permission to list workloads.kueue.x-k8s.io in namespace ${o.namespace}: a suspended Job's admission state is not read`
        )
        return
      }
      o.onNote('debug', `could not read Kueue's Workloads: ${(err as Error).message}`)
    }
    await sleep(o.intervalMs, signal)
  }
}
