// What the stages share: what is known of a Job and its pods, and what the
// user asked for. Types and Kubernetes' own rules about them, nothing else:
// every stage may import this module, and it imports none.

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'

export interface ContainerInfo {
  name: string
  init: boolean
  /** an init container with restartPolicy: Always (a native sidecar, 1.29+) */
  sidecar?: boolean
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
  lastStartedAt?: string
  lastFinishedAt?: string
  /**
   * When the container was first seen waiting with its current reason, by the
   * API server's clock (the API gives no such time: the reducer keeps it).
   */
  waitingSince?: string
}

/** What a cluster autoscaler last said about an Unschedulable pod, from its Events. */
export interface AutoscalerWord {
  /** TriggeredScaleUp, Nominated: capacity is coming; NotTriggerScaleUp, FailedScaleUp: none is */
  reason: string
  message?: string
  /** source.component: cluster-autoscaler, karpenter */
  component?: string
  /** when it said it last (the Event's lastTimestamp), by the API server's clock */
  at?: string
}

/**
 * Waiting reasons the Job controller never counts as failures, each of which
 * the kubelet retries, so each may still resolve; they are stuck only after a
 * grace timed from when the container entered the reason (waitingSince):
 * - ErrImagePull / ImagePullBackOff: a failed pull, then the back-off before
 *   the next (10 s doubling to 5 min); a registry hiccup or a tag pushed a
 *   moment later resolves, a missing image never does. One clock for both.
 * - InvalidImageName: the reference cannot be parsed; every retry fails until
 *   someone edits the pod's image.
 * - CreateContainerConfigError: a ConfigMap, Secret or key the container
 *   needs is missing; retried on every pod sync, it resolves once applied.
 * - CreateContainerError: the runtime could not create the container; retried
 *   on every sync, it resolves when the cause was passing.
 * - CrashLoopBackOff: it ran and exited; restarted after a back-off (10 s
 *   doubling to 5 min), timed from its last exit.
 */
export const STUCK_REASONS: ReadonlySet<string> = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff'
])

/** Autoscalers' Event reasons on a pod (cluster-autoscaler; Karpenter's Nominated): capacity is being added for it. */
export const SCALING_UP_REASONS: readonly string[] = ['TriggeredScaleUp', 'Nominated']
/** cluster-autoscaler's Event reasons on a pod when it will not, or could not, add capacity for it. */
export const NOT_SCALING_REASONS: readonly string[] = ['NotTriggerScaleUp', 'FailedScaleUp']

/**
 * Waiting reasons that are one trouble: the kubelet shows ErrImagePull when a
 * pull fails and ImagePullBackOff while it waits to retry, back and forth, so
 * they share one clock; any other change of reason starts a new one.
 */
export function waitingTrouble(reason: string): string {
  return reason === 'ImagePullBackOff' ? 'ErrImagePull' : reason
}

export interface PodInfo {
  name: string
  uid: string
  phase: PodPhase
  node?: string
  creationTimestamp?: string
  startTime?: string
  deletionTimestamp?: string
  /** Gone from the API server (DELETED event, or missing from a later list): this is its last state. */
  deleted?: boolean
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
  /** while Unschedulable: the latest word of the cluster's autoscaler about the pod, if it said one */
  autoscaler?: AutoscalerWord
  containers: ContainerInfo[]
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
  creationTimestamp?: string
  parallelism?: number
  completions?: number
  completionMode?: string
  backoffLimit?: number
  suspend: boolean
  /** label kueue.x-k8s.io/queue-name: the Kueue LocalQueue the Job is submitted to */
  queueName?: string
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
  /** as the API server wrote them; never an inferred one */
  conditions: JobCondition[]
}

/** Kueue's Workload for a suspended Job (kueue.x-k8s.io/v1beta1, owned by the Job): its admission state. */
export interface KueueWorkload {
  name: string
  /** spec.queueName: the LocalQueue */
  queueName?: string
  /** status.admission.clusterQueue: set once quota is reserved */
  clusterQueue?: string
  /** status.conditions: QuotaReserved, Admitted, Evicted, Finished, ... */
  conditions: JobCondition[]
}

