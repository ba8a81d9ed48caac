// Every rule of the verdict, each with the situation that makes it matter.
import { describe, expect, test } from '@jest/globals'
import { stuckSince } from '../src/decide/explain.js'
import { decide, defaultExpectedCount, reached } from '../src/decide/verdict.js'
import type { ContainerInfo, JobCondition, JobInfo, PodInfo, PodPhase, Snapshot, Target } from '../src/model.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')
const ago = (s: number) => new Date(NOW - s * 1000).toISOString()
const rules = { podErrorGraceMs: 60_000 }
const noGrace = { podErrorGraceMs: 0 }

function job(o: Partial<JobInfo> = {}): JobInfo {
  return {
    name: 'build',
    namespace: 'ci',
    uid: 'uid-1',
    suspend: false,
    active: 0,
    ready: 0,
    succeeded: 0,
    failed: 0,
    terminating: 0,
    conditions: [],
    parallelism: 1,
    completions: 1,
    creationTimestamp: ago(120),
    ...o
  }
}
const cond = (type: string, reason?: string, message?: string): JobCondition => ({ type, status: 'True', reason, message })

let n = 0
function pod(phase: PodPhase, o: Partial<PodInfo> = {}, c: Partial<ContainerInfo> = {}): PodInfo {
  n++
  const state: ContainerInfo['state'] =
    phase === 'Running' ? 'running' : phase === 'Succeeded' || phase === 'Failed' ? 'terminated' : 'waiting'
  return {
    name: `build-${n}`,
    uid: `p${n}`,
    phase,
    ready: phase === 'Running',
    restarts: 0,
    ownerUid: 'uid-1',
    creationTimestamp: ago(30),
    node: 'node-1',
    containers: [
      {
        name: 'main',
        init: false,
        state,
        restartCount: 0,
        exitCode: phase === 'Failed' ? 1 : phase === 'Succeeded' ? 0 : undefined,
        reason: phase === 'Pending' ? 'ContainerCreating' : phase === 'Failed' ? 'Error' : phase === 'Succeeded' ? 'Completed' : undefined,
        ...c
      }
    ],
    ...o
  }
}
const snap = (j: JobInfo | undefined, pods: PodInfo[] = [], jobDeleted = false): Snapshot => ({
  namespace: 'ci',
  name: 'build',
  job: j,
  jobDeleted,
  pods
})
const running = (count?: number, match: 'at-least' | 'exact' = 'at-least'): Target => ({
  kind: 'phase',
  phase: 'Running',
  expectedCount: count,
  match
})
const phase = (p: 'Pending' | 'Running' | 'Succeeded' | 'Failed', count?: number): Target => ({
  kind: 'phase',
  phase: p,
  expectedCount: count,
  match: 'at-least'
})
const condition = (c: 'Complete' | 'Failed' | 'Finished' | 'Suspended'): Target => ({ kind: 'condition', condition: c })

describe('a Job that does not exist yet', () => {
  test('is waited for, and progress says so', () => {
    const v = decide(snap(undefined), running(), rules, NOW)
    expect(v.state).toBe('waiting')
    expect(v.summary).toBe('job ci/build not found yet')
  })
  test('deleted before it finished: wait for it to be created again', () => {
    const v = decide(snap(job({ active: 1 }), [], true), running(), rules, NOW)
    expect(v.state).toBe('waiting')
    expect(v.summary).toMatch(/deleted before it finished/)
  })
})

