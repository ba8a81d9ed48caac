// The observed state as a pure reducer: every rule about what is kept, driven
// by events alone, without a server.
import { describe, expect, test } from '@jest/globals'
import type { ContainerInfo, JobInfo, PodInfo } from '../src/model.js'
import {
  apply,
  applyAll,
  initialState,
  observed,
  snapshotOf as snapshotOfJob,
  type ObserveEvent,
  type ObservedState
} from '../src/observe/state.js'

function job(uid = 'uid-1', o: Partial<JobInfo> = {}): JobInfo {
  return {
    name: 'build',
    namespace: 'ci',
    uid,
    suspend: false,
    active: 1,
    ready: 0,
    succeeded: 0,
    failed: 0,
    terminating: 0,
    conditions: [],
    ...o
  }
}
function pod(name: string, phase: PodInfo['phase'] = 'Running', owner = 'uid-1'): PodInfo {
  return { name, uid: `pod-${name}`, phase, ownerUid: owner, ready: phase === 'Running', restarts: 0, containers: [] }
}
const run = (events: ObserveEvent[], s: ObservedState = initialState('ci', ['build'])) => events.reduce(apply, s)
const build = (s: ObservedState) => s.jobs.get('build')!
const snapshotOf = (s: ObservedState) => snapshotOfJob(s, 'build')
const names = (s: ObservedState, job = 'build') =>
  [...s.jobs.get(job)!.pods.values()].map((p) => `${p.name}:${p.phase}${p.deleted ? ':deleted' : ''}`)
// The events as the sources send them for one Job.
const listed = (j: JobInfo): ObserveEvent => ({ type: 'jobs-listed', jobs: [j] })
const gone: ObserveEvent = { type: 'jobs-listed', jobs: [] }
const T0 = '2026-12-01T10:00:00.000Z'
const podsListed = (uid: string, pods: PodInfo[], observedAt = T0): ObserveEvent => ({ type: 'pods-listed', uids: [uid], pods, observedAt })
const podEvent = (uid: string, kind: 'ADDED' | 'MODIFIED' | 'DELETED', p: PodInfo, observedAt = T0): ObserveEvent => ({
  type: 'pod-event',
  uids: [uid],
  kind,
  pod: p,
  observedAt
})

describe('the Job', () => {
  test('not synced and not found until the API server answers', () => {
    const s = initialState('ci', ['build'])
    expect(snapshotOf(s)).toMatchObject({ synced: false, job: undefined, podsListed: false, pods: [] })
    expect(snapshotOf(apply(s, gone))).toMatchObject({ synced: true, job: undefined, jobDeleted: false })
    expect(observed(apply(s, gone)).synced).toBe(true)
  })
  test('a Job is decided on with its pods: podsListed only once its pods were listed', () => {
    const s = run([listed(job())])
    expect(snapshotOf(s).podsListed).toBe(false)
    expect(snapshotOf(apply(s, podsListed('uid-1', []))).podsListed).toBe(true)
  })
  test('a DELETED event keeps the final state of the Job, marked deleted', () => {
    const done = job('uid-1', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] })
    const s = run([listed(job()), { type: 'job-event', kind: 'DELETED', job: done }])
    expect(build(s).jobDeleted).toBe(true)
    expect(build(s).job?.conditions).toEqual([{ type: 'Complete', status: 'True' }])
  })
  test('a Job missing from a later list is deleted, its last state kept', () => {
    const s = run([listed(job()), gone])
    expect(build(s).jobDeleted).toBe(true)
    expect(build(s).job?.uid).toBe('uid-1')
  })
  test('a Job created again (new uid) starts afresh: pods, listing and inference', () => {
    const s = run([
      listed(job('uid-1')),
      podsListed('uid-1', [pod('a')]),
      { type: 'job-event', kind: 'DELETED', job: job('uid-1') },
      { type: 'end-inferred', uid: 'uid-1', condition: { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' } },
      { type: 'job-event', kind: 'ADDED', job: job('uid-2') }
    ])
    expect(build(s).job?.uid).toBe('uid-2')
    expect(build(s).jobDeleted).toBe(false)
    expect(build(s).inferred).toBeUndefined()
    expect(build(s).pods.size).toBe(0)
    expect(snapshotOf(s).podsListed).toBe(false)
  })
  test('the DELETED event of an older Job of that name does not touch the current one', () => {
    const s = run([
      { type: 'job-event', kind: 'ADDED', job: job('uid-2') },
      { type: 'job-event', kind: 'DELETED', job: job('uid-1') }
    ])
    expect(build(s).job?.uid).toBe('uid-2')
    expect(build(s).jobDeleted).toBe(false)
  })
})

