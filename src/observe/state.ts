// The one place the observed state lives, as client-go's Store: the sources
// (watch or poll) only turn what the API server says into events, and a pure
// apply(state, event) keeps the state. Nothing here reads a clock or makes a
// request, so every rule about the state is unit-tested without a server.
// The state holds every Job waited for, by name, each with its own pods.
import {
  SCALING_UP_REASONS,
  waitingTrouble,
  type AutoscalerWord,
  type InferredEnd,
  type JobCondition,
  type JobInfo,
  type KueueWorkload,
  type Observed,
  type PodInfo,
  type Snapshot
} from '../model.js'
import { PodTable } from '../pod-table.js'

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
  | { type: 'pods-listed'; uids: string[] | 'all'; pods: PodInfo[]; observedAt: string }
  /** A pod of one of the Jobs with these uids (the watch's selector), or of any ('all'). */
  | { type: 'pod-event'; uids: string[] | 'all'; kind: WatchKind; pod: PodInfo; observedAt: string }
  /** The Job controller's events tell how the deleted Job with this uid ended. */
  | { type: 'end-inferred'; uid: string; condition: JobCondition }
  /** What autoscalers said about Unschedulable pods (by pod uid, with their Job's uid), from their Events read from readAt on. */
  | { type: 'autoscaler-said'; readAt: string; words: { podUid: string; jobUid: string; word: AutoscalerWord }[] }
  /** Autoscalers' events cannot be read (no permission): Unschedulable pods are judged by their grace alone. */
  | { type: 'autoscaler-unreadable' }
  /** Kueue's Workloads read for the suspended Jobs with these uids (a Job without one has none now). */
  | { type: 'workloads-read'; uids: string[]; workloads: { jobUid: string; workload: KueueWorkload }[] }

/** One Job of that name, as far as it is known. */
export interface JobEntry {
  readonly job?: JobInfo
  /** the Job is gone from the API server: job holds its last state */
  readonly jobDeleted: boolean
  readonly inferred?: InferredEnd
  /** uid of the Job whose pods were listed at least once */
  readonly podsListedFor?: string
  /** by uid, in the order first seen; a new version per change shares the rest (one event costs the same at any size) */
  readonly pods: PodTable
  /** the Kueue Workload of the current Job, as last read while it was suspended */
  readonly workload?: KueueWorkload
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
  /** autoscalers' events are read: when the last read began (Snapshot.autoscalerEvents) */
  readonly autoscalerEvents?: { readAt?: string }
}

const EMPTY: JobEntry = { jobDeleted: false, pods: PodTable.EMPTY }

/**
 * The Jobs waited for by name are there from the start, not found yet; a
 * selector's Jobs come as they are listed. readsAutoscalers: a source reads
 * autoscalers' events (no Unschedulable pod is stuck before it read them).
 */
export function initialState(namespace: string, names: readonly string[] = [], readsAutoscalers = false): ObservedState {
  return {
    namespace,
    synced: false,
    jobs: new Map(names.map((n) => [n, EMPTY])),
    parked: new Map(),
    podsSynced: false,
    ...(readsAutoscalers ? { autoscalerEvents: {} } : {})
  }
}

/**
 * A pod's new state, with what the API does not say carried over from its
 * last one: when each container entered its waiting reason (observedAt, the
 * API server's time of this observation, when the reason is new), and the
 * autoscaler's word while the pod is still Unschedulable. Only this pod is
 * looked at.
 */
export function carried(prev: PodInfo | undefined, next: PodInfo, observedAt: string): PodInfo {
  const autoscaler = next.unschedulable ? prev?.autoscaler : undefined
  if (!autoscaler && !next.containers.some((c) => c.state === 'waiting' && c.reason)) return next
  const containers = next.containers.map((c) => {
    if (c.state !== 'waiting' || !c.reason) return c
    const before = prev?.containers.find((b) => b.name === c.name && b.init === c.init)
    const same = before?.state === 'waiting' && before.reason !== undefined && waitingTrouble(before.reason) === waitingTrouble(c.reason)
    return { ...c, waitingSince: (same ? before.waitingSince : undefined) ?? observedAt }
  })
  return { ...next, containers, ...(autoscaler ? { autoscaler } : {}) }
}

/** A newer word replaces an older one; at the same second a word that capacity is coming wins (the wait stays bounded by its timeout). */
function newer(word: AutoscalerWord, than: AutoscalerWord | undefined): boolean {
  if (!than) return true
  const a = Date.parse(word.at ?? '')
  const b = Date.parse(than.at ?? '')
  if (Number.isNaN(b) || a > b) return true
  return a === b && SCALING_UP_REASONS.includes(word.reason) && !SCALING_UP_REASONS.includes(than.reason)
}

/** One event. */
export function apply(state: ObservedState, event: ObserveEvent): ObservedState {
  return applyAll(state, [event])
}

type MutableEntry = { -readonly [K in keyof JobEntry]: JobEntry[K] }

/**
 * Events that arrived together, in order. The Jobs' map is copied once per
 * batch (it holds a few Jobs); a pod event touches its own pod's path in the
 * Job's PodTable, whatever the number of pods.
 */
