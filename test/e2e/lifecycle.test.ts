// A Job's life around the wait: an earlier Job of the same name whose pods
// live on (deleted with --cascade=orphan) must not count, a Job created
// only after the action started is waited for, a Job deleted and created
// again while waiting is followed by its new uid, and a namespace that does
// not exist is an error.
import { afterEach, describe, expect, test } from '@jest/globals'
import { expectResult, runAction } from './support/action.js'
import { NS, cleanup, createJob, deleteJob, kubectl, listPods, podPhases, sleep, uniqueName, until } from './support/cluster.js'

afterEach(cleanup)

const wait = (job: string, extra: Record<string, string> = {}) => ({ job, namespace: NS, timeout: '60s', ...extra })

/** Creates a Job whose pod runs forever, then deletes the Job but not the pod; resolves the pod's name. */
async function orphanedRunningPod(name: string): Promise<string> {
  const old = await createJob({ name, sim: { 'run-ms': '-1' } })
  const pod = await until(`a Running pod of the first ${name}`, async () => {
    const pods = await listPods(NS, `batch.kubernetes.io/controller-uid=${old.uid}`)
    return pods.find((p) => p.status?.phase === 'Running')?.metadata.name as string | undefined
  })
  await deleteJob(name, NS, 'orphan', true)
  // the garbage collector strips the owner reference; the pod keeps running and keeps its job-name label
  await until(`pod ${pod} orphaned`, async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', pod, '-n', NS, '-o', 'json']))
    return !p.metadata.ownerReferences?.length && p.status.phase === 'Running' && p.metadata.labels['job-name'] === name
  })
  return pod
}

describe('an earlier Job of the same name', () => {
  test('its orphaned Running pod does not count: the new Job, stuck Pending, times out with count 0', async () => {
    const name = uniqueName('again')
    const oldPod = await orphanedRunningPod(name)
    const job = await createJob({ name, sim: { 'start-ms': '600000' } })
    const run = await runAction({ inputs: wait(name, { phase: 'Running', timeout: '8s' }) })
    expectResult(run, 'timeout')
    expect(run.count).toBe(0)
    const pods = Object.keys(run.phases)
    expect(pods).toHaveLength(1)
    expect(pods).not.toContain(oldPod)
    expect(run.phases[pods[0]]).toBe('Pending')
    expect(run.pods[0]).toMatchObject({ phase: 'Pending', reason: 'ContainerCreating' })
    expect(run.message).toMatch(/^timed out: 0 of 1 pod Running after 8(\.0)?s: /)
    expect(run.message).toContain(`${pods[0]} Pending (ContainerCreating)`)
    expect(run.message).not.toContain(oldPod)
    expect(run.job).toMatchObject({ name, uid: job.uid, active: 1 })
    expect(run.summary).not.toContain(oldPod)
  })

  test('the new Job runs: met with its own pod only', async () => {
    const name = uniqueName('again')
    const oldPod = await orphanedRunningPod(name)
    const job = await createJob({ name, sim: { 'run-ms': '-1', 'start-ms': '1000' } })
    const run = await runAction({ inputs: wait(name, { phase: 'Running' }) })
    expectResult(run, 'met')
    expect(run.message).toBe('1 of 1 pod Running')
    expect(run.count).toBe(1)
    const pods = Object.keys(run.phases)
    expect(pods).toHaveLength(1)
    expect(pods).not.toContain(oldPod)
    expect(run.phases[pods[0]]).toBe('Running')
    expect(run.job).toMatchObject({ name, uid: job.uid })
    // it did wait for the new pod (Pending for 1 s), not take the old one
    expect(run.stdout).toMatch(/0 of 1 pod Running/)
  })
})

describe('a Job that does not exist yet', () => {
  test('created 2 s after the action starts: followed and met', async () => {
    const name = uniqueName('later')
    let started: () => void = () => undefined
    const onStart = new Promise<void>((r) => (started = r))
    const running = runAction({ inputs: wait(name, { phase: 'Running' }), onStart: () => started() })
    await onStart
    await sleep(2_000)
    const job = await createJob({ name, parallelism: 2, sim: { 'run-ms': '-1' } })
    const run = await running
    expectResult(run, 'met')
    expect(run.message).toBe('2 of 2 pods Running')
    expect(run.count).toBe(2)
    expect(Object.values(run.phases)).toEqual(['Running', 'Running'])
    expect(run.job).toMatchObject({ name, uid: job.uid, active: 2 })
    // it said it was waiting for the Job to appear
    const notFound = run.lines.find((l) => l.line.includes(`job ${NS}/${name} not found yet`))
    expect(notFound).toBeDefined()
    expect(notFound!.t).toBeLessThan(2_000)
    // (elapsed counts from the action's start, a few hundred ms after the process's)
    expect(run.ms).toBeGreaterThan(2_000)
    expect(run.elapsed).toBeLessThan(10)
  })
})

describe('a Job deleted and created again while waiting', () => {
  test('the new uid is followed and said; the first Job’s pod never counts', async () => {
    const name = uniqueName('recreate')
    // the first Job's pod never starts: only the second Job can meet the wait
    const first = await createJob({ name, sim: { 'start-ms': '600000' } })
    const lines: { t: number; line: string }[] = []
    const running = runAction({ inputs: wait(name, { phase: 'Running' }), lines })
    await until(`the action waits on the first ${name}`, async () => lines.some((l) => l.line.includes('0 of 1 pod Running')))
    const firstPod = await until(`the first ${name}'s pod`, async () => Object.keys(await podPhases(name))[0])
    await deleteJob(name, NS, 'background', true)
    const second = await createJob({ name, sim: { 'run-ms': '-1' } })
    const run = await running
    expectResult(run, 'met')
    expect(run.message).toBe('1 of 1 pod Running')
    expect(run.job).toMatchObject({ name, uid: second.uid })
    expect(run.stdout).toContain(`(uid ${first.uid} → ${second.uid}); following the new one`)
    const pods = Object.keys(run.phases)
    expect(pods).toHaveLength(1)
    expect(pods).not.toContain(firstPod)
    expect(run.phases[pods[0]]).toBe('Running')
  })
})

describe('a namespace that does not exist', () => {
  test('an error at once, naming the namespace', async () => {
    const namespace = uniqueName('kjw-nowhere')
    const run = await runAction({ inputs: { job: 'any', namespace, phase: 'Running', timeout: '30s' } })
    expectResult(run, 'error')
    expect(run.message).toContain(`namespace "${namespace}" not found`)
    expect(run.job).toBeNull()
    expect(run.elapsed).toBeLessThan(5)
  })
})