describe('an end inferred from events is kept apart from what the API server said', () => {
  const failed = { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }
  test('kept beside the conditions, never written into them', () => {
    const s = run([listed(job()), gone, { type: 'end-inferred', uid: 'uid-1', condition: failed }])
    expect(build(s).inferred).toEqual({ condition: failed, source: 'events' })
    expect(build(s).job?.conditions).toEqual([])
    expect(snapshotOf(s).inferred?.source).toBe('events')
  })
  test('ignored for a Job that is not deleted, or of another uid', () => {
    expect(run([listed(job()), { type: 'end-inferred', uid: 'uid-1', condition: failed }]).jobs.get('build')!.inferred).toBeUndefined()
    expect(
      run([listed(job()), gone, { type: 'end-inferred', uid: 'uid-0', condition: failed }]).jobs.get('build')!.inferred
    ).toBeUndefined()
  })
})

describe('pods: one rule for deleted pods in every mode', () => {
  const start: ObserveEvent[] = [listed(job()), podsListed('uid-1', [pod('a'), pod('b', 'Succeeded')])]
  test('a DELETED event keeps the pod, marked deleted (watch)', () => {
    const s = run([...start, podEvent('uid-1', 'DELETED', pod('a'))])
    expect(names(s)).toEqual(['a:Running:deleted', 'b:Succeeded'])
  })
  test('a pod missing from a re-list or a poll is kept the same way, whatever its phase', () => {
    const s = run([...start, podsListed('uid-1', [pod('c')])])
    expect(names(s).sort()).toEqual(['a:Running:deleted', 'b:Succeeded:deleted', 'c:Running'])
  })
  test('the watch and the poll agree: the same deletion gives the same pods', () => {
    const watched = run([...start, podEvent('uid-1', 'DELETED', pod('b', 'Succeeded'))])
    const polled = run([...start, podsListed('uid-1', [pod('a')])])
    expect(names(watched).sort()).toEqual(names(polled).sort())
  })
  test('pods of another Job (uid) are not counted', () => {
    const s = run([
      ...start,
      podEvent('uid-1', 'ADDED', pod('x', 'Running', 'uid-0')),
      podEvent('uid-0', 'ADDED', pod('y', 'Running', 'uid-0')),
      podsListed('uid-1', [pod('a'), pod('b', 'Succeeded'), pod('z', 'Running', 'uid-0')])
    ])
    expect(names(s).sort()).toEqual(['a:Running', 'b:Succeeded'])
  })
  test('events of an old pod watch after the Job was created again are dropped', () => {
    const s = run([...start, { type: 'job-event', kind: 'ADDED', job: job('uid-2') }, podEvent('uid-1', 'MODIFIED', pod('a'))])
    expect(build(s).pods.size).toBe(0)
  })
})

describe('apply is pure', () => {
  test('the state given is never changed; a batch equals its events one by one', () => {
    const s0 = run([listed(job()), podsListed('uid-1', [pod('a')])])
    const frozen = names(s0)
    const batch: ObserveEvent[] = [
      podEvent('uid-1', 'MODIFIED', pod('a', 'Succeeded')),
      podEvent('uid-1', 'ADDED', pod('b')),
      podEvent('uid-1', 'DELETED', pod('b'))
    ]
    const together = applyAll(s0, batch)
    const oneByOne = run(batch, s0)
    expect(names(s0)).toEqual(frozen)
    expect(names(together)).toEqual(names(oneByOne))
    expect(names(together)).toEqual(['a:Succeeded', 'b:Running:deleted'])
  })
})