describe('pod phases: Pending < Running < Succeeded', () => {
  test('Running is met by pods Running or already Succeeded (fast pods skip Running)', () => {
    const v = decide(snap(job({ parallelism: 2, completions: 2 }), [pod('Running'), pod('Succeeded')]), running(), rules, NOW)
    expect(v).toMatchObject({ state: 'met', count: 2, expected: 2, summary: '2 of 2 pods Running' })
  })
  test('a pod that went Pending → Succeeded unseen still meets Running', () => {
    expect(decide(snap(job(), [pod('Succeeded')]), running(), rules, NOW).state).toBe('met')
  })
  test('Failed pods never count toward Running or Succeeded', () => {
    expect(reached(pod('Failed'), 'Running', 'at-least')).toBe(false)
    expect(reached(pod('Failed'), 'Succeeded', 'at-least')).toBe(false)
    expect(reached(pod('Failed'), 'Pending', 'at-least')).toBe(false)
    expect(reached(pod('Failed'), 'Failed', 'at-least')).toBe(true)
  })
  test('Pending counts every pod that exists and has not failed', () => {
    const v = decide(
      snap(job({ parallelism: 3, completions: 3 }), [pod('Pending'), pod('Running'), pod('Succeeded')]),
      phase('Pending'),
      rules,
      NOW
    )
    expect(v).toMatchObject({ state: 'met', count: 3 })
  })
  test('exact counts only pods in exactly that phase, and equality', () => {
    const pods = [pod('Running'), pod('Succeeded')]
    expect(decide(snap(job({ parallelism: 2, completions: 2 }), pods), running(2, 'exact'), rules, NOW).state).toBe('waiting')
    expect(decide(snap(job({ parallelism: 2, completions: 2 }), pods), running(1, 'exact'), rules, NOW).state).toBe('met')
    expect(
      decide(
        snap(job({ parallelism: 3, completions: 3 }), [pod('Running'), pod('Running'), pod('Running')]),
        running(2, 'exact'),
        rules,
        NOW
      ).state
    ).toBe('waiting')
  })
  test('at-least is met by more pods than expected (the e2e helper needs equality and races)', () => {
    const v = decide(
      snap(job({ parallelism: 3, completions: 3 }), [pod('Running'), pod('Running'), pod('Running')]),
      running(2),
      rules,
      NOW
    )
    expect(v).toMatchObject({ state: 'met', count: 3, expected: 2 })
  })
  test('terminating pods do not count', () => {
    expect(reached(pod('Running', { deletionTimestamp: ago(1) }), 'Running', 'at-least')).toBe(false)
    expect(reached(pod('Succeeded', { deletionTimestamp: ago(1) }), 'Succeeded', 'at-least')).toBe(true)
  })
  test('waiting says what is missing, pod by pod', () => {
    const v = decide(
      snap(job({ parallelism: 3, completions: 3 }), [
        pod('Running', { name: 'build-a' }),
        pod('Running', { name: 'build-b' }),
        pod('Pending', { name: 'build-x7k' }, { reason: 'ImagePullBackOff' })
      ]),
      running(),
      noGrace,
      NOW
    )
    expect(v.state).toBe('waiting')
    expect(v.summary).toBe('2 of 3 pods Running')
    expect(v.detail).toBe('build-x7k Pending (ImagePullBackOff)')
  })
  test('the Job counters remember pods already deleted (TTL, pod GC)', () => {
    const v = decide(snap(job({ completions: 3, parallelism: 3, succeeded: 3 }), []), phase('Succeeded'), rules, NOW)
    expect(v).toMatchObject({ state: 'met', count: 3, expected: 3 })
  })
})

describe('the expected count, when not given, comes from the Job', () => {
  test('Running: the pods it runs at once, capped by completions still to go', () => {
    expect(defaultExpectedCount(job({ parallelism: 5, completions: 10 }), 'Running')).toBe(5)
    expect(defaultExpectedCount(job({ parallelism: 5, completions: 10, succeeded: 8 }), 'Running')).toBe(2)
    expect(defaultExpectedCount(job({ parallelism: 5, completions: undefined }), 'Running')).toBe(5)
    expect(defaultExpectedCount(job({ parallelism: undefined, completions: undefined }), 'Pending')).toBe(1)
    expect(defaultExpectedCount(job({ parallelism: 0, completions: 3 }), 'Running')).toBe(1)
  })
  test('Succeeded: completions, 1 when unset; Failed: 1', () => {
    expect(defaultExpectedCount(job({ completions: 4 }), 'Succeeded')).toBe(4)
    expect(defaultExpectedCount(job({ completions: undefined }), 'Succeeded')).toBe(1)
    expect(defaultExpectedCount(job({ completions: 4 }), 'Failed')).toBe(1)
  })
})