export function applyAll(state: ObservedState, events: readonly ObserveEvent[]): ObservedState {
  if (events.length === 0) return state
  let synced = state.synced
  let podsSynced = state.podsSynced
  let autoscalerEvents = state.autoscalerEvents
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
  // The entries this batch made (and so may change); any other is copied first.
  const ownEntries = new Set<MutableEntry>()
  const entry = (name: string): MutableEntry => {
    const e = jobs.get(name) ?? EMPTY
    if (ownEntries.has(e as MutableEntry)) return e as MutableEntry
    const copy: MutableEntry = { ...e }
    ownEntries.add(copy)
    jobs.set(name, copy)
    return copy
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
      e.pods = PodTable.EMPTY
      e.workload = undefined
    }
    e.job = job
    e.jobDeleted = deleted
    // Its pods may have come before it, through the pod watch on every Job's pods.
    if (e.podsListedFor !== job.uid && podsSynced) {
      for (const [uid, p] of parked) {
        if (p.ownerUid !== job.uid) continue
        e.pods = e.pods.set(uid, p)
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
            const owner = p.ownerUid ? known.get(p.ownerUid) : undefined
            if (owner) {
              const m = byOwner.get(p.ownerUid!) ?? new Map<string, PodInfo>()
              m.set(p.uid, carried(owner.pods.get(p.uid), p, ev.observedAt))
              byOwner.set(p.ownerUid!, m)
            } else rest.set(p.uid, carried(parked.get(p.uid), p, ev.observedAt))
          }
          for (const [uid, e] of known) {
            const next = byOwner.get(uid) ?? new Map<string, PodInfo>()
            for (const [puid, p] of e.pods) if (!next.has(puid)) next.set(puid, p.deleted ? p : { ...p, deleted: true })
            e.pods = PodTable.of(next.values())
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
          for (const p of byJob.get(name) ?? []) next.set(p.uid, carried(e.pods.get(p.uid), p, ev.observedAt))
          // Pods that are gone keep their last state, marked deleted: the same rule as a DELETED event.
          for (const [puid, p] of e.pods) if (!next.has(puid)) next.set(puid, p.deleted ? p : { ...p, deleted: true })
          e.pods = PodTable.of(next.values())
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
            } else park().set(ev.pod.uid, carried(parked.get(ev.pod.uid), ev.pod, ev.observedAt))
          }
          break
        }
        const e = entry(name)
        const pod = carried(e.pods.get(ev.pod.uid), ev.pod, ev.observedAt)
        e.pods = e.pods.set(ev.pod.uid, ev.kind === 'DELETED' ? { ...pod, deleted: true } : pod)
        break
      }
      case 'autoscaler-unreadable':
        autoscalerEvents = undefined
        break
      case 'autoscaler-said': {
        if (autoscalerEvents) autoscalerEvents = { readAt: ev.readAt }
        const nameOf = new Map<string, string>()
        for (const [name, e] of jobs) if (e.job) nameOf.set(e.job.uid, name)
        for (const { podUid, jobUid, word } of ev.words) {
          const name = nameOf.get(jobUid)
          const p = name ? jobs.get(name)!.pods.get(podUid) : undefined
          if (!p?.unschedulable || p.deleted || !newer(word, p.autoscaler)) continue
          const e = entry(name!)
          e.pods = e.pods.set(podUid, { ...p, autoscaler: word })
        }
        break
      }
      case 'workloads-read': {
        for (const uid of ev.uids) {
          const name = byUid(uid)
          if (name) entry(name).workload = ev.workloads.find((w) => w.jobUid === uid)?.workload
        }
        break
      }
      case 'end-inferred': {
        const name = byUid(ev.uid)
        if (name && jobs.get(name)!.jobDeleted) entry(name).inferred = { condition: ev.condition, source: 'events' }
        break
      }
    }
  }
  return { namespace: state.namespace, synced, jobs, parked, podsSynced, ...(autoscalerEvents ? { autoscalerEvents } : {}) }
}

/**
 * One Job as the verdict and the report read it. The verdict reads the pods'
 * counts (podIndex); the list of pods is made only when read (the report).
 */
export function snapshotOf(s: ObservedState, name: string): Snapshot {
  const e = s.jobs.get(name) ?? EMPTY
  let pods: PodInfo[] | undefined
  const snapshot: Snapshot = {
    namespace: s.namespace,
    name,
    job: e.job,
    jobDeleted: e.jobDeleted,
    synced: s.synced,
    ...(e.inferred ? { inferred: e.inferred } : {}),
    podsListed: e.job !== undefined && e.podsListedFor === e.job.uid,
    get pods() {
      return (pods ??= [...e.pods.values()])
    },
    ...(s.autoscalerEvents ? { autoscalerEvents: s.autoscalerEvents } : {}),
    // Only a suspended Job is held by its queue: once resumed, the last read says nothing more.
    ...(e.workload && e.job?.suspend ? { workload: e.workload } : {})
  }
  // Not enumerable: a snapshot reads as before (tests, JSON), and a copy made by spreading counts its own pods.
  Object.defineProperty(snapshot, 'podIndex', { value: e.pods, enumerable: false })
  return snapshot
}

/** Every Job known, in order, as the verdict reads them. */
export function observed(s: ObservedState): Observed {
  return { synced: s.synced, jobs: [...s.jobs.keys()].map((name) => snapshotOf(s, name)) }
}
