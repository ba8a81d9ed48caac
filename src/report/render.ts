// Pure renderings of an Outcome: the outputs, the progress line and the job
// summary's markdown. Nothing here writes anywhere.
import { formatDuration } from '../duration.js'
import { podStatus, terminating } from '../decide/explain.js'
import type { Verdict } from '../decide/verdict.js'
import type { PodInfo, Snapshot } from '../model.js'
import type { Outcome } from './outcome.js'

export interface PodRow {
  name: string
  phase: string
  node: string | null
  startTime: string | null
  restarts: number
  reason: string | null
  index?: string
  /** gone from the API server: the row is its last state */
  deleted?: boolean
}

export function podRow(p: PodInfo): PodRow {
  return {
    name: p.name,
    phase: terminating(p) ? 'Terminating' : p.phase,
    node: p.node ?? null,
    startTime: p.startTime ?? null,
    restarts: p.restarts,
    reason: podStatus(p) ?? null,
    ...(p.completionIndex !== undefined ? { index: p.completionIndex } : {}),
    ...(p.deleted ? { deleted: true } : {})
  }
}

/** Pods in a stable order: by completion index, then creation, then name. */
export function sortedPods(s: Snapshot | undefined): PodInfo[] {
  return [...(s?.pods ?? [])].sort(
    (a, b) =>
      Number(a.completionIndex ?? 0) - Number(b.completionIndex ?? 0) ||
      (a.creationTimestamp ?? '').localeCompare(b.creationTimestamp ?? '') ||
      a.name.localeCompare(b.name)
  )
}

export function outputs(o: Outcome): Record<string, string> {
  const pods = sortedPods(o.snapshot)
  const job = o.snapshot?.job
  return {
    result: o.result,
    message: o.message,
    count: String(o.verdict?.count ?? 0),
    phases: JSON.stringify(Object.fromEntries(pods.map((p) => [p.name, podRow(p).phase]))),
    pods: JSON.stringify(pods.map(podRow)),
    job: JSON.stringify(
      job
        ? {
            name: job.name,
            namespace: job.namespace,
            uid: job.uid,
            active: job.active,
            ready: job.ready,
            succeeded: job.succeeded,
            failed: job.failed,
            terminating: job.terminating,
            deleted: o.snapshot?.jobDeleted ?? false,
            conditions: job.conditions.map((c) => ({
              type: c.type,
              status: c.status,
              reason: c.reason ?? null,
              message: c.message ?? null
            })),
            // An end the API server never showed us, inferred from the Job controller's events.
            inferred: o.snapshot?.inferred
              ? {
                  type: o.snapshot.inferred.condition.type,
                  reason: o.snapshot.inferred.condition.reason ?? null,
                  message: o.snapshot.inferred.condition.message ?? null,
                  source: o.snapshot.inferred.source
                }
              : null
          }
        : null
    ),
    elapsed: (o.elapsedMs / 1000).toFixed(1)
  }
}

/** "[1m12s] 2 of 3 pods Running: build-x7k Pending (ContainerCreating)" */
export function progressLine(v: Verdict, elapsedMs: number): string {
  return `[${formatDuration(elapsedMs)}] ${v.summary}${v.detail ? `: ${v.detail}` : ''}`
}

/** "ns/name", or just the name when the namespace is not known (credentials failed). */
export const jobName = (o: Pick<Outcome, 'namespace' | 'job'>): string => (o.namespace ? `${o.namespace}/${o.job}` : `${o.job}`)
