// Waiting for pods to reach a phase, on the real control plane: pods that
// run, pods too fast to be seen Running, pods stuck pulling their image, and
// a wait that times out.
import { afterEach, describe, expect, test } from '@jest/globals'
import { expectResult, runAction } from './support/action.js'
import { NS, cleanup, createJob, podPhases, uniqueName, until } from './support/cluster.js'

afterEach(cleanup)

const wait = (job: string, extra: Record<string, string> = {}) => ({ job, namespace: NS, timeout: '60s', ...extra })

describe('phase Running', () => {
  test('met when both pods of a parallelism-2 Job run', async () => {
    const name = uniqueName('running')
    await createJob({ name, parallelism: 2, sim: { 'run-ms': '-1' } })
    const run = await runAction({ inputs: wait(name, { phase: 'Running' }) })
    expectResult(run, 'met')
    expect(run.message).toBe('2 of 2 pods Running')
    expect(run.count).toBe(2)
    expect(Object.values(run.phases)).toEqual(['Running', 'Running'])
    expect(run.pods).toHaveLength(2)
    for (const p of run.pods) {
      expect(p).toMatchObject({ phase: 'Running', node: 'kjw-node', restarts: 0, reason: null })
      expect(p.name.startsWith(`${name}-`)).toBe(true)
      expect(Date.parse(p.startTime ?? '')).not.toBeNaN()
    }
    expect(run.job).toMatchObject({ name, namespace: NS, active: 2, succeeded: 0, failed: 0, deleted: false, conditions: [] })
    expect(run.summary).toContain(`job \`${NS}/${name}\`: met`)
  })

  test('pods that go Pending → Succeeded without ever running still count (skip-running)', async () => {
    const name = uniqueName('skiprun')
    await createJob({ name, parallelism: 2, completions: 2, sim: { 'skip-running': 'true', 'start-ms': '300', 'run-ms': '300' } })
    const run = await runAction({ inputs: wait(name, { phase: 'Running' }) })
    expectResult(run, 'met')
    expect(run.message).toBe('2 of 2 pods Running')
    expect(run.count).toBe(2)
    expect(Object.values(run.phases)).toEqual(['Succeeded', 'Succeeded'])
    expect(run.pods.every((p) => p.phase === 'Succeeded' && p.reason === null)).toBe(true)
    // the Job's counters may lag the pods by a moment
    expect(run.job).toMatchObject({ name, namespace: NS, failed: 0 })
  })
})

describe('pods that cannot start', () => {
  test('ImagePullBackOff fails the wait after pod-error-grace, naming the reason and the image', async () => {
    const name = uniqueName('imagepull')
    const image = 'registry.invalid/kjw/no-such-image:e2e'
    const createdAt = Date.now()
    await createJob({ name, image, sim: { stuck: 'ImagePullBackOff' } })
    const run = await runAction({ inputs: wait(name, { phase: 'Running', 'pod-error-grace': '5s' }) })
    const sinceCreate = Date.now() - createdAt
    expectResult(run, 'failed')
    const pod = Object.keys(run.phases)[0]
    expect(run.message).toMatch(new RegExp(`^pod ${pod} stuck in ImagePullBackOff for \\d+(\\.\\d)?s`))
    expect(run.message).toContain(`${pod} Pending (ImagePullBackOff)`)
    expect(run.count).toBe(0)
    expect(run.phases).toEqual({ [pod]: 'Pending' })
    expect(run.pods[0]).toMatchObject({ name: pod, phase: 'Pending', reason: 'ImagePullBackOff' })
    // the kubelet's message names the image: the summary shows it
    expect(run.summary).toContain(`Back-off pulling image "${image}"`)
    // within the grace (creationTimestamp has 1 s resolution) plus a few seconds
    expect(sinceCreate).toBeGreaterThanOrEqual(4_000)
    expect(run.elapsed).toBeLessThan(10)
  })
})

