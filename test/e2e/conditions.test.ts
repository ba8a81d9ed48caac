// Waiting for Job conditions on the real control plane: the Job controller
// writes SuccessCriteriaMet/FailureTarget, then Complete/Failed, about 1 s
// after the last pod's final write; replacement pods come after a 10 s
// back-off. Jobs deleted by the TTL controller are in ttl.test.ts.
import { afterEach, describe, expect, test } from '@jest/globals'
import { expectResult, runAction, type ActionRun } from './support/action.js'
import { NS, cleanup, createJob, kubectl, podPhases, uniqueName, until } from './support/cluster.js'

afterEach(cleanup)

const wait = (job: string, extra: Record<string, string> = {}) => ({ job, namespace: NS, timeout: '60s', ...extra })
// The controller writes SuccessCriteriaMet while the last pods are still in
// status.uncountedTerminatedPods (succeeded not yet counted), and the wait ends
// on that first write: the counters in the message may still lag (N of M).
const completed = (name: string, total: number) =>
  new RegExp(`^job ${NS}/${name} completed \\((SuccessCriteriaMet|Complete)\\): 0 active, \\d+ of ${total} succeeded, 0 failed$`)
const conditionTypes = (run: ActionRun) => (run.job?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type)

describe('the Job completes', () => {
  test('condition Complete and condition Finished are met (both waits running while it completes)', async () => {
    const name = uniqueName('complete')
    await createJob({ name, parallelism: 2, completions: 2, sim: { 'run-ms': '3000' } })
    const [complete, finished] = await Promise.all([
      runAction({ inputs: wait(name, { condition: 'Complete' }) }),
      runAction({ inputs: wait(name, { condition: 'Finished' }) })
    ])
    for (const run of [complete, finished]) {
      expectResult(run, 'met')
      expect(run.message).toMatch(completed(name, 2))
      expect(run.count).toBe(0)
      expect(Object.values(run.phases)).toEqual(['Succeeded', 'Succeeded'])
      expect(run.pods.every((p) => p.phase === 'Succeeded' && p.node === 'kjw-node')).toBe(true)
      expect(run.job).toMatchObject({ name, namespace: NS, active: 0, failed: 0, deleted: false })
      expect(conditionTypes(run)).toContain('SuccessCriteriaMet')
      // it saw the Job unfinished, then ended with the condition (pods run 3 s, the condition ~1 s later)
      expect(run.stdout).toMatch(new RegExp(`job ${NS}/${name} not (Complete|Finished) yet: `))
      expect(run.elapsed).toBeLessThan(15)
    }
  })
})

describe('the Job fails', () => {
  test('backoffLimit exceeded: condition Complete and phase Succeeded both fail at once, long before the timeout', async () => {
    const name = uniqueName('fail')
    await createJob({
      name,
      backoffLimit: 1,
      sim: { 'exit-code': '3', 'run-ms': '500', log: 'starting\nfatal: exit {exitCode} (attempt {attempt})' }
    })
    const inputs = { timeout: '120s' }
    const [byCondition, byPhase] = await Promise.all([
      runAction({ inputs: wait(name, { ...inputs, condition: 'Complete' }) }),
      runAction({ inputs: wait(name, { ...inputs, phase: 'Succeeded' }) })
    ])
    for (const run of [byCondition, byPhase]) {
      expectResult(run, 'failed')
      expect(run.message).toMatch(
        new RegExp(`^job ${NS}/${name} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`)
      )
      expect(run.count).toBe(0)
      // two pods: the first and its one replacement (after the controller's 10 s back-off)
      const pods = Object.keys(run.phases)
      expect(pods).toHaveLength(2)
      expect(Object.values(run.phases)).toEqual(['Failed', 'Failed'])
      for (const p of pods) expect(run.message).toContain(`${p} Failed (Error, exit code 3)`)
      expect(run.pods.map((p) => p.reason)).toEqual(['Error, exit code 3', 'Error, exit code 3'])
      expect(run.job).toMatchObject({ name, active: 0, succeeded: 0 })
      expect(run.job!.failed).toBeGreaterThanOrEqual(1)
      expect(run.job!.conditions).toContainEqual(expect.objectContaining({ status: 'True', reason: 'BackoffLimitExceeded' }))
      // ~11 s of pods and back-off, then the condition: nowhere near the 120 s timeout
      expect(run.elapsed).toBeGreaterThan(9)
      expect(run.elapsed).toBeLessThan(30)
      expect(run.summary).toContain(`job \`${NS}/${name}\`: failed`)
    }
  })
})