describe('fail fast', () => {
  test('waiting for Running ends at once when the Job gets Failed, with its reason', () => {
    const j = job({ failed: 2, conditions: [cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] })
    const v = decide(snap(j, [pod('Failed', { name: 'build-a' }), pod('Failed', { name: 'build-b' })]), running(), rules, NOW)
    expect(v.state).toBe('failed')
    expect(v.summary).toBe('job ci/build failed: BackoffLimitExceeded: Job has reached the specified backoff limit')
    expect(v.detail).toContain('build-a Failed (Error, exit code 1)')
    expect(v.problems.flatMap((g) => g.pods.map((p) => p.name))).toEqual(['build-a', 'build-b'])
    expect(v.problems[0]).toMatchObject({ cause: 'Error, exit code 1', subject: 'container main' })
  })
  test('FailureTarget, the earliest word (1.31+), fails the wait before Failed arrives', () => {
    const j = job({ conditions: [cond('FailureTarget', 'PodFailurePolicy', 'Container main exited with 42')] })
    for (const t of [running(), phase('Succeeded'), condition('Complete'), condition('Finished')]) {
      expect(decide(snap(j, [pod('Failed')]), t, rules, NOW).state).toBe('failed')
    }
  })
  test('a Job failure is what the user waited for with condition Failed', () => {
    const j = job({ conditions: [cond('FailureTarget', 'DeadlineExceeded')] })
    expect(decide(snap(j), condition('Failed'), rules, NOW)).toMatchObject({
      state: 'met',
      summary: 'job ci/build failed (DeadlineExceeded)'
    })
  })
  test('waiting for Failed pods is not failed by the Job failing', () => {
    const j = job({ failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded')] })
    expect(decide(snap(j, [pod('Failed')]), phase('Failed'), rules, NOW).state).toBe('met')
  })
  test('a Job that completed can no longer bring the target about', () => {
    const j = job({ succeeded: 1, conditions: [cond('SuccessCriteriaMet'), cond('Complete')] })
    const v = decide(snap(j, [pod('Succeeded')]), phase('Failed'), rules, NOW)
    expect(v.state).toBe('failed')
    expect(v.summary).toBe('job ci/build completed with 0 of 1 pod Failed')
    expect(decide(snap(j, [pod('Succeeded')]), running(1, 'exact'), rules, NOW).state).toBe('failed')
  })
})

describe('conditions', () => {
  test('SuccessCriteriaMet ends a wait for Complete or Finished as met, before Complete', () => {
    const j = job({ succeeded: 1, conditions: [cond('SuccessCriteriaMet', 'CompletionsReached')] })
    expect(decide(snap(j), condition('Complete'), rules, NOW).state).toBe('met')
    expect(decide(snap(j), condition('Finished'), rules, NOW).state).toBe('met')
  })
  test('Finished is met by Complete and fails the step on Failed', () => {
    expect(decide(snap(job({ conditions: [cond('Complete')] })), condition('Finished'), rules, NOW).state).toBe('met')
    const v = decide(
      snap(job({ conditions: [cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] })),
      condition('Finished'),
      rules,
      NOW
    )
    expect(v.state).toBe('failed')
    expect(v.summary).toContain('BackoffLimitExceeded')
  })
  test('Complete is not met by a condition with status False', () => {
    const j = job({ conditions: [{ type: 'Complete', status: 'False' }] })
    expect(decide(snap(j), condition('Complete'), rules, NOW).state).toBe('waiting')
  })
  test('Failed is failed when the Job completes instead', () => {
    expect(decide(snap(job({ conditions: [cond('Complete')] })), condition('Failed'), rules, NOW).state).toBe('failed')
  })
  test('Suspended: met by the condition; failed when the Job finished first', () => {
    expect(
      decide(snap(job({ suspend: true, conditions: [cond('Suspended', 'JobSuspended')] })), condition('Suspended'), rules, NOW).state
    ).toBe('met')
    expect(decide(snap(job({ suspend: true })), condition('Suspended'), rules, NOW).state).toBe('waiting')
    expect(decide(snap(job({ conditions: [cond('Complete')] })), condition('Suspended'), rules, NOW).state).toBe('failed')
  })
  test('progress while waiting for a condition shows the counters', () => {
    const v = decide(snap(job({ active: 2, succeeded: 1, completions: 3 })), condition('Complete'), rules, NOW)
    expect(v.summary).toBe('job ci/build not Complete yet: 2 active, 1 of 3 succeeded, 0 failed')
  })
  test('a TTL-deleted Job is judged by the object of the DELETED event', () => {
    const j = job({ succeeded: 1, conditions: [cond('SuccessCriteriaMet'), cond('Complete')] })
    expect(decide(snap(j, [], true), condition('Complete'), rules, NOW).state).toBe('met')
    expect(decide(snap(j, [], true), running(), rules, NOW).state).toBe('met')
    const f = job({ failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded')] })
    expect(decide(snap(f, [], true), condition('Complete'), rules, NOW).state).toBe('failed')
  })
})

describe('stuck pods: the Job controller never fails them (kubernetes#122300)', () => {
  // In the reason for ageS seconds (as the reducer records it), the pod older than that.
  const stuck = (reason: string, ageS: number) =>
    pod(
      'Pending',
      { creationTimestamp: ago(ageS + 600) },
      { reason, message: `Back-off pulling image "registry/x:tag"`, waitingSince: ago(ageS) }
    )
  test.each(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError'])(
    '%s longer than the grace fails the wait, with the message',
    (reason) => {
      const v = decide(snap(job(), [stuck(reason, 61)]), condition('Complete'), rules, NOW)
      expect(v.state).toBe('failed')
      expect(v.summary).toMatch(new RegExp(`^pod build-\\d+ stuck in ${reason} for 1m1s$`))
      expect(v.problems[0]).toMatchObject({ cause: reason, first: { message: 'Back-off pulling image "registry/x:tag"' } })
    }
  )
  test('within the grace it is only waiting', () => {
    expect(decide(snap(job(), [stuck('ImagePullBackOff', 30)]), running(), rules, NOW).state).toBe('waiting')
  })
  test('grace 0 turns the rule off', () => {
    expect(decide(snap(job(), [stuck('ImagePullBackOff', 3600)]), running(), noGrace, NOW).state).toBe('waiting')
  })
  test.each(['ErrImagePull', 'ImagePullBackOff', 'CreateContainerConfigError'])(
    '%s counts from when the reason was first seen, not from the pod creation (issue 17)',
    (reason) => {
      // Waited for a node 4 min, then met one transient error: 0 s in it, not "stuck for 4m".
      const p = pod('Pending', { creationTimestamp: ago(240) }, { reason, waitingSince: ago(0) })
      expect(stuckSince(p)?.since).toBe(ago(0))
      expect(decide(snap(job(), [p]), running(), rules, NOW).state).toBe('waiting')
    }
  )
  test('a reason whose start was not observed has no clock yet: waiting', () => {
    const p = pod('Pending', { creationTimestamp: ago(600) }, { reason: 'ImagePullBackOff' })
    expect(decide(snap(job(), [p]), running(), rules, NOW).state).toBe('waiting')
  })
  test('unschedulable counts from PodScheduled=False', () => {
    const p = pod(
      'Pending',
      { unschedulable: { reason: 'Unschedulable', message: '0/1 nodes are available', since: ago(90) } },
      { reason: undefined, state: 'unknown' }
    )
    const v = decide(snap(job(), [p]), running(), rules, NOW)
    expect(v.state).toBe('failed')
    expect(v.summary).toContain('stuck in Unschedulable for 1m30s')
  })
  test('a crash loop counts from its last crash, not the pod start', () => {
    const p = pod(
      'Running',
      { creationTimestamp: ago(600) },
      { state: 'waiting', reason: 'CrashLoopBackOff', lastFinishedAt: ago(20), restartCount: 4 }
    )
    expect(stuckSince(p)?.since).toBe(ago(20))
    expect(decide(snap(job(), [p]), condition('Complete'), rules, NOW).state).toBe('waiting')
    const long = pod(
      'Running',
      { creationTimestamp: ago(600) },
      { state: 'waiting', reason: 'CrashLoopBackOff', lastFinishedAt: ago(300), restartCount: 6 }
    )
    expect(decide(snap(job(), [long]), condition('Complete'), rules, NOW).state).toBe('failed')
  })
  test('a pod already in the target phase is met, not stuck (waiting for Pending)', () => {
    expect(decide(snap(job(), [stuck('ImagePullBackOff', 600)]), phase('Pending'), rules, NOW).state).toBe('met')
  })
  test('a Job failure wins over a stuck pod', () => {
    const j = job({ conditions: [cond('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline')] })
    expect(decide(snap(j, [stuck('ImagePullBackOff', 600)]), running(), rules, NOW).summary).toContain('DeadlineExceeded')
  })
})

describe("Unschedulable while the cluster grows: autoscalers say so in the pod's events (issue 17)", () => {
  const grace = { podErrorGraceMs: 60_000, unschedulableGraceMs: 300_000 }
  const SCHEDULER = '0/3 nodes are available: 3 Insufficient cpu.'
  const unschedulable = (sinceS: number, autoscaler?: PodInfo['autoscaler']) =>
    pod(
      'Pending',
      {
        creationTimestamp: ago(sinceS),
        unschedulable: { reason: 'Unschedulable', message: SCHEDULER, since: ago(sinceS) },
        ...(autoscaler ? { autoscaler } : {})
      },
      { reason: undefined, state: 'unknown' }
    )
  const triggered = {
    reason: 'TriggeredScaleUp',
    message: 'pod triggered scale-up: [{pool-a 3->4 (max: 10)}]',
    component: 'cluster-autoscaler',
    at: ago(590)
  }
  const notTriggered = {
    reason: 'NotTriggerScaleUp',
    message: "pod didn't trigger scale-up: 1 max node group size reached",
    component: 'cluster-autoscaler',
    at: ago(100)
  }

  test('a TriggeredScaleUp keeps it waiting past every grace; the progress line and the timeout say why', () => {
    const s = snap(job(), [unschedulable(600, triggered)])
    const v = decide(s, running(), grace, NOW)
    expect(v.state).toBe('waiting')
    expect(v.message).toContain('waiting for a new node (cluster-autoscaler: pool-a 3->4)')
    const t = decide(s, running(), grace, NOW, { kind: 'timeout', afterMs: 900_000 })
    expect(t.message).toMatch(/^timed out: 0 of 1 pod Running after 15m: .*waiting for a new node \(cluster-autoscaler: pool-a 3->4\)$/)
  })
  test("Karpenter's Nominated is the same word", () => {
    const w = { reason: 'Nominated', message: 'Pod should schedule on: nodeclaim/default-x7k2p', component: 'karpenter', at: ago(10) }
    const v = decide(snap(job(), [unschedulable(600, w)]), running(), grace, NOW)
    expect(v.state).toBe('waiting')
    expect(v.message).toContain('waiting for a new node (karpenter: nodeclaim/default-x7k2p)')
  })
  test('NotTriggerScaleUp: stuck once the grace is over, quoting the scheduler and the autoscaler', () => {
    expect(decide(snap(job(), [unschedulable(200, notTriggered)]), running(), grace, NOW).state).toBe('waiting')
    const v = decide(snap(job(), [unschedulable(301, notTriggered)]), running(), grace, NOW)
    expect(v.state).toBe('failed')
    expect(v.summary).toMatch(
      /^pod build-\d+ stuck in Unschedulable for 5m1s; cluster-autoscaler NotTriggerScaleUp: pod didn't trigger scale-up: 1 max/
    )
    expect(v.problems[0].first.message).toBe(`${SCHEDULER}; cluster-autoscaler NotTriggerScaleUp: ${notTriggered.message}`)
  })
  test('FailedScaleUp after a TriggeredScaleUp: the latest word counts', () => {
    const failedUp = { reason: 'FailedScaleUp', message: 'Node group pool-a: out of quota', component: 'cluster-autoscaler', at: ago(5) }
    const v = decide(snap(job(), [unschedulable(400, failedUp)]), running(), grace, NOW)
    expect(v.state).toBe('failed')
    expect(v.problems[0].first.message).toContain('FailedScaleUp: Node group pool-a: out of quota')
  })
  test('no word at all: its own grace, longer than pod-error-grace (adding a node takes minutes)', () => {
    expect(decide(snap(job(), [unschedulable(90)]), running(), grace, NOW).state).toBe('waiting')
    expect(decide(snap(job(), [unschedulable(301)]), running(), grace, NOW).state).toBe('failed')
    expect(decide(snap(job(), [unschedulable(3600)]), running(), { ...grace, unschedulableGraceMs: 0 }, NOW).state).toBe('waiting')
  })
  test('past the grace, not failed before the events were read after it ended (a word may have come late)', () => {
    const p = unschedulable(301)
    const read = (s: number) => ({ ...snap(job(), [p]), autoscalerEvents: s < 0 ? {} : { readAt: ago(s) } })
    expect(decide(read(-1), running(), grace, NOW).state).toBe('waiting') // not read yet
    expect(decide(read(10), running(), grace, NOW).state).toBe('waiting') // read before the grace ended
    expect(decide(read(1), running(), grace, NOW).state).toBe('failed') // read after it, no word
  })
  test('several pods waiting for a node are counted in the progress line', () => {
    const v = decide(
      snap(job({ parallelism: 2, completions: 2 }), [unschedulable(60, triggered), unschedulable(60, triggered)]),
      running(),
      grace,
      NOW
    )
    expect(v.message).toContain('2 pods waiting for a new node (cluster-autoscaler: pool-a 3->4)')
  })
})

describe('suspended Jobs', () => {
  test('waiting for Running on a suspended Job says it is suspended', () => {
    const v = decide(snap(job({ suspend: true })), running(), rules, NOW)
    expect(v.state).toBe('waiting')
    expect(v.summary).toBe('0 of 1 pod Running (job ci/build is suspended)')
  })
})

describe('races', () => {
  test('old and new pods coexist after a failure: the replacement Running counts, the Failed does not', () => {
    const v = decide(snap(job({ failed: 1, active: 1 }), [pod('Failed'), pod('Running')]), running(), rules, NOW)
    expect(v).toMatchObject({ state: 'met', count: 1 })
  })
  test('a Job that succeeded before any pod was seen Running meets Running through its counters', () => {
    const j = job({ succeeded: 1, conditions: [cond('SuccessCriteriaMet')] })
    expect(decide(snap(j, []), running(), rules, NOW).state).toBe('met')
  })
  test('the verdict depends only on its inputs', () => {
    const s = snap(job({ parallelism: 2, completions: 2 }), [pod('Running'), pod('Pending')])
    const a = decide(s, running(), rules, NOW)
    const b = decide(structuredClone(s), running(), rules, NOW)
    expect(b).toEqual(a)
  })
})

describe('a successPolicy completes a Job with fewer succeeded pods than completions', () => {
  const indexed = (conds: JobCondition[]) =>
    job({ completions: 3, parallelism: 3, completionMode: 'Indexed', succeeded: 1, conditions: conds })
  const done = [cond('SuccessCriteriaMet', 'SuccessPolicy'), cond('Complete', 'SuccessPolicy')]
  test('phase Succeeded with the default count: met, because the Job itself says it succeeded', () => {
    const v = decide(snap(indexed(done), [pod('Succeeded'), pod('Failed'), pod('Failed')]), phase('Succeeded'), rules, NOW)
    expect(v.state).toBe('met')
    expect(v.summary).toBe('job ci/build completed (SuccessPolicy) with 1 of 3 pods Succeeded')
    expect(v.decidedBy).toBe('condition')
  })
  test('SuccessCriteriaMet alone (the earliest word) is enough', () => {
    expect(decide(snap(indexed([done[0]]), [pod('Succeeded')]), phase('Succeeded'), rules, NOW).state).toBe('met')
  })
  test('a count the user gave is still a count: 1 of 3 is a failure', () => {
    expect(decide(snap(indexed(done), [pod('Succeeded')]), phase('Succeeded', 3), rules, NOW).state).toBe('failed')
  })
})

describe("an end known only from the Job controller's events", () => {
  test('a deleted Job with an inferred Failed: failed, decided by the events', () => {
    const s: Snapshot = {
      ...snap(job(), [pod('Failed')], true),
      inferred: { condition: cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'), source: 'events' }
    }
    const v = decide(s, condition('Complete'), rules, NOW)
    expect(v).toMatchObject({ state: 'failed', decidedBy: 'events' })
    expect(v.summary).toContain('BackoffLimitExceeded')
  })
  test("the API server's own condition wins over an inference", () => {
    const s: Snapshot = {
      ...snap(job({ succeeded: 1, conditions: [cond('Complete')] }), [pod('Succeeded')], true),
      inferred: { condition: cond('Failed', 'BackoffLimitExceeded'), source: 'events' }
    }
    expect(decide(s, condition('Complete'), rules, NOW)).toMatchObject({ state: 'met', decidedBy: 'condition' })
  })
})

describe('a Job that finished long before the step started (applied again unchanged)', () => {
  const finished = (agoS: number) =>
    job({ succeeded: 1, completionTime: ago(agoS), conditions: [{ ...cond('Complete'), lastTransitionTime: ago(agoS) }] })
  const stepStart = { ...rules, stepStartedAt: NOW - 5_000 }
  test('finished 3 h before the step: met as before, with a warning that names its age', () => {
    const v = decide(snap(finished(3 * 3600), [pod('Succeeded')]), condition('Complete'), stepStart, NOW)
    expect(v.state).toBe('met')
    expect(v.notes.map((n) => n.message)).toContainEqual(
      expect.stringMatching(/^job ci\/build finished 2h59m\d+s ago, before this step started: was it applied again unchanged\?/)
    )
  })
  test('a fast Job that finished seconds before the step is normal: no warning', () => {
    const v = decide(snap(finished(20), [pod('Succeeded')]), condition('Complete'), stepStart, NOW)
    expect(v.state).toBe('met')
    expect(v.notes).toEqual([])
  })
})

describe('a pod held Running by a sidecar that is not a native one (istio#11045)', () => {
  const held = (endedAgoS: number) =>
    ({
      ...pod('Running'),
      containers: [
        { name: 'main', init: false, state: 'terminated', exitCode: 0, reason: 'Completed', restartCount: 0, finishedAt: ago(endedAgoS) },
        { name: 'istio-proxy', init: false, state: 'running', restartCount: 0, startedAt: ago(100) }
      ]
    }) as PodInfo
  test('named in the progress line after 30 s, and in the timeout message; the verdict unchanged', () => {
    const s = snap(job({ active: 1 }), [held(45)])
    const v = decide(s, condition('Complete'), rules, NOW)
    expect(v.state).toBe('waiting')
    expect(v.detail).toMatch(/container main ended 45s ago but istio-proxy keeps the pod Running/)
    const t = decide(s, condition('Complete'), rules, NOW, { kind: 'timeout', afterMs: 600_000 })
    expect(t.state).toBe('timeout')
    expect(t.message).toMatch(/istio-proxy keeps the pod Running/)
    expect(t.notes.map((n) => n.title)).toContain('the Job may never finish')
  })
  test('not within 30 s of the end (the kubelet may still be stopping the pod)', () => {
    expect(decide(snap(job({ active: 1 }), [held(10)]), condition('Complete'), rules, NOW).detail ?? '').not.toMatch(
      /keeps the pod Running/
    )
  })
  test('a native sidecar (an init container with restartPolicy Always) is not named', () => {
    const p = {
      ...pod('Running'),
      containers: [
        { name: 'proxy', init: true, sidecar: true, state: 'running', restartCount: 0 },
        { name: 'main', init: false, state: 'running', restartCount: 0 }
      ]
    } as PodInfo
    expect(decide(snap(job({ active: 1 }), [p]), condition('Complete'), rules, NOW).detail ?? '').not.toMatch(/keeps the pod Running/)
  })
})

describe('spec.managedBy: another controller drives the Job', () => {
  test('said in the progress line and on timeout', () => {
    const s = snap(job({ active: 0, managedBy: 'kueue.x-k8s.io/multikueue' }), [])
    const v = decide(s, condition('Complete'), rules, NOW)
    expect(v.detail).toContain('managed by kueue.x-k8s.io/multikueue, not the Job controller: its pods may run in another cluster')
    expect(decide(s, condition('Complete'), rules, NOW, { kind: 'timeout', afterMs: 60_000 }).message).toContain(
      'kueue.x-k8s.io/multikueue'
    )
  })
  test('the Job controller itself is not named', () => {
    const v = decide(snap(job({ managedBy: 'kubernetes.io/job-controller' }), []), condition('Complete'), rules, NOW)
    expect(v.detail ?? '').not.toContain('managed by')
  })
})

describe('the final verdict on every end', () => {
  const s = snap(job({ parallelism: 2, completions: 2 }), [pod('Running', { name: 'build-r' }), pod('Pending', { name: 'build-p' })])
  test('timeout: what is still missing, after how long', () => {
    const v = decide(s, running(), rules, NOW, { kind: 'timeout', afterMs: 300_000 })
    expect(v).toMatchObject({ state: 'timeout', count: 1, expected: 2 })
    expect(v.message).toBe('timed out: 1 of 2 pods Running after 5m: build-p Pending (ContainerCreating)')
  })
  test('cancelled: after how long, and where it stood', () => {
    const v = decide(s, running(), rules, NOW, { kind: 'cancelled', afterMs: 12_000 })
    expect(v.state).toBe('cancelled')
    expect(v.message).toBe('cancelled after 12s: 1 of 2 pods Running')
  })
  test('an answer known by the timeout still wins', () => {
    const met = snap(job(), [pod('Running')])
    expect(decide(met, running(), rules, NOW, { kind: 'timeout', afterMs: 1_000 }).state).toBe('met')
  })
  test('a server that never answered: the timeout names the last fault, or says there was no answer', () => {
    const none: Snapshot = { namespace: 'ci', name: 'build', jobDeleted: false, synced: false, pods: [] }
    expect(decide(none, running(), rules, NOW, { kind: 'timeout', afterMs: 60_000, fault: 'list jobs: HTTP 503' }).message).toBe(
      'timed out: the API server kept failing for 1m: list jobs: HTTP 503'
    )
    expect(decide(none, running(), rules, NOW, { kind: 'timeout', afterMs: 60_000 }).message).toBe(
      'timed out: no answer from the API server in 1m'
    )
  })
  test('problems are the pods grouped by cause, for the report to render', () => {
    const j = job({ failed: 2, conditions: [cond('Failed', 'BackoffLimitExceeded')] })
    const v = decide(snap(j, [pod('Failed'), pod('Failed')]), condition('Complete'), rules, NOW)
    expect(v.problems).toHaveLength(1)
    expect(v.problems[0].pods).toHaveLength(2)
  })
  test('a Job found but its pods not listed yet is not decided on', () => {
    const v = decide(
      { ...snap(job({ succeeded: 1, conditions: [cond('Complete')] })), podsListed: false },
      condition('Complete'),
      rules,
      NOW
    )
    expect(v.state).toBe('waiting')
  })
})
