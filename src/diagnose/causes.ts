// Why pods are failing or stuck, grouped by cause: the UI shows ten error
// annotations per step, so one annotation speaks for every pod of a cause.
import { STUCK_REASONS } from '../decide/verdict.js'
import type { ContainerInfo, PodInfo } from '../observe/model.js'

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

export interface CauseGroup {
  key: string
  cause: string
  subject?: string
  pods: PodInfo[]
  /** the first pod's details stand for the group */
  first: PodCause
}

/** The one cause that explains a pod, or undefined for a healthy one. */
export function podCause(p: PodInfo): PodCause | undefined {
  if (p.podReason && p.phase === 'Failed') {
    return { cause: p.podReason, message: p.podMessage, ...crashedContainer(p) }
  }
  if (p.unschedulable) return { cause: p.unschedulable.reason, message: p.unschedulable.message }
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
      return terminated(c)
    }
  }
  if (p.phase === 'Failed') return { cause: 'Failed', message: p.podMessage }
  return undefined
}

function terminated(c: ContainerInfo): PodCause {
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