describe('Indexed Jobs', () => {
  test('completionMode Indexed, 5 at once: Complete met, pods carry their index 0..4', async () => {
    const name = uniqueName('indexed')
    await createJob({ name, completionMode: 'Indexed', parallelism: 5, completions: 5, sim: { 'run-ms': '800' } })
    const run = await runAction({ inputs: wait(name, { condition: 'Complete' }) })
    expectResult(run, 'met')
    expect(run.message).toMatch(completed(name, 5))
    expect(run.pods.map((p) => p.index)).toEqual(['0', '1', '2', '3', '4'])
    for (const p of run.pods) {
      expect(p.phase).toBe('Succeeded')
      expect(p.name.startsWith(`${name}-${p.index}-`)).toBe(true)
    }
    expect(run.job).toMatchObject({ active: 0, failed: 0 })
  })

  test('index 2 exits 3 (backoffLimitPerIndex 0): Complete fails with FailedIndexes, pod 2 named', async () => {
    const name = uniqueName('idxfail')
    await createJob({
      name,
      completionMode: 'Indexed',
      parallelism: 5,
      completions: 5,
      backoffLimitPerIndex: 0,
      sim: { 'run-ms': '800', 'index-exit-codes': '2=3' }
    })
    const run = await runAction({ inputs: wait(name, { condition: 'Complete' }) })
    expectResult(run, 'failed')
    const failed = run.pods.find((p) => p.index === '2')!
    expect(run.message).toMatch(new RegExp(`^job ${NS}/${name} failed: FailedIndexes`))
    expect(run.message).toContain(`${failed.name} Failed (Error, exit code 3)`)
    expect(failed).toMatchObject({ phase: 'Failed', reason: 'Error, exit code 3' })
    expect(run.pods.filter((p) => p.index !== '2').every((p) => p.phase === 'Succeeded')).toBe(true)
    expect(run.pods.map((p) => p.index)).toEqual(['0', '1', '2', '3', '4'])
    expect(run.job!.conditions).toContainEqual(expect.objectContaining({ status: 'True', reason: 'FailedIndexes' }))
    expect(run.elapsed).toBeLessThan(15)
  })
})

describe('condition Failed', () => {
  test('met when the Job fails (with its reason); failed when the Job completes instead', async () => {
    const bad = uniqueName('condfail')
    const good = uniqueName('condok')
    await createJob({ name: bad, backoffLimit: 0, sim: { 'run-ms': '1500', 'exit-code': '3' } })
    await createJob({ name: good, sim: { 'run-ms': '1500' } })
    const [failed, completed] = await Promise.all([
      runAction({ inputs: wait(bad, { condition: 'Failed' }) }),
      runAction({ inputs: wait(good, { condition: 'Failed' }) })
    ])
    expectResult(failed, 'met')
    expect(failed.message).toBe(`job ${NS}/${bad} failed (BackoffLimitExceeded)`)
    expect(failed.job!.conditions).toContainEqual(expect.objectContaining({ status: 'True', reason: 'BackoffLimitExceeded' }))
    expect(Object.values(failed.phases)).toEqual(['Failed'])
    expectResult(completed, 'failed')
    expect(completed.message).toBe(`job ${NS}/${good} completed; it will not fail`)
    expect(conditionTypes(completed)).toContain('SuccessCriteriaMet')
  })
})

describe('condition Suspended', () => {
  test('a running Job suspended while waiting: met once the Job controller says Suspended', async () => {
    const name = uniqueName('suspend')
    await createJob({ name, sim: { 'run-ms': '-1' } })
    const lines: { t: number; line: string }[] = []
    const running = runAction({ inputs: wait(name, { condition: 'Suspended' }), lines })
    await until(`the action waits for ${name} to be suspended`, async () =>
      lines.some((l) => l.line.includes(`job ${NS}/${name} not Suspended yet`))
    )
    await until(`${name}'s pod Running`, async () => Object.values(await podPhases(name)).includes('Running'))
    await kubectl(['patch', 'job', name, '-n', NS, '--type=merge', '-p', '{"spec":{"suspend":true}}'])
    const run = await running
    expectResult(run, 'met')
    expect(run.message).toBe(`job ${NS}/${name} is suspended`)
    expect(run.job!.conditions).toContainEqual(expect.objectContaining({ type: 'Suspended', status: 'True', reason: 'JobSuspended' }))
    expect(run.job).toMatchObject({ name, succeeded: 0, failed: 0 })
  })
})
