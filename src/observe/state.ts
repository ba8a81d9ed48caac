// The one place the observed state lives, as client-go's Store: the sources
// (watch or poll) only turn what the API server says into events, and a pure
// apply(state, event) keeps the state. Nothing here reads a clock or makes a
// request, so every rule about the state is unit-tested without a server.
import type { InferredEnd, JobCondition, JobInfo, PodInfo, Snapshot } from '../model.js'

export type WatchKind = 'ADDED' | 'MODIFIED' | 'DELETED'

export type ObserveEvent =
  /** A LIST of Jobs by name, or a GET, found this Job. */
  | { type: 'job-listed'; job: JobInfo }
  /** A LIST or GET found no Job of that name: not created yet, or gone while unseen. */
  | { type: 'job-gone' }
  | { type: 'job-event'; kind: WatchKind; job: JobInfo }
  /** A complete list of the pods of the Job with this uid. */
  | { type: 'pods-listed'; uid: string; pods: PodInfo[] }
  | { type: 'pod-event'; uid: string; kind: WatchKind; pod: PodInfo }
  /** The Job controller's events tell how the deleted Job with this uid ended. */
  | { type: 'end-inferred'; uid: string; condition: JobCondition }

export interface ObservedState {
  readonly namespace: string
  readonly name: string
  readonly job?: JobInfo
  readonly jobDeleted: boolean
  /** the API server answered about the Job at least once */
  readonly synced: boolean
  readonly inferred?: InferredEnd
  /** uid of the Job whose pods were listed at least once */
  readonly podsListedFor?: string
  readonly pods: ReadonlyMap<string, PodInfo>
}

export function initialState(namespace: string, name: string): ObservedState {
  return { namespace, name, jobDeleted: false, synced: false, pods: new Map() }
}

/** One event. */
export function apply(state: ObservedState, event: ObserveEvent): ObservedState {
  return applyAll(state, [event])
}

/**
 * Events that arrived together, in order. The pod map is copied once per
 * batch, not once per event: a watch of 5,000 pods delivers them in bursts.
 */
export function applyAll(state: ObservedState, events: readonly ObserveEvent[]): ObservedState {
  let s: Mutable = { ...state }
  // The map this batch made (and so may change); any other is copied before a change.
  let own: Map<string, PodInfo> | undefined
  const pods = (): Map<string, PodInfo> => {
    if (s.pods !== own) s.pods = own = new Map(s.pods)
    return own
  }
  for (const e of events) {
    switch (e.type) {
      case 'job-listed':
        s = setJob(s, e.job, false)
        break
      case 'job-event':
        if (e.kind === 'DELETED' && s.job && s.job.uid !== e.job.uid) break // an older Job of that name went
        s = setJob(s, e.job, e.kind === 'DELETED')
        break
      case 'job-gone':
        s = { ...s, synced: true, jobDeleted: s.job !== undefined }
        break
      case 'pods-listed': {
        if (e.uid !== s.job?.uid) break
        const next = new Map<string, PodInfo>()
        for (const p of e.pods) if (!p.ownerUid || p.ownerUid === e.uid) next.set(p.uid, p)
        // Pods that are gone keep their last state, marked deleted: the same rule as a DELETED event.
        for (const [uid, p] of s.pods) if (!next.has(uid)) next.set(uid, p.deleted ? p : { ...p, deleted: true })
        s.pods = own = next
        s.podsListedFor = e.uid
        break
      }
      case 'pod-event': {
        if (e.uid !== s.job?.uid) break
        if (e.pod.ownerUid && e.pod.ownerUid !== e.uid) break
        pods().set(e.pod.uid, e.kind === 'DELETED' ? { ...e.pod, deleted: true } : e.pod)
        break
      }
      case 'end-inferred':
        if (s.job?.uid === e.uid && s.jobDeleted) s = { ...s, inferred: { condition: e.condition, source: 'events' } }
        break
    }
  }
  return s
}

type Mutable = { -readonly [K in keyof ObservedState]: ObservedState[K] }

/** A Job with another uid is a new Job of the same name: its pods, and what was inferred, start afresh. */
function setJob(s: Mutable, job: JobInfo, deleted: boolean): Mutable {
  if (s.job && s.job.uid === job.uid) return { ...s, job, jobDeleted: deleted, synced: true }
  return { ...s, job, jobDeleted: deleted, synced: true, inferred: undefined, podsListedFor: undefined, pods: new Map() }
}

/** The state as the verdict and the report read it. */
export function snapshotOf(s: ObservedState): Snapshot {
  return {
    namespace: s.namespace,
    name: s.name,
    job: s.job,
    jobDeleted: s.jobDeleted,
    synced: s.synced,
    ...(s.inferred ? { inferred: s.inferred } : {}),
    podsListed: s.job !== undefined && s.podsListedFor === s.job.uid,
    pods: [...s.pods.values()]
  }
}

/** A Job of another uid than before: the note that says so. */
export function recreated(before: ObservedState, after: ObservedState): { from: string; to: string } | undefined {
  if (before.job && after.job && before.job.uid !== after.job.uid) return { from: before.job.uid, to: after.job.uid }
  return undefined
}
