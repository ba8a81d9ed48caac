// Evidence for the problems the verdict named: the tail of the failing
// container's log and the Warning events of the pod and of the Job. It
// enriches the verdict's cause groups and decides nothing. Each part degrades
// on its own: without a permission, say which, and go on.
import type { CauseGroup, PodCause } from '../decide/explain.js'
import type { KubeError } from '../kube/errors.js'
import type { KubeHttp } from '../kube/http.js'
import type { Snapshot } from '../model.js'

export interface EventLine {
  object: string
  reason: string
  message: string
  count: number
}

export interface PodEvidence {
  pod: string
  cause: PodCause
  log?: { container: string; previous: boolean; lines: string[] }
  events: EventLine[]
}

export interface Diagnosis {
  /** by pod name, for the first pods of the first groups */
  evidence: PodEvidence[]
  jobEvents: EventLine[]
  /** what could not be read and why ("no permission to get pods/log ...") */
  notes: string[]
}

/** Lines already read of a container (logs: follow), or undefined when none were. */
export type LogTail = (pod: string, container: string, previous: boolean) => string[] | undefined

export interface CollectOptions {
  logLines: number
  /** read: the tail from the API (logs: failed); none: no log at all; a function: the lines streamed (logs: follow) */
  logSource?: 'read' | 'none' | LogTail
  /** how many cause groups get a log and events */
  maxGroups: number
}

interface EventList {
  items?: {
    type?: string
    reason?: string
    message?: string
    count?: number
    series?: { count?: number }
    involvedObject?: { kind?: string; name?: string }
  }[]
}

function permissionNote(e: KubeError, verb: string, resource: string, ns: string): string {
  return e.code === 403
    ? `no permission to ${verb} ${resource} in namespace ${ns}: ${resource === 'pods/log' ? 'logs' : 'events'} not shown (grant ${verb} on ${resource})`
    : `could not read ${resource}: ${e.message}`
}

export async function collectDiagnosis(http: KubeHttp, s: Snapshot, groups: CauseGroup[], o: CollectOptions): Promise<Diagnosis> {
  const notes = new Set<string>()
  const ns = s.namespace

  const events = async (uid: string | undefined): Promise<EventLine[]> => {
    if (!uid) return []
    try {
      const list = await http.getJSON<EventList>(
        `/api/v1/namespaces/${ns}/events`,
        { fieldSelector: `involvedObject.uid=${uid}` },
        'list events'
      )
      return (list.items ?? [])
        .filter((e) => e.type === 'Warning')
        .map((e) => ({
          object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
          reason: e.reason ?? '',
          message: (e.message ?? '').trim(),
          count: e.series?.count ?? e.count ?? 1
        }))
    } catch (err) {
      notes.add(permissionNote(err as KubeError, 'list', 'events', ns))
      return []
    }
  }

  const log = async (pod: string, c: NonNullable<PodCause['log']>): Promise<PodEvidence['log']> => {
    if (o.logLines <= 0 || o.logSource === 'none') return undefined
    if (typeof o.logSource === 'function') {
      const lines = o.logSource(pod, c.container, c.previous)
      return lines ? { ...c, lines: lines.slice(-o.logLines) } : undefined
    }
    try {
      const text = await http.getText(
        `/api/v1/namespaces/${ns}/pods/${pod}/log`,
        { container: c.container, tailLines: o.logLines, previous: c.previous ? 'true' : undefined },
        `get pods/log ${pod}`
      )
      const lines = text.replace(/\n$/, '').split('\n')
      return { ...c, lines: lines.length === 1 && lines[0] === '' ? [] : lines.slice(-o.logLines) }
    } catch (err) {
      notes.add(permissionNote(err as KubeError, 'get', 'pods/log', ns))
      return undefined
    }
  }

  const chosen = groups.slice(0, o.maxGroups).map((g) => ({ pod: g.pods[0], cause: g.first }))
  const [jobEvents, evidence] = await Promise.all([
    events(s.job?.uid),
    Promise.all(
      chosen.map(async ({ pod, cause }) => ({
        pod: pod.name,
        cause,
        log: cause.log ? await log(pod.name, cause.log) : undefined,
        events: await events(pod.uid)
      }))
    )
  ])
  return { evidence, jobEvents, notes: [...notes] }
}
