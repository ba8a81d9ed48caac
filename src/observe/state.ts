// The one place the observed state lives, as client-go's Store: the sources
// (watch or poll) only turn what the API server says into events, and a pure
// apply(state, event) keeps the state. Nothing here reads a clock or makes a
// request, so every rule about the state is unit-tested without a server.
// The state holds every Job waited for, by name, each with its own pods.
import type { InferredEnd, JobCondition, JobInfo, Observed, PodInfo, Snapshot } from '../model.js'

export type WatchKind = 'ADDED' | 'MODIFIED' | 'DELETED'

export type ObserveEvent =
  /** A complete LIST (or GET) of the Jobs waited for: a Job known before and missing now is gone. */
  | { type: 'jobs-listed'; jobs: JobInfo[] }
  | { type: 'job-event'; kind: WatchKind; job: JobInfo }
  /**
   * A complete list of the pods of the Jobs with these uids; 'all': of every
   * Job waited for, now and later (several Jobs: one pod watch by the Jobs'
   * names or on every Job pod, opened once).
   */
  | { type: 'pods-listed'; uids: string[] | 'all'; pods: PodInfo[] }
  /** A pod of one of the Jobs with these uids (the watch's selector), or of any ('all'). */
  | { type: 'pod-event'; uids: string[] | 'all'; kind: WatchKind; pod: PodInfo }
  /** The Job controller's events tell how the deleted Job with this uid ended. */
  | { type: 'end-inferred'; uid: string; condition: JobCondition }

/** One Job of that name, as far as it is known. */
export interface JobEntry {
  readonly job?: JobInfo
  /** the Job is gone from the API server: job holds its last state */
  readonly jobDeleted: boolean
  readonly inferred?: InferredEnd
  /** uid of the Job whose pods were listed at least once */
  readonly podsListedFor?: string
  readonly pods: ReadonlyMap<string, PodInfo>
}

export interface ObservedState {
  readonly namespace: string
  /** the API server answered about the Jobs at least once */
  readonly synced: boolean
  /** by Job name, in the order first seen (names given are there from the start) */
  readonly jobs: ReadonlyMap<string, JobEntry>
  /**
   * Pods an 'all' list or watch brought whose Job is not known (yet): a Job
   * seen later takes its own from here, so its pods need no LIST of their own.
   */
  readonly parked: ReadonlyMap<string, PodInfo>
  /** an 'all' pod list came: every Job seen from then on has its pods */
  readonly podsSynced: boolean
}

const EMPTY: JobEntry = { jobDeleted: false, pods: new Map() }

/** The Jobs waited for by name are there from the start, not found yet; a selector's Jobs come as they are listed. */
export function initialState(namespace: string, names: readonly string[] = []): ObservedState {
  return { namespace, synced: false, jobs: new Map(names.map((n) => [n, EMPTY])), parked: new Map(), podsSynced: false }
}

/** One event. */
export function apply(state: ObservedState, event: ObserveEvent): ObservedState {
  return applyAll(state, [event])
}

type MutableEntry = { -readonly [K in keyof JobEntry]: JobEntry[K] }

/**
 * Events that arrived together, in order. Maps are copied once per batch, not
 * once per event: a watch of 5,000 pods delivers them in bursts.
 */
