// What the action keeps of a Job and its pods: only the fields that the
// verdict and the report need, so that a Job of thousands of pods stays small
// in memory. Converting from the API objects happens here and nowhere else.
import type { V1Job, V1Pod, V1ContainerStatus, V1LabelSelector } from '@kubernetes/client-node'

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'

export interface ContainerInfo {
  name: string
  init: boolean
  image?: string
  state: 'waiting' | 'running' | 'terminated' | 'unknown'
  /** waiting or terminated reason, e.g. ImagePullBackOff, OOMKilled */
  reason?: string
  message?: string
  exitCode?: number
  restartCount: number
  startedAt?: string
  finishedAt?: string
  /** The previous instance, for crash loops. */
  lastExitCode?: number
  lastReason?: string
  lastFinishedAt?: string
}

export interface PodInfo {
  name: string
  uid: string
  phase: PodPhase
  node?: string
  creationTimestamp?: string
  startTime?: string
  deletionTimestamp?: string
  /** controller ownerReference uid: the Job that owns the pod */
  ownerUid?: string
  completionIndex?: string
  ready: boolean
  restarts: number
  /** Pod-level reason (Evicted, DeadlineExceeded) */
  podReason?: string
  podMessage?: string
  /** PodScheduled=False reason (Unschedulable) and when it became so */
  unschedulable?: { reason: string; message?: string; since?: string }
  containers: ContainerInfo[]
  resourceVersion?: string
}

export interface JobCondition {
  type: string
  status: string
  reason?: string
  message?: string
  lastTransitionTime?: string
}

export interface JobInfo {
  name: string
  namespace: string
  uid: string
  resourceVersion?: string
  creationTimestamp?: string
  parallelism?: number
  completions?: number
  completionMode?: string
  backoffLimit?: number
  suspend: boolean
  managedBy?: string
  /** spec.selector as a label selector string; the pods that belong to the Job */
  selector?: string
  active: number
  ready: number
  succeeded: number
  failed: number
  terminating: number
  startTime?: string
  completionTime?: string
  conditions: JobCondition[]
}

/** All that is known at one moment; the only input of the verdict. */
export interface Snapshot {
  namespace: string
  name: string
  /** undefined: no Job of that name (yet) */
  job?: JobInfo
  /** the Job object came from a DELETED event: it is gone, this was its last state */
  jobDeleted: boolean
  pods: PodInfo[]
}

const iso = (d: Date | string | undefined): string | undefined =>
  d === undefined || d === null ? undefined : d instanceof Date ? d.toISOString() : String(d)

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
    resourceVersion: m.resourceVersion,
    creationTimestamp: iso(m.creationTimestamp),
    parallelism: job.spec?.parallelism ?? undefined,
    completions: job.spec?.completions ?? undefined,
    completionMode: job.spec?.completionMode,
    backoffLimit: job.spec?.backoffLimit,
    suspend: job.spec?.suspend === true,
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

function containerInfo(c: V1ContainerStatus, init: boolean): ContainerInfo {
  const st = c.state ?? {}
  const last = c.lastState?.terminated
  const base = {
    name: c.name,
    init,
    image: c.image,
    restartCount: c.restartCount ?? 0,
    lastExitCode: last?.exitCode,
    lastReason: last?.reason,
    lastFinishedAt: iso(last?.finishedAt)
  }
  if (st.terminated) {
    return {
      ...base,
      state: 'terminated',
      reason: st.terminated.reason,
      message: st.terminated.message,
      exitCode: st.terminated.exitCode,
      startedAt: iso(st.terminated.startedAt),
      finishedAt: iso(st.terminated.finishedAt)
    }
  }
  if (st.running) return { ...base, state: 'running', startedAt: iso(st.running.startedAt) }
  if (st.waiting) return { ...base, state: 'waiting', reason: st.waiting.reason, message: st.waiting.message }
  return { ...base, state: 'unknown' }
}

export function podInfo(pod: V1Pod): PodInfo {
  const m = pod.metadata ?? {}
  const s = pod.status ?? {}
  const owner = (m.ownerReferences ?? []).find((o) => o.controller)
  const scheduled = (s.conditions ?? []).find((c) => c.type === 'PodScheduled')
  const ready = (s.conditions ?? []).find((c) => c.type === 'Ready')
  const containers = [
    ...(s.initContainerStatuses ?? []).map((c) => containerInfo(c, true)),
    ...(s.containerStatuses ?? []).map((c) => containerInfo(c, false))
  ]
  return {
    name: m.name ?? '',
    uid: m.uid ?? '',
    phase: (s.phase as PodPhase | undefined) ?? 'Pending',
    node: pod.spec?.nodeName,
    creationTimestamp: iso(m.creationTimestamp),
    startTime: iso(s.startTime),
    deletionTimestamp: iso(m.deletionTimestamp),
    ownerUid: owner?.uid,
    completionIndex: m.annotations?.['batch.kubernetes.io/job-completion-index'],
    ready: ready?.status === 'True',
    restarts: containers.reduce((n, c) => n + c.restartCount, 0),
    podReason: s.reason,
    podMessage: s.message,
    unschedulable:
      scheduled?.status === 'False'
        ? { reason: scheduled.reason ?? 'Unschedulable', message: scheduled.message, since: iso(scheduled.lastTransitionTime) }
        : undefined,
    containers,
    resourceVersion: m.resourceVersion
  }
}

/**
 * One short reason for a pod's state, as kubectl's STATUS column would show it:
 * "ImagePullBackOff", "Error, exit code 3", "OOMKilled, exit code 137".
 */
export function podReason(p: PodInfo): string | undefined {
  if (p.deletionTimestamp && p.phase !== 'Succeeded' && p.phase !== 'Failed') return 'Terminating'
  if (p.podReason) return p.podReason
  if (p.unschedulable) return p.unschedulable.reason
  const terminated = (c: ContainerInfo): string => `${c.reason ?? 'Terminated'}, exit code ${c.exitCode ?? '?'}`
  if (p.phase === 'Failed' || p.phase === 'Succeeded') {
    const bad = p.containers.find((c) => c.state === 'terminated' && c.exitCode !== 0)
    if (bad) return `${bad.init ? 'Init:' : ''}${terminated(bad)}`
    return undefined
  }
  // Init containers first: a pod waits on them before anything else runs.
  for (const c of p.containers) {
    if (c.state === 'waiting' && c.reason) return c.reason
    if (c.init && c.state === 'terminated' && c.exitCode !== 0) return `Init:${terminated(c)}`
  }
  return undefined
}
