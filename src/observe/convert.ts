// From the API's objects to what the action keeps of a Job and its pods
// (src/model.ts): only the fields that the verdict and the report need, so
// that a Job of thousands of pods stays small in memory. Converting happens
// here and nowhere else.
import type { V1Job, V1Pod, V1ContainerStatus, V1LabelSelector } from '@kubernetes/client-node'
import type { ContainerInfo, JobInfo, PodInfo, PodPhase } from '../model.js'

/**
 * Strings that many pods share (node, image, owner, reasons, the scheduler's
 * message, timestamps to the second) are kept once, not once per pod: each
 * event's JSON.parse makes fresh copies. Bounded, so that strings that differ
 * every time, or long ones, cannot make it large.
 */
const pool = new Map<string, string>()
const POOL_MAX = 4096
const INTERN_MAX_LENGTH = 512
function intern<T extends string | undefined>(s: T): T {
  if (s === undefined || s === null || s.length > INTERN_MAX_LENGTH) return s
  const known = pool.get(s)
  if (known !== undefined) return known as T
  if (pool.size >= POOL_MAX) pool.clear()
  pool.set(s, s)
  return s
}

const iso = (d: Date | string | undefined): string | undefined =>
  d === undefined || d === null ? undefined : intern(d instanceof Date ? d.toISOString() : String(d))

export function selectorString(sel: V1LabelSelector | undefined): string | undefined {
  if (!sel) return undefined
  const parts: string[] = []
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`)
  for (const e of sel.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',')
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`)
        break
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`)
        break
      case 'Exists':
        parts.push(e.key)
        break
      case 'DoesNotExist':
        parts.push(`!${e.key}`)
        break
    }
  }
  return parts.length ? parts.join(',') : undefined
}

export function jobInfo(job: V1Job): JobInfo {
  const m = job.metadata ?? {}
  const s = job.status ?? {}
  return {
    name: m.name ?? '',
    namespace: m.namespace ?? '',
    uid: m.uid ?? '',
    creationTimestamp: iso(m.creationTimestamp),
    parallelism: job.spec?.parallelism ?? undefined,
    completions: job.spec?.completions ?? undefined,
    completionMode: job.spec?.completionMode,
    backoffLimit: job.spec?.backoffLimit,
    suspend: job.spec?.suspend === true,
    queueName: m.labels?.['kueue.x-k8s.io/queue-name'] || undefined,
    managedBy: job.spec?.managedBy,
    selector: selectorString(job.spec?.selector),
    active: s.active ?? 0,
    ready: s.ready ?? 0,
    // Finished pods the controller has not added to the counters yet (it writes
    // SuccessCriteriaMet/FailureTarget first): count them, or the report lags.
    succeeded: (s.succeeded ?? 0) + (s.uncountedTerminatedPods?.succeeded?.length ?? 0),
    failed: (s.failed ?? 0) + (s.uncountedTerminatedPods?.failed?.length ?? 0),
    terminating: s.terminating ?? 0,
    startTime: iso(s.startTime),
    completionTime: iso(s.completionTime),
    conditions: (s.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      lastTransitionTime: iso(c.lastTransitionTime)
    }))
  }
}

function containerInfo(c: V1ContainerStatus, init: boolean, sidecar: boolean): ContainerInfo {
  const st = c.state ?? {}
  const last = c.lastState?.terminated
  // Of the last instance its times (the crash loop's clock, the timeline) and its exit code (output exit-code).
  const base = {
    name: intern(c.name),
    init,
    ...(sidecar ? { sidecar } : {}),
    image: intern(c.image),
    restartCount: c.restartCount ?? 0,
    lastExitCode: last?.exitCode,
    lastStartedAt: iso(last?.startedAt),
    lastFinishedAt: iso(last?.finishedAt)
  }
  if (st.terminated) {
    return {
      ...base,
      state: 'terminated',
      reason: intern(st.terminated.reason),
      message: intern(st.terminated.message),
      exitCode: st.terminated.exitCode,
      startedAt: iso(st.terminated.startedAt),
      finishedAt: iso(st.terminated.finishedAt)
    }
  }
  if (st.running) return { ...base, state: 'running', startedAt: iso(st.running.startedAt) }
  if (st.waiting) return { ...base, state: 'waiting', reason: intern(st.waiting.reason), message: intern(st.waiting.message) }
  return { ...base, state: 'unknown' }
}

/** The Job controller writes the index as a decimal number; a pod template can set the annotation to
 * anything (on a NonIndexed Job too), and such a value is no index. */
function completionIndex(value: string | undefined): string | undefined {
  return value !== undefined && /^\d{1,9}$/.test(value) ? value : undefined
}

export function podInfo(pod: V1Pod): PodInfo {
  const m = pod.metadata ?? {}
  const s = pod.status ?? {}
  const owner = (m.ownerReferences ?? []).find((o) => o.controller)
  const scheduled = (s.conditions ?? []).find((c) => c.type === 'PodScheduled')
  const ready = (s.conditions ?? []).find((c) => c.type === 'Ready')
  // Init containers with restartPolicy: Always are native sidecars (1.29+): they run beside the main ones.
  const nativeSidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name))
  const containers = [
    ...(s.initContainerStatuses ?? []).map((c) => containerInfo(c, true, nativeSidecars.has(c.name))),
    ...(s.containerStatuses ?? []).map((c) => containerInfo(c, false, false))
  ]
  return {
    name: m.name ?? '',
    uid: m.uid ?? '',
    phase: intern(s.phase as PodPhase | undefined) ?? 'Pending',
    node: intern(pod.spec?.nodeName),
    creationTimestamp: iso(m.creationTimestamp),
    startTime: iso(s.startTime),
    deletionTimestamp: iso(m.deletionTimestamp),
    ownerUid: intern(owner?.uid),
    completionIndex: completionIndex(m.annotations?.['batch.kubernetes.io/job-completion-index']),
    ready: ready?.status === 'True',
    restarts: containers.reduce((n, c) => n + c.restartCount, 0),
    podReason: intern(s.reason),
    podMessage: intern(s.message),
    unschedulable:
      scheduled?.status === 'False'
        ? {
            reason: intern(scheduled.reason) ?? 'Unschedulable',
            message: intern(scheduled.message),
            since: iso(scheduled.lastTransitionTime)
          }
        : undefined,
    containers
  }
}