describe('several Jobs in one state', () => {
  const a = job('uid-a', { name: 'a' })
  const b = job('uid-b', { name: 'b' })
  const podOf = (name: string, owner: string, phase: PodInfo['phase'] = 'Running') => pod(name, phase, owner)
  test('the names given are there from the start, not found yet; one list fills them', () => {
    const s0 = initialState('ci', ['a', 'b'])
    expect(observed(s0).jobs.map((j) => [j.name, j.job])).toEqual([
      ['a', undefined],
      ['b', undefined]
    ])
    const s = apply(s0, { type: 'jobs-listed', jobs: [b, a] })
    expect(observed(s).jobs.map((j) => j.job?.uid)).toEqual(['uid-a', 'uid-b'])
  })
  test('one pod list and one pod watch for every Job: each pod goes to the Job that owns it', () => {
    const s = run(
      [
        { type: 'jobs-listed', jobs: [a, b] },
        {
          type: 'pods-listed',
          uids: ['uid-a', 'uid-b'],
          pods: [podOf('a-1', 'uid-a'), podOf('b-1', 'uid-b'), podOf('x-1', 'uid-x')],
          observedAt: T0
        },
        { type: 'pod-event', uids: ['uid-a', 'uid-b'], kind: 'ADDED', pod: podOf('b-2', 'uid-b'), observedAt: T0 }
      ],
      initialState('ci', ['a', 'b'])
    )
    expect(names(s, 'a')).toEqual(['a-1:Running'])
    expect(names(s, 'b')).toEqual(['b-1:Running', 'b-2:Running'])
    expect(observed(s).jobs.every((j) => j.podsListed)).toBe(true)
  })
  test("a selector's Jobs come as they are listed, and one gone from a later list keeps its last state", () => {
    const s = run(
      [
        { type: 'jobs-listed', jobs: [a] },
        { type: 'job-event', kind: 'ADDED', job: b },
        { type: 'jobs-listed', jobs: [b] }
      ],
      initialState('ci')
    )
    expect([...s.jobs.keys()]).toEqual(['a', 'b'])
    expect(s.jobs.get('a')!.jobDeleted).toBe(true)
    expect(s.jobs.get('b')!.jobDeleted).toBe(false)
  })
})

describe('several Jobs: one pod watch on every Job pod, opened once', () => {
  const a = job('uid-a', { name: 'a' })
  const b = job('uid-b', { name: 'b' })
  const podOf = (name: string, owner: string, phase: PodInfo['phase'] = 'Running') => pod(name, phase, owner)
  const all = (pods: PodInfo[]): ObserveEvent => ({ type: 'pods-listed', uids: 'all', pods, observedAt: T0 })
  const allEvent = (kind: 'ADDED' | 'MODIFIED' | 'DELETED', p: PodInfo): ObserveEvent => ({
    type: 'pod-event',
    uids: 'all',
    kind,
    pod: p,
    observedAt: T0
  })
  test('pods listed before their Job is seen are kept aside, and the Job takes them when it comes', () => {
    const s = run([all([podOf('a-1', 'uid-a'), podOf('x-1', 'uid-x')]), { type: 'jobs-listed', jobs: [a] }], initialState('ci', ['a', 'b']))
    expect(names(s, 'a')).toEqual(['a-1:Running'])
    expect(snapshotOfJob(s, 'a').podsListed).toBe(true)
    expect([...s.parked.keys()]).toEqual(['pod-x-1'])
  })
  test('a Job seen after the pod list has its pods from the watch, with no LIST of its own', () => {
    const s = run(
      [
        { type: 'jobs-listed', jobs: [a] },
        all([podOf('a-1', 'uid-a')]),
        allEvent('ADDED', podOf('b-1', 'uid-b')),
        { type: 'job-event', kind: 'ADDED', job: b },
        allEvent('ADDED', podOf('b-2', 'uid-b'))
      ],
      initialState('ci', ['a', 'b'])
    )
    expect(names(s, 'b')).toEqual(['b-1:Running', 'b-2:Running'])
    expect(snapshotOfJob(s, 'b').podsListed).toBe(true)
    expect(s.parked.size).toBe(0)
  })
  test('a Job is not decided on before the pod list came', () => {
    const s = run([{ type: 'jobs-listed', jobs: [a] }], initialState('ci', ['a']))
    expect(snapshotOfJob(s, 'a').podsListed).toBe(false)
  })
  test('a pod of no Job waited for stays aside until deleted, and counts for none', () => {
    const s = run([{ type: 'jobs-listed', jobs: [a] }, all([]), allEvent('ADDED', podOf('x-1', 'uid-x'))], initialState('ci'))
    expect(names(s, 'a')).toEqual([])
    expect(s.parked.size).toBe(1)
    expect(apply(s, allEvent('DELETED', podOf('x-1', 'uid-x'))).parked.size).toBe(0)
  })
  test('a Job created again takes the new uid’s pods, not the old ones', () => {
    const a2 = job('uid-a2', { name: 'a' })
    const s = run(
      [
        { type: 'jobs-listed', jobs: [a] },
        all([podOf('a-1', 'uid-a')]),
        { type: 'job-event', kind: 'DELETED', job: a },
        allEvent('ADDED', podOf('a2-1', 'uid-a2')),
        { type: 'job-event', kind: 'ADDED', job: a2 },
        allEvent('MODIFIED', podOf('a-1', 'uid-a', 'Succeeded'))
      ],
      initialState('ci', ['a'])
    )
    expect(names(s, 'a')).toEqual(['a2-1:Running'])
  })
})