/** A Job's end that the API server never showed us, inferred from the Job controller's events. */
export interface InferredEnd {
  condition: JobCondition
  source: 'events'
}

/** All that is known at one moment; the only input of the verdict. */
export interface Snapshot {
  namespace: string
  name: string
  /** undefined: no Job of that name (yet) */
  job?: JobInfo
  /** the Job is gone from the API server: job holds its last state */
  jobDeleted: boolean
  /** the end of a deleted Job, from its events; kept apart from job.conditions */
  inferred?: InferredEnd
  /** false until the API server answered once about the Job (found or not) */
  synced?: boolean
  /** false until the pods of the current Job were listed once (a Job is decided on with its pods) */
  podsListed?: boolean
  pods: PodInfo[]
  /** The same pods as the reducer keeps them, counted by class (src/pod-table.ts); absent: decide counts pods itself. */
  podIndex?: PodIndex
  /**
   * Autoscalers' events, read while pods are Unschedulable: undefined when
   * they are not read (no permission); else when the last read began, by the
   * API server's clock (none yet: readAt undefined).
   */
  autoscalerEvents?: { readAt?: string }
  /** while the Job is suspended: its Kueue Workload, when one was read */
  workload?: KueueWorkload
}

/**
 * A Job's pods counted by class (bits of src/pod-table.ts: phase, terminating,
 * whether a timed rule may apply), so that a rule reads counts and the few pods
 * it names, not every pod, on every snapshot.
 */
export interface PodIndex {
  readonly size: number
  count(classes: number): number
  /** the first pods in any of these classes, in the order first seen */
  pick(classes: number, limit?: number): PodInfo[]
  /** the pods set since an earlier version of these pods (every pod when it is none, or not one of its versions) */
  changedSince(older: PodIndex | undefined): Iterable<PodInfo>
}

/** What observe hands over at one moment: every Job known, and whether the API server answered at all. */
export interface Observed {
  synced: boolean
  jobs: Snapshot[]
}

export type WaitPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed'
export type WaitCondition = 'Complete' | 'Failed' | 'Finished' | 'Suspended'
export type Match = 'at-least' | 'exact'

export type Target =
  { kind: 'phase'; phase: WaitPhase; expectedCount?: number; match: Match } | { kind: 'condition'; condition: WaitCondition }

/** Several Jobs are waited for (several names, or a selector), not one named Job. */
export function severalJobs(w: { names: readonly string[]; selector?: string }): boolean {
  return w.selector !== undefined || w.names.length > 1
}

/** The Job controller writes this into spec.managedBy when it drives the Job itself. */
export const JOB_CONTROLLER = 'kubernetes.io/job-controller'

export function jobCondition(job: JobInfo, type: string): JobCondition | undefined {
  return job.conditions.find((c) => c.type === type && c.status === 'True')
}

export interface JobEnd {
  state: 'failed' | 'complete'
  type: string
  reason?: string
  message?: string
  lastTransitionTime?: string
  /** how the end is known: a condition the API server showed, or the Job controller's events */
  from: 'condition' | 'events'
}

/**
 * The earliest final word on the Job: FailureTarget/SuccessCriteriaMet come
 * before Failed/Complete (1.31+). An end inferred from events counts only
 * when the API server said nothing.
 */
export function jobEnd(job: JobInfo, inferred?: InferredEnd): JobEnd | undefined {
  for (const type of ['Failed', 'FailureTarget']) {
    const c = jobCondition(job, type)
    if (c)
      return { state: 'failed', type, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime, from: 'condition' }
  }
  for (const type of ['Complete', 'SuccessCriteriaMet']) {
    const c = jobCondition(job, type)
    if (c)
      return { state: 'complete', type, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime, from: 'condition' }
  }
  if (inferred?.condition.status === 'True') {
    const c = inferred.condition
    return { state: c.type === 'Failed' ? 'failed' : 'complete', type: c.type, reason: c.reason, message: c.message, from: 'events' }
  }
  return undefined
}
