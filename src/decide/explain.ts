// The one module that explains a pod: its status as kubectl's STATUS column
// shows it, whether it is stuck, and the cause that explains its trouble.
// Causes are grouped because the UI shows ten error annotations per step, so
// one annotation speaks for every pod of a cause.
import { NOT_SCALING_REASONS, SCALING_UP_REASONS, STUCK_REASONS, type AutoscalerWord, type ContainerInfo, type PodInfo } from '../model.js'

export { STUCK_REASONS }

/** Being deleted, or gone, before it finished: it will not reach a phase. */
export function terminating(p: PodInfo): boolean {
  return (p.deletionTimestamp !== undefined || p.deleted === true) && p.phase !== 'Succeeded' && p.phase !== 'Failed'
}

/**
 * One short reason for a pod's state, as kubectl's STATUS column would show it:
 * "ImagePullBackOff", "Error, exit code 3", "OOMKilled, exit code 137".
 */
export function podStatus(p: PodInfo): string | undefined {
  if (terminating(p)) return p.deleted ? 'Deleted' : 'Terminating'
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
    if (c.init && !c.sidecar && c.state === 'terminated' && c.exitCode !== 0) return `Init:${terminated(c)}`
  }
  return undefined
}

export interface Stuck {
  reason: string
  message?: string
  /** when the pod entered the state, by the API server's clock */
  since?: string
  /** which grace applies: Unschedulable's own, or pod-error-grace */
  grace: 'unschedulable' | 'pod-error'
  /** Unschedulable: the autoscaler said it will not or could not add capacity */
  autoscaler?: AutoscalerWord
}

/** The autoscaler's word that capacity is coming for this Unschedulable pod, if that is its latest word. */
export function scalingUp(pod: PodInfo): AutoscalerWord | undefined {
  const w = pod.unschedulable ? pod.autoscaler : undefined
  return w && SCALING_UP_REASONS.includes(w.reason) ? w : undefined
}

/**
 * A pod in a state that may last, and since when; the verdict applies the
 * grace. Unschedulable counts from PodScheduled=False (the scheduler retries
 * whenever the cluster changes; it resolves when a node fits), and is not
 * stuck at all while an autoscaler says it is adding a node for the pod.
 */
export function stuckSince(pod: PodInfo): Stuck | undefined {
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed' || pod.deletionTimestamp || pod.deleted) return undefined
  if (pod.unschedulable) {
    if (scalingUp(pod)) return undefined
    const autoscaler = pod.autoscaler && NOT_SCALING_REASONS.includes(pod.autoscaler.reason) ? pod.autoscaler : undefined
    return {
      ...pod.unschedulable,
      since: pod.unschedulable.since ?? pod.creationTimestamp,
      grace: 'unschedulable',
      ...(autoscaler ? { autoscaler } : {})
    }
  }
  for (const c of pod.containers) {
    if (c.state !== 'waiting' || !c.reason || !STUCK_REASONS.has(c.reason)) continue
    // A crash loop counts from its last exit; the others from when the reason was first seen.
    const since = c.reason === 'CrashLoopBackOff' ? (c.lastFinishedAt ?? c.waitingSince) : c.waitingSince
    return { reason: c.reason, message: c.message, since, grace: 'pod-error' }
  }
  return undefined
}

const speaker = (w: AutoscalerWord): string => w.component || (w.reason === 'Nominated' ? 'karpenter' : 'cluster-autoscaler')

/** An autoscaler's word in full, as it said it: "cluster-autoscaler NotTriggerScaleUp: pod didn't trigger scale-up: ...". */
export const autoscalerSaid = (w: AutoscalerWord): string => `${speaker(w)} ${w.reason}${w.message ? `: ${w.message}` : ''}`

/** An autoscaler's word, short: "cluster-autoscaler: pool-a 3->4", "karpenter: nodeclaim/default-x". */
export function autoscalerText(w: AutoscalerWord): string {
  const who = speaker(w)
  const msg = (w.message ?? '').trim()
  // cluster-autoscaler: "pod triggered scale-up: [{pool-a 3->4 (max: 10)} {pool-b 1->2 (max: 5)}]"
  const groups = /^pod triggered scale-up: \[(.*)\]$/.exec(msg)?.[1]
  if (groups) {
    const each = [...groups.matchAll(/\{(\S+) (\d+->\d+)[^}]*\}/g)].map((m) => `${m[1]} ${m[2]}`)
    if (each.length) return `${who}: ${each.join(', ')}`
  }
  // Karpenter: "Pod should schedule on: nodeclaim/default-x"
  const target = /should schedule on:\s*(\S.*)$/i.exec(msg)?.[1]
  return `${who}: ${target ?? (msg || w.reason)}`
}