describe('when a container entered its waiting reason: the first observation that shows it (issue 17)', () => {
  const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString()
  const waiting = (reason: string | undefined, state: ContainerInfo['state'] = 'waiting'): PodInfo => ({
    ...pod('p1', 'Pending'),
    containers: [{ name: 'main', init: false, state, reason, restartCount: 0 }]
  })
  const since = (s: ObservedState) => build(s).pods.get('pod-p1')!.containers[0].waitingSince

  test('a pod that waited for a node, then meets ErrImagePull: the clock starts at that observation, not at the pod creation', () => {
    let s = run([listed(job()), podsListed('uid-1', [{ ...waiting(undefined, 'unknown'), creationTimestamp: at(-240) }], at(0))])
    expect(since(s)).toBeUndefined()
    s = apply(s, podEvent('uid-1', 'MODIFIED', waiting('ErrImagePull'), at(5)))
    expect(since(s)).toBe(at(5))
  })
  test('ErrImagePull and ImagePullBackOff, back and forth, are one clock; the same reason keeps it', () => {
    let s = run([listed(job()), podsListed('uid-1', [waiting('ErrImagePull')], at(0))])
    s = apply(s, podEvent('uid-1', 'MODIFIED', waiting('ImagePullBackOff'), at(3)))
    s = apply(s, podEvent('uid-1', 'MODIFIED', waiting('ErrImagePull'), at(14)))
    s = apply(s, podsListed('uid-1', [waiting('ImagePullBackOff')], at(20)))
    expect(since(s)).toBe(at(0))
  })
  test('another reason, or running in between, restarts it', () => {
    let s = run([listed(job()), podsListed('uid-1', [waiting('ContainerCreating')], at(0))])
    s = apply(s, podEvent('uid-1', 'MODIFIED', waiting('CreateContainerConfigError'), at(7)))
    expect(since(s)).toBe(at(7))
    s = apply(s, podEvent('uid-1', 'MODIFIED', waiting(undefined, 'running'), at(9)))
    expect(since(s)).toBeUndefined()
    s = apply(s, podEvent('uid-1', 'MODIFIED', waiting('CreateContainerConfigError'), at(12)))
    expect(since(s)).toBe(at(12))
  })
  test('the same rule for pods parked before their Job is known (several Jobs)', () => {
    const all = (p: PodInfo, observedAt: string): ObserveEvent => ({ type: 'pod-event', uids: 'all', kind: 'MODIFIED', pod: p, observedAt })
    let s = run([{ type: 'pods-listed', uids: 'all', pods: [], observedAt: at(0) }, all(waiting('ErrImagePull'), at(1))])
    s = apply(s, all(waiting('ImagePullBackOff'), at(4)))
    s = apply(s, listed(job()))
    expect(since(s)).toBe(at(1))
  })
})