export function applyAll(state: ObservedState, events: readonly ObserveEvent[]): ObservedState {
  if (events.length === 0) return state
  let synced = state.synced
  let podsSynced = state.podsSynced
  const jobs = new Map(state.jobs)
  let parked = state.parked as Map<string, PodInfo>
  let parkedOwn = false
  const park = (): Map<string, PodInfo> => {
    if (!parkedOwn) {
      parked = new Map(parked)
      parkedOwn = true
    }
    return parked
  }
  // The entries and pod maps this batch made (and so may change); any other is copied first.
  const ownEntries = new Set<MutableEntry>()
  const ownPods = new Set<Map<string, PodInfo>>()
  const entry = (name: string): MutableEntry => {
    const e = jobs.get(name) ?? EMPTY
    if (ownEntries.has(e as MutableEntry)) return e as MutableEntry
    const copy: MutableEntry = { ...e }
    ownEntries.add(copy)
    jobs.set(name, copy)
    return copy
  }
  const podsOf = (e: MutableEntry): Map<string, PodInfo> => {
    if (!ownPods.has(e.pods as Map<string, PodInfo>)) {
      e.pods = new Map(e.pods)
      ownPods.add(e.pods as Map<string, PodInfo>)
    }
    return e.pods as Map<string, PodInfo>
  }
  const byUid = (uid: string | undefined): string | undefined => {
    if (!uid) return undefined
    for (const [name, e] of jobs) if (e.job?.uid === uid) return name
    return undefined
  }
  const setJob = (job: JobInfo, deleted: boolean) => {
    const e = entry(job.name)
    // A Job with another uid is a new Job of the same name: its pods, and what was inferred, start afresh.
    if (e.job && e.job.uid !== job.uid) {
      e.inferred = undefined
      e.podsListedFor = undefined
      e.pods = new Map()
      ownPods.add(e.pods as Map<string, PodInfo>)
    }
    e.job = job
    e.jobDeleted = deleted
    // Its pods may have come before it, through the pod watch on every Job's pods.
    if (e.podsListedFor !== job.uid && podsSynced) {
      const pods = podsOf(e)
      for (const [uid, p] of parked) {
        if (p.ownerUid !== job.uid) continue
        pods.set(uid, p)
        park().delete(uid)
      }
      e.podsListedFor = job.uid
    }
  }

  for (const ev of events) {
    switch (ev.type) {
      case 'jobs-listed': {
        synced = true
        const listed = new Set(ev.jobs.map((j) => j.name))
        for (const j of ev.jobs) setJob(j, false)
        for (const [name, e] of jobs) if (!listed.has(name) && e.job && !e.jobDeleted) entry(name).jobDeleted = true
        break
      }
      case 'job-event': {
        synced = true
        const e = jobs.get(ev.job.name)
        if (ev.kind === 'DELETED' && e?.job && e.job.uid !== ev.job.uid) break // an older Job of that name went
        setJob(ev.job, ev.kind === 'DELETED')
        break
      }
      case 'pods-listed': {
        if (ev.uids === 'all') {
          podsSynced = true
          const known = new Map<string, MutableEntry>()
          for (const [name, e] of jobs) if (e.job) known.set(e.job.uid, entry(name))
          const byOwner = new Map<string, Map<string, PodInfo>>()
          const rest = new Map<string, PodInfo>()
          for (const p of ev.pods) {
            if (p.ownerUid && known.has(p.ownerUid)) {
              const m = byOwner.get(p.ownerUid) ?? new Map<string, PodInfo>()
              m.set(p.uid, p)
              byOwner.set(p.ownerUid, m)
            } else rest.set(p.uid, p)
          }
          for (const [uid, e] of known) {
            const next = byOwner.get(uid) ?? new Map<string, PodInfo>()
            for (const [puid, p] of e.pods) if (!next.has(puid)) next.set(puid, p.deleted ? p : { ...p, deleted: true })
            e.pods = next
            ownPods.add(next)
            e.podsListedFor = uid
          }
          parked = rest
          parkedOwn = true
          break
        }
        const uids = new Set(ev.uids)
        const byJob = new Map<string, PodInfo[]>()
        for (const p of ev.pods) {
          const name = p.ownerUid && uids.has(p.ownerUid) ? byUid(p.ownerUid) : undefined
          if (!name) continue
          const list = byJob.get(name)
          if (list) list.push(p)
          else byJob.set(name, [p])
        }
        for (const uid of uids) {
          const name = byUid(uid)
          if (!name) continue
          const e = entry(name)
          const next = new Map<string, PodInfo>()
          for (const p of byJob.get(name) ?? []) next.set(p.uid, p)
          // Pods that are gone keep their last state, marked deleted: the same rule as a DELETED event.
          for (const [puid, p] of e.pods) if (!next.has(puid)) next.set(puid, p.deleted ? p : { ...p, deleted: true })
          e.pods = next
          ownPods.add(next)
          e.podsListedFor = uid
        }
        break
      }
      case 'pod-event': {
        if (!ev.pod.ownerUid || (ev.uids !== 'all' && !ev.uids.includes(ev.pod.ownerUid))) break
        const name = byUid(ev.pod.ownerUid)
        if (!name) {
          if (ev.uids === 'all') {
            if (ev.kind === 'DELETED') {
              if (parked.has(ev.pod.uid)) park().delete(ev.pod.uid)
            } else park().set(ev.pod.uid, ev.pod)
          }
          break
        }
        podsOf(entry(name)).set(ev.pod.uid, ev.kind === 'DELETED' ? { ...ev.pod, deleted: true } : ev.pod)
        break
      }
      case 'end-inferred': {
        const name = byUid(ev.uid)
        if (name && jobs.get(name)!.jobDeleted) entry(name).inferred = { condition: ev.condition, source: 'events' }
        break
      }
    }
  }
  return { namespace: state.namespace, synced, jobs, parked, podsSynced }
}

/** One Job as the verdict and the report read it. */
export function snapshotOf(s: ObservedState, name: string): Snapshot {
  const e = s.jobs.get(name) ?? EMPTY
  return {
    namespace: s.namespace,
    name,
    job: e.job,
    jobDeleted: e.jobDeleted,
    synced: s.synced,
    ...(e.inferred ? { inferred: e.inferred } : {}),
    podsListed: e.job !== undefined && e.podsListedFor === e.job.uid,
    pods: [...e.pods.values()]
  }
}

/** Every Job known, in order, as the verdict reads them. */
export function observed(s: ObservedState): Observed {
  return { synced: s.synced, jobs: [...s.jobs.keys()].map((name) => snapshotOf(s, name)) }
}