/**
 * A pod kept Running by a container that is not a native sidecar after a
 * regular container ended (istio#11045): the Job never completes. Returns
 * the ended container, the one still running, and when the first ended.
 */
export function heldBySidecar(pod: PodInfo): { ended: string; running: string; since: string } | undefined {
  if (pod.phase !== 'Running' || pod.deleted) return undefined
  const regular = pod.containers.filter((c) => !c.init)
  const ended = regular.find((c) => c.state === 'terminated' && c.finishedAt)
  const running = regular.find((c) => c.state === 'running')
  if (!ended || !running) return undefined
  return { ended: ended.name, running: running.name, since: ended.finishedAt! }
}

export interface PodCause {
  /** "ImagePullBackOff", "Error, exit code 3", "OOMKilled, exit code 137", "Unschedulable", "Evicted" */
  cause: string
  /** what the cause is about: `image "x"`, `container main` */
  subject?: string
  container?: string
  init?: boolean
  message?: string
  /** the container ran and its log is worth reading; previous: the last crashed instance */
  log?: { container: string; previous: boolean }
}

/** The one cause that explains a pod, or undefined for a healthy one. */
export function podCause(p: PodInfo): PodCause | undefined {
  if (p.podReason && p.phase === 'Failed') {
    return { cause: p.podReason, message: p.podMessage, ...crashedContainer(p) }
  }
  if (p.unschedulable) {
    // The scheduler's word, and the autoscaler's when it said one.
    const said = p.autoscaler ? autoscalerSaid(p.autoscaler) : undefined
    return { cause: p.unschedulable.reason, message: [p.unschedulable.message, said].filter(Boolean).join('; ') || undefined }
  }
  // Init containers run first: their trouble comes before the others'.
  for (const c of p.containers) {
    if (c.state === 'waiting' && c.reason && STUCK_REASONS.has(c.reason)) {
      const image = /Image|InvalidImageName/.test(c.reason)
      return {
        cause: c.reason,
        subject: image ? `image "${c.image ?? imageFromMessage(c.message) ?? '?'}"` : `container ${c.name}`,
        container: c.name,
        init: c.init,
        message: c.message,
        log: c.reason === 'CrashLoopBackOff' ? { container: c.name, previous: true } : undefined
      }
    }
    if (c.state === 'terminated' && c.exitCode !== undefined && c.exitCode !== 0) {
      return terminatedCause(c)
    }
  }
  if (p.phase === 'Failed') return { cause: 'Failed', message: p.podMessage }
  return undefined
}

function terminatedCause(c: ContainerInfo): PodCause {
  return {
    cause: `${c.init ? 'Init:' : ''}${c.reason ?? 'Error'}, exit code ${c.exitCode}`,
    subject: `container ${c.name}`,
    container: c.name,
    init: c.init,
    message: c.message,
    log: { container: c.name, previous: false }
  }
}

function crashedContainer(p: PodInfo): Partial<PodCause> {
  const c = p.containers.find((x) => x.state === 'terminated' && x.exitCode !== 0)
  return c ? { container: c.name, log: { container: c.name, previous: false } } : {}
}

function imageFromMessage(message: string | undefined): string | undefined {
  return message ? /image "([^"]+)"/.exec(message)?.[1] : undefined
}

export interface CauseGroup {
  key: string
  cause: string
  subject?: string
  pods: PodInfo[]
  /** the first pod's details stand for the group */
  first: PodCause
}

/** Pods grouped by cause, the largest group first. */
export function groupCauses(pods: PodInfo[]): CauseGroup[] {
  const groups = new Map<string, CauseGroup>()
  for (const p of pods) {
    const c = podCause(p)
    if (!c) continue
    const key = `${c.cause}|${c.subject ?? ''}`
    const g = groups.get(key)
    if (g) g.pods.push(p)
    else groups.set(key, { key, cause: c.cause, subject: c.subject, pods: [p], first: c })
  }
  return [...groups.values()].sort((a, b) => b.pods.length - a.pods.length)
}

/** A title for an annotation: `ImagePullBackOff: image "registry/x:tag" (3 pods)`. */
export function causeTitle(g: Pick<CauseGroup, 'cause' | 'subject' | 'pods'>): string {
  const n = g.pods.length
  return `${g.cause}${g.subject ? `: ${g.subject}` : ''} (${n} pod${n === 1 ? '' : 's'})`
}