describe('timeout', () => {
  test('pods that never finish: result timeout, the missing pods named', async () => {
    const name = uniqueName('timeout')
    await createJob({ name, parallelism: 2, completions: 2, sim: { 'run-ms': '-1' } })
    const run = await runAction({ inputs: wait(name, { phase: 'Succeeded', timeout: '5s' }) })
    expectResult(run, 'timeout')
    const pods = Object.keys(run.phases)
    expect(pods).toHaveLength(2)
    expect(run.message).toMatch(/^timed out: 0 of 2 pods Succeeded after 5(\.0)?s: /)
    for (const p of pods) expect(run.message).toContain(`${p} Running`)
    expect(run.count).toBe(0)
    expect(Object.values(run.phases)).toEqual(['Running', 'Running'])
    expect(run.job).toMatchObject({ name, active: 2, succeeded: 0, conditions: [] })
    expect(run.elapsed).toBeGreaterThanOrEqual(5)
    expect(run.elapsed).toBeLessThan(8)
  })
})

describe('phases Pending and Failed', () => {
  test('phase Pending: met by pods that never start (ContainerCreating), counted from the Job', async () => {
    const name = uniqueName('pending')
    await createJob({ name, parallelism: 2, completions: 2, sim: { 'start-ms': '600000' } })
    const run = await runAction({ inputs: wait(name, { phase: 'Pending' }) })
    expectResult(run, 'met')
    expect(run.message).toBe('2 of 2 pods Pending')
    expect(run.count).toBe(2)
    expect(Object.values(run.phases)).toEqual(['Pending', 'Pending'])
    expect(run.pods.map((p) => p.reason)).toEqual(['ContainerCreating', 'ContainerCreating'])
    expect(run.job).toMatchObject({ name, active: 2, conditions: [] })
  })

  test('phase Failed: met by the failed pod even though the Job fails with it', async () => {
    const name = uniqueName('podfail')
    await createJob({ name, backoffLimit: 0, sim: { 'run-ms': '3000', 'exit-code': '3' } })
    const run = await runAction({ inputs: wait(name, { phase: 'Failed' }) })
    expectResult(run, 'met')
    expect(run.message).toBe('1 of 1 pod Failed')
    expect(run.count).toBe(1)
    expect(Object.values(run.phases)).toEqual(['Failed'])
    expect(run.pods[0]).toMatchObject({ phase: 'Failed', reason: 'Error, exit code 3' })
    // it waited for the pod, not for the Job: Running first
    expect(run.stdout).toMatch(/0 of 1 pod Failed/)
  })
})

describe('match: exact', () => {
  test('counts only pods in exactly that phase, and needs equality', async () => {
    // fast pods: Pending → Succeeded, never Running
    const fast = uniqueName('exactfast')
    await createJob({ name: fast, parallelism: 2, completions: 2, sim: { 'skip-running': 'true', 'start-ms': '1000', 'run-ms': '500' } })
    // two pods that run forever, one wanted exactly
    const two = uniqueName('exacttwo')
    await createJob({ name: two, parallelism: 2, sim: { 'run-ms': '-1' } })
    // (expected-count given: the default follows the completions still to go)
    const fastRuns = Promise.all([
      runAction({ inputs: wait(fast, { phase: 'Running', 'expected-count': '2' }) }),
      runAction({ inputs: wait(fast, { phase: 'Running', 'expected-count': '2', match: 'exact' }) })
    ])
    // Both pods Running first: while one was Running and the other not yet, "exactly 1" was true (the rule's race).
    await until('both pods Running', async () => {
      const phases = Object.values(await podPhases(two))
      return phases.length === 2 && phases.every((p) => p === 'Running')
    })
    const equal = await runAction({ inputs: wait(two, { phase: 'Running', match: 'exact', 'expected-count': '1', timeout: '6s' }) })
    const [atLeast, exact] = await fastRuns
    // at-least counts the Succeeded pods as past Running; exact does not, and the Job's end settles it
    expectResult(atLeast, 'met')
    expect(atLeast.count).toBe(2)
    expectResult(exact, 'failed')
    expect(exact.count).toBe(0)
    expect(exact.message).toMatch(new RegExp(`^job ${NS}/${fast} completed with 0 of 2 pods Running`))
    expect(Object.values(exact.phases)).toEqual(['Succeeded', 'Succeeded'])
    // two Running pods are not exactly one
    expectResult(equal, 'timeout')
    expect(equal.count).toBe(2)
    expect(equal.message).toMatch(/^timed out: 2 of 1 pod Running after 6(\.0)?s/)
    expect(Object.values(equal.phases)).toEqual(['Running', 'Running'])
  })
})
