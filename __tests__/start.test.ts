// start-timeout's pure part (src/decide/start.ts): has the Job started, and if
// not, what holds it. Snapshots as observed; no server.
import { describe, expect, test } from '@jest/globals'
import { queuedIn, startHeldBy, startHeldByAny } from '../src/decide/start.js'
import type { JobInfo, KueueWorkload, PodInfo, Snapshot } from '../src/model.js'

const job = (o: Partial<JobInfo> = {}): JobInfo => ({
  name: 'build',
  namespace: 'ci',
  uid: 'u',
  suspend: false,
  parallelism: 1,
  completions: 1,
  active: 1,
  ready: 0,
  succeeded: 0,
  failed: 0,
  terminating: 0,
  conditions: [],
  ...o
})
const pod = (name: string, o: Partial<PodInfo> = {}): PodInfo => ({
  name,
  uid: name,
  phase: 'Pending',
  ready: false,
  restarts: 0,
  containers: [],
  ...o
})
const snap = (j: JobInfo | undefined, pods: PodInfo[] = [], name = 'build'): Snapshot => ({
  namespace: 'ci',
  name,
  job: j,
  jobDeleted: false,
  pods
})

describe('startHeldBy', () => {
  test('started: its pod Running, or beyond', () => {
    expect(startHeldBy(snap(job(), [pod('b-1', { phase: 'Running' })]))).toBeUndefined()
    expect(startHeldBy(snap(job(), [pod('b-1', { phase: 'Succeeded' })]))).toBeUndefined()
  })
  test('a pod deleted before it ended does not count; one that ran to its end does, deleted or not', () => {
    const two = job({ parallelism: 2, completions: 2 })
    const deleting = { deletionTimestamp: '2026-12-01T10:00:00Z' }
    expect(startHeldBy(snap(two, [pod('b-1', { phase: 'Running', ...deleting }), pod('b-2', { phase: 'Running' })]))).toBe(
      '1 of 2 pods of job build started: no pod created yet'
    )
    expect(startHeldBy(snap(two, [pod('b-1', { phase: 'Pending', deleted: true }), pod('b-2', { phase: 'Running' })]))).toBe(
      '1 of 2 pods of job build started: no pod created yet'
    )
    expect(
      startHeldBy(snap(two, [pod('b-1', { phase: 'Failed', deleted: true }), pod('b-2', { phase: 'Running', ...deleting }), pod('b-3')]))
    ).toBe('1 of 2 pods of job build started: b-3 Pending (not scheduled yet)')
  })
  test('started: a Job that ended, pods or not', () => {
    expect(startHeldBy(snap(job({ conditions: [{ type: 'Failed', status: 'True' }] })))).toBeUndefined()
  })
  test('a suspended Job (a queue such as Kueue holds it)', () => {
    expect(startHeldBy(snap(job({ suspend: true })))).toBe(
      'job build is suspended (spec.suspend: true; a queue such as Kueue starts it by setting it to false when it admits it)'
    )
  })
  test("an unschedulable pod, in the scheduler's words", () => {
    const p = pod('b-1', { unschedulable: { reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' } })
    expect(startHeldBy(snap(job(), [p]))).toBe(
      '0 of 1 pod of job build started: b-1 unschedulable: 0/3 nodes are available: 3 Insufficient cpu.'
    )
  })
  test("and the autoscaler's words when it said any", () => {
    const p = pod('b-1', {
      unschedulable: { reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' },
      autoscaler: {
        reason: 'NotTriggerScaleUp',
        message: "pod didn't trigger scale-up: 1 max node group size reached",
        component: 'cluster-autoscaler'
      }
    })
    expect(startHeldBy(snap(job(), [p]))).toBe(
      "0 of 1 pod of job build started: b-1 unschedulable: 0/3 nodes are available: 3 Insufficient cpu.; cluster-autoscaler: NotTriggerScaleUp: pod didn't trigger scale-up: 1 max node group size reached"
    )
  })
  test('a pod pulling its image, and one not scheduled yet', () => {
    const pulling = pod('b-1', {
      node: 'n1',
      containers: [{ name: 'main', init: false, state: 'waiting', reason: 'ErrImagePull', message: 'pull access denied', restartCount: 0 }]
    })
    expect(startHeldBy(snap(job({ parallelism: 2, completions: 2 }), [pulling, pod('b-2')]))).toBe(
      '0 of 2 pods of job build started: b-1 ErrImagePull: pull access denied; b-2 Pending (not scheduled yet)'
    )
  })
  test('parallelism capped by the completions still to go', () => {
    const j = job({ parallelism: 3, completions: 4, succeeded: 3 })
    expect(startHeldBy(snap(j, [pod('b-4', { phase: 'Running' })]))).toBeUndefined()
  })
  test('no Job, no pod yet', () => {
    expect(startHeldBy(snap(undefined))).toBe('job build does not exist yet')
    expect(startHeldBy(snap(job()))).toBe('0 of 1 pod of job build started: no pod created yet')
  })
  test('several Jobs: the first one not started', () => {
    const a = snap(job({ name: 'a' }), [pod('a-1', { phase: 'Running' })], 'a')
    const b = snap(job({ name: 'b', suspend: true }), [], 'b')
    expect(startHeldByAny([a, b], ['a', 'b'])).toMatch(/^job b is suspended/)
    expect(startHeldByAny([a], ['a'])).toBeUndefined()
  })
})

describe('a suspended Job in Kueue: its LocalQueue and its Workload admission state', () => {
  const QUOTA = "couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor default-flavor, 3 more needed"
  const workload = (o: Partial<KueueWorkload> = {}): KueueWorkload => ({
    name: 'job-build-abcde',
    queueName: 'team-a',
    conditions: [{ type: 'QuotaReserved', status: 'False', reason: 'Pending', message: QUOTA }],
    ...o
  })
  const queued = (w?: KueueWorkload, queueName: string | null = 'team-a'): Snapshot => ({
    ...snap(job({ suspend: true, queueName: queueName ?? undefined })),
    ...(w ? { workload: w } : {})
  })

  test("the queue-name label and the Workload waiting for quota, in Kueue's words", () => {
    expect(startHeldBy(queued(workload()))).toBe(
      `job build is suspended: queued in LocalQueue team-a (Kueue: QuotaReserved False (Pending): ${QUOTA})`
    )
  })
  test('the LocalQueue alone when no Workload was read (no Kueue, no permission)', () => {
    expect(startHeldBy(queued())).toBe('job build is suspended: queued in LocalQueue team-a')
  })
  test("no label: the Workload's spec.queueName", () => {
    expect(queuedIn(queued(workload(), null))).toBe(`queued in LocalQueue team-a (Kueue: QuotaReserved False (Pending): ${QUOTA})`)
  })
  test('quota reserved, waiting for admission checks: the ClusterQueue is named', () => {
    const w = workload({
      clusterQueue: 'cluster-queue',
      conditions: [
        { type: 'QuotaReserved', status: 'True', reason: 'QuotaReserved', message: 'Quota reserved in ClusterQueue cluster-queue' },
        { type: 'Admitted', status: 'False', reason: 'NoChecks', message: 'The workload has not all checks ready' }
      ]
    })
    expect(queuedIn(queued(w))).toBe(
      'queued in LocalQueue team-a (Kueue: QuotaReserved True (QuotaReserved): Quota reserved in ClusterQueue cluster-queue, ClusterQueue cluster-queue)'
    )
  })
  test('evicted (preempted): the eviction comes first', () => {
    const w = workload({
      conditions: [
        { type: 'QuotaReserved', status: 'False', reason: 'Preempted', message: 'Preempted to accommodate a higher priority Workload' },
        { type: 'Evicted', status: 'True', reason: 'Preempted', message: 'Preempted to accommodate a higher priority Workload' }
      ]
    })
    expect(queuedIn(queued(w))).toBe(
      'queued in LocalQueue team-a (Kueue: Evicted True (Preempted): Preempted to accommodate a higher priority Workload)'
    )
  })
  test('a Workload with no condition yet', () => {
    expect(queuedIn(queued(workload({ conditions: [] })))).toBe(
      'queued in LocalQueue team-a (Kueue: workload job-build-abcde not considered for admission yet)'
    )
  })
  test("the cluster's text is one line without control characters", () => {
    const w = workload({
      conditions: [{ type: 'QuotaReserved', status: 'False', reason: 'Pending', message: 'short\u001b[2J of cpu\nand more' }]
    })
    expect(queuedIn(queued(w, 'team\u0007-a'))).toBe('queued in LocalQueue team-a (Kueue: QuotaReserved False (Pending): short of cpu …)')
  })
  test('not in Kueue: no queue, no Workload', () => {
    expect(queuedIn(queued(undefined, null))).toBeUndefined()
  })
})
