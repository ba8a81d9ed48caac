// The observed state as a pure reducer: every rule about what is kept, driven
// by events alone, without a server.
import { describe, expect, test } from '@jest/globals'
import type { JobInfo, PodInfo } from '../src/model.js'
import { apply, applyAll, initialState, snapshotOf, type ObserveEvent, type ObservedState } from '../src/observe/state.js'

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
const run = (events: ObserveEvent[], s: ObservedState = initialState('ci', 'build')) => events.reduce(apply, s)
const names = (s: ObservedState) => [...s.pods.values()].map((p) => `${p.name}:${p.phase}${p.deleted ? ':deleted' : ''}`)

describe('the Job', () => {
  test('not synced and not found until the API server answers', () => {
    const s = initialState('ci', 'build')
    expect(snapshotOf(s)).toMatchObject({ synced: false, job: undefined, podsListed: false, pods: [] })
    expect(snapshotOf(apply(s, { type: 'job-gone' }))).toMatchObject({ synced: true, job: undefined, jobDeleted: false })
  })
  test('a Job is decided on with its pods: podsListed only once its pods were listed', () => {
    const s = run([{ type: 'job-listed', job: job() }])
    expect(snapshotOf(s).podsListed).toBe(false)
    expect(snapshotOf(apply(s, { type: 'pods-listed', uid: 'uid-1', pods: [] })).podsListed).toBe(true)
  })
  test('a DELETED event keeps the final state of the Job, marked deleted', () => {
    const done = job('uid-1', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] })
    const s = run([
      { type: 'job-listed', job: job() },
      { type: 'job-event', kind: 'DELETED', job: done }
    ])
    expect(s.jobDeleted).toBe(true)
    expect(s.job?.conditions).toEqual([{ type: 'Complete', status: 'True' }])
  })
  test('a Job missing from a later list is deleted, its last state kept', () => {
    const s = run([{ type: 'job-listed', job: job() }, { type: 'job-gone' }])
    expect(s.jobDeleted).toBe(true)
    expect(s.job?.uid).toBe('uid-1')
  })
  test('a Job created again (new uid) starts afresh: pods, listing and inference', () => {
    const s = run([
      { type: 'job-listed', job: job('uid-1') },
      { type: 'pods-listed', uid: 'uid-1', pods: [pod('a')] },
      { type: 'job-event', kind: 'DELETED', job: job('uid-1') },
      { type: 'end-inferred', uid: 'uid-1', condition: { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' } },
      { type: 'job-event', kind: 'ADDED', job: job('uid-2') }
    ])
    expect(s.job?.uid).toBe('uid-2')
    expect(s.jobDeleted).toBe(false)
    expect(s.inferred).toBeUndefined()
    expect(s.pods.size).toBe(0)
    expect(snapshotOf(s).podsListed).toBe(false)
  })
  test('the DELETED event of an older Job of that name does not touch the current one', () => {
    const s = run([
      { type: 'job-event', kind: 'ADDED', job: job('uid-2') },
      { type: 'job-event', kind: 'DELETED', job: job('uid-1') }
    ])
    expect(s.job?.uid).toBe('uid-2')
    expect(s.jobDeleted).toBe(false)
  })
})

describe('an end inferred from events is kept apart from what the API server said', () => {
  const failed = { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }
  test('kept beside the conditions, never written into them', () => {
    const s = run([{ type: 'job-listed', job: job() }, { type: 'job-gone' }, { type: 'end-inferred', uid: 'uid-1', condition: failed }])
    expect(s.inferred).toEqual({ condition: failed, source: 'events' })
    expect(s.job?.conditions).toEqual([])
    expect(snapshotOf(s).inferred?.source).toBe('events')
  })
  test('ignored for a Job that is not deleted, or of another uid', () => {
    expect(
      run([
        { type: 'job-listed', job: job() },
        { type: 'end-inferred', uid: 'uid-1', condition: failed }
      ]).inferred
    ).toBeUndefined()
    expect(
      run([{ type: 'job-listed', job: job() }, { type: 'job-gone' }, { type: 'end-inferred', uid: 'uid-0', condition: failed }]).inferred
    ).toBeUndefined()
  })
})

describe('pods: one rule for deleted pods in every mode', () => {
  const start: ObserveEvent[] = [
    { type: 'job-listed', job: job() },
    { type: 'pods-listed', uid: 'uid-1', pods: [pod('a'), pod('b', 'Succeeded')] }
  ]
  test('a DELETED event keeps the pod, marked deleted (watch)', () => {
    const s = run([...start, { type: 'pod-event', uid: 'uid-1', kind: 'DELETED', pod: pod('a') }])
    expect(names(s)).toEqual(['a:Running:deleted', 'b:Succeeded'])
  })
  test('a pod missing from a re-list or a poll is kept the same way, whatever its phase', () => {
    const s = run([...start, { type: 'pods-listed', uid: 'uid-1', pods: [pod('c')] }])
    expect(names(s).sort()).toEqual(['a:Running:deleted', 'b:Succeeded:deleted', 'c:Running'])
  })
  test('the watch and the poll agree: the same deletion gives the same pods', () => {
    const watched = run([...start, { type: 'pod-event', uid: 'uid-1', kind: 'DELETED', pod: pod('b', 'Succeeded') }])
    const polled = run([...start, { type: 'pods-listed', uid: 'uid-1', pods: [pod('a')] }])
    expect(names(watched).sort()).toEqual(names(polled).sort())
  })
  test('pods of another Job (uid) are not counted', () => {
    const s = run([
      ...start,
      { type: 'pod-event', uid: 'uid-1', kind: 'ADDED', pod: pod('x', 'Running', 'uid-0') },
      { type: 'pod-event', uid: 'uid-0', kind: 'ADDED', pod: pod('y', 'Running', 'uid-0') },
      { type: 'pods-listed', uid: 'uid-1', pods: [pod('a'), pod('b', 'Succeeded'), pod('z', 'Running', 'uid-0')] }
    ])
    expect(names(s).sort()).toEqual(['a:Running', 'b:Succeeded'])
  })
  test('events of an old pod watch after the Job was created again are dropped', () => {
    const s = run([
      ...start,
      { type: 'job-event', kind: 'ADDED', job: job('uid-2') },
      { type: 'pod-event', uid: 'uid-1', kind: 'MODIFIED', pod: pod('a') }
    ])
    expect(s.pods.size).toBe(0)
  })
})

describe('apply is pure', () => {
  test('the state given is never changed; a batch equals its events one by one', () => {
    const s0 = run([
      { type: 'job-listed', job: job() },
      { type: 'pods-listed', uid: 'uid-1', pods: [pod('a')] }
    ])
    const frozen = names(s0)
    const batch: ObserveEvent[] = [
      { type: 'pod-event', uid: 'uid-1', kind: 'MODIFIED', pod: pod('a', 'Succeeded') },
      { type: 'pod-event', uid: 'uid-1', kind: 'ADDED', pod: pod('b') },
      { type: 'pod-event', uid: 'uid-1', kind: 'DELETED', pod: pod('b') }
    ]
    const together = applyAll(s0, batch)
    const oneByOne = run(batch, s0)
    expect(names(s0)).toEqual(frozen)
    expect(names(together)).toEqual(names(oneByOne))
    expect(names(together)).toEqual(['a:Succeeded', 'b:Running:deleted'])
  })
})