describe("an autoscaler's word on an Unschedulable pod is kept with the pod (issue 17)", () => {
  const unschedulable = (): PodInfo => ({ ...pod('p1', 'Pending'), unschedulable: { reason: 'Unschedulable', since: T0 } })
  const said = (reason: string, at: string, podUid = 'pod-p1'): ObserveEvent => ({
    type: 'autoscaler-said',
    readAt: T0,
    words: [{ podUid, jobUid: 'uid-1', word: { reason, message: `${reason} message`, component: 'cluster-autoscaler', at } }]
  })
  const word = (s: ObservedState) => build(s).pods.get('pod-p1')!.autoscaler?.reason

  test('the latest word counts; an older one read later does not replace it', () => {
    let s = run([listed(job()), podsListed('uid-1', [unschedulable()]), said('TriggeredScaleUp', '2026-12-01T10:00:10Z')])
    expect(word(s)).toBe('TriggeredScaleUp')
    s = apply(s, said('FailedScaleUp', '2026-12-01T10:05:00Z'))
    expect(word(s)).toBe('FailedScaleUp')
    s = apply(s, said('TriggeredScaleUp', '2026-12-01T10:00:10Z'))
    expect(word(s)).toBe('FailedScaleUp')
  })
  test("kept across the pod's updates while it is Unschedulable, dropped once it is scheduled", () => {
    let s = run([listed(job()), podsListed('uid-1', [unschedulable()]), said('TriggeredScaleUp', '2026-12-01T10:00:10Z')])
    s = apply(s, podEvent('uid-1', 'MODIFIED', unschedulable()))
    expect(word(s)).toBe('TriggeredScaleUp')
    s = apply(s, podEvent('uid-1', 'MODIFIED', pod('p1', 'Pending')))
    expect(word(s)).toBeUndefined()
  })
  test('words about pods that are not Unschedulable, or not ours, change nothing', () => {
    const before = run([listed(job()), podsListed('uid-1', [pod('p1', 'Pending')])])
    const after = applyAll(before, [said('TriggeredScaleUp', T0), said('TriggeredScaleUp', T0, 'pod-other')])
    expect(build(after).pods.get('pod-p1')).toBe(build(before).pods.get('pod-p1'))
  })
  test('when the events were last read is in the snapshot; without the right to read them, nothing is', () => {
    let s = run([listed(job()), podsListed('uid-1', [unschedulable()])], initialState('ci', ['build'], true))
    expect(snapshotOf(s).autoscalerEvents).toEqual({})
    s = apply(s, { type: 'autoscaler-said', readAt: '2026-12-01T10:01:00Z', words: [] })
    expect(snapshotOf(s).autoscalerEvents).toEqual({ readAt: '2026-12-01T10:01:00Z' })
    s = apply(s, { type: 'autoscaler-unreadable' })
    expect(snapshotOf(s).autoscalerEvents).toBeUndefined()
    expect(snapshotOf(run([listed(job())])).autoscalerEvents).toBeUndefined()
  })
})

describe("a suspended Job's Kueue Workload is kept with the Job", () => {
  const workload = { name: 'job-build-1', queueName: 'team-a', conditions: [{ type: 'QuotaReserved', status: 'False', reason: 'Pending' }] }
  const read = (uids: string[], jobUid?: string): ObserveEvent => ({
    type: 'workloads-read',
    uids,
    workloads: jobUid ? [{ jobUid, workload }] : []
  })

  test('read for the suspended Job: in its snapshot; read again without one: gone', () => {
    let s = run([listed(job('uid-1', { suspend: true })), read(['uid-1'], 'uid-1')])
    expect(snapshotOf(s).workload).toEqual(workload)
    s = apply(s, read(['uid-1']))
    expect(snapshotOf(s).workload).toBeUndefined()
  })
  test('once the Job is resumed the last read says nothing more', () => {
    let s = run([listed(job('uid-1', { suspend: true })), read(['uid-1'], 'uid-1')])
    s = apply(s, { type: 'job-event', kind: 'MODIFIED', job: job('uid-1', { suspend: false }) })
    expect(snapshotOf(s).workload).toBeUndefined()
  })
  test("a new Job of the same name starts without the old one's Workload", () => {
    let s = run([listed(job('uid-1', { suspend: true })), read(['uid-1'], 'uid-1')])
    s = apply(s, listed(job('uid-2', { suspend: true })))
    expect(snapshotOf(s).workload).toBeUndefined()
  })
  test('a Workload of a Job not waited for changes nothing', () => {
    const s = run([listed(job('uid-1', { suspend: true })), read(['uid-9'], 'uid-9')])
    expect(snapshotOf(s).workload).toBeUndefined()
  })
})
