// The rules of issue 17 through the real client, against the fake API server:
// pods Unschedulable while an autoscaler adds a node (its word read from the
// pod's Events, one LIST per reason however many pods), a waiting reason
// timed from when it was first seen, and time read by the API server's clock.
import { afterEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'

jest.unstable_mockModule('@actions/core', () => core)
const { run } = await import('../src/main.js')

const TIMING = {
  requestTimeoutMs: 5_000,
  idleTimeoutMs: 3_000,
  unreachableGraceMs: 1_000,
  tickMs: 100,
  heartbeatMs: 60_000,
  autoscalerEventsMs: 300
}
const NS = 'ci'
const SCHEDULER = '0/3 nodes are available: 3 Insufficient cpu.'
let server: FakeApiServer

async function startServer(opts: { now?: () => Date } = {}): Promise<void> {
  server = new FakeApiServer({ namespaces: ['default', NS], ...opts })
  await server.start()
}
afterEach(async () => {
  await server.stop()
})

function start(extra: Record<string, string>, user = 'admin') {
  core.reset({
    job: 'build',
    namespace: NS,
    kubeconfig: server.kubeconfig(user),
    timeout: '20s',
    'pod-error-grace': '60s',
    ...extra
  })
  return run(TIMING)
}

/** A metav1.Time: whole seconds */
const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const logged = () => core.state.log.map((l) => l.message).join('\n')
const errorAnnotations = () => core.state.log.filter((l) => l.level === 'error' && (l.props as { title?: string })?.title)

function jobWithPods(n: number): KubeObject[] {
  const job = server.createJob(NS, { metadata: { name: 'build' }, spec: { parallelism: n, completions: n } })
  return Array.from({ length: n }, () => server.createPodForJob(job))
}

/** What the scheduler writes when no node fits: PodScheduled=False, Unschedulable, since the server's now. */
function markUnschedulable(pod: KubeObject): void {
  server.updatePodStatus(NS, pod.metadata.name, {
    phase: 'Pending',
    conditions: [
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: SCHEDULER, lastTransitionTime: stamp(Date.now()) }
    ]
  })
}

const triggered = {
  reason: 'TriggeredScaleUp',
  message: 'pod triggered scale-up: [{pool-a 3->4 (max: 10)}]',
  component: 'cluster-autoscaler'
}
const notTriggered = {
  reason: 'NotTriggerScaleUp',
  message: "pod didn't trigger scale-up: 1 max node group size reached",
  component: 'cluster-autoscaler'
}

describe('Unschedulable while an autoscaler adds a node', () => {
  test('TriggeredScaleUp: waits past the grace it would have failed on, says so, and is met once the pod runs', async () => {
    await startServer()
    const [pod] = jobWithPods(1)
    markUnschedulable(pod)
    server.addEvent(pod, triggered)
    // pod-error-grace too: before issue 17 it was the grace of Unschedulable pods
    const done = start({ 'unschedulable-grace': '1s', 'pod-error-grace': '1s' })
    await sleep(2_500)
    server.startPod(NS, pod.metadata.name)
    const o = await done
    expect(o.result).toBe('met')
    expect(o.elapsedMs).toBeGreaterThan(2_000)
    expect(logged()).toContain('waiting for a new node (cluster-autoscaler: pool-a 3->4)')
    // one LIST per reason, by field selector on the namespace's events: never one per pod
    const reads = server.requestsMatching({ resource: 'events' })
    expect(reads.length).toBeGreaterThan(0)
    for (const r of reads)
      expect(r.query.fieldSelector).toMatch(
        /^involvedObject\.kind=Pod,reason=(TriggeredScaleUp|Nominated|NotTriggerScaleUp|FailedScaleUp)$/
      )
  })

  test('the timeout says the pod was waiting for a new node', async () => {
    await startServer()
    const [pod] = jobWithPods(1)
    markUnschedulable(pod)
    server.addEvent(pod, { reason: 'Nominated', message: 'Pod should schedule on: nodeclaim/default-x7k2p', component: 'karpenter' })
    const o = await start({ 'unschedulable-grace': '1s', 'pod-error-grace': '1s', timeout: '2s' })
    expect(o.result).toBe('timeout')
    expect(o.message).toMatch(
      /^timed out: 0 of 1 pod Running after 2(\.0)?s: .*waiting for a new node \(karpenter: nodeclaim\/default-x7k2p\)$/
    )
  })

  test('NotTriggerScaleUp: failed when the grace ends, the annotation quoting the scheduler and the autoscaler', async () => {
    await startServer()
    const [pod] = jobWithPods(1)
    markUnschedulable(pod)
    server.addEvent(pod, notTriggered)
    const o = await start({ 'unschedulable-grace': '1s' })
    expect(o.result).toBe('failed')
    expect(o.message).toContain(`stuck in Unschedulable`)
    expect(o.message).toContain(`cluster-autoscaler NotTriggerScaleUp: ${notTriggered.message}`)
    const [annotation] = errorAnnotations()
    expect((annotation.props as { title: string }).title).toBe('Unschedulable (1 pod)')
    expect(annotation.message).toContain(`${SCHEDULER}; cluster-autoscaler NotTriggerScaleUp: ${notTriggered.message}`)
  })

  test('without the right to list events: one note, and the grace alone decides, as before', async () => {
    await startServer()
    server.addUser('noevents', ['get,list,watch jobs', 'get,list,watch pods'])
    const [pod] = jobWithPods(1)
    markUnschedulable(pod)
    server.addEvent(pod, triggered)
    const o = await start({ 'unschedulable-grace': '1500ms' }, 'noevents')
    expect(o.result).toBe('failed')
    expect(o.message).toMatch(/stuck in Unschedulable for 1\.\ds/)
    const notes = core.state.log.filter((l) => l.message.includes('what autoscalers say about Unschedulable pods is not read'))
    expect(notes).toHaveLength(1)
  })

  test('events that cannot be read (500s): the grace decides, the wait is not held until its timeout', async () => {
    await startServer()
    const [pod] = jobWithPods(1)
    markUnschedulable(pod)
    server.nextResponses(
      { resource: 'events' },
      Array.from({ length: 200 }, () => ({ status: 500 }))
    )
    const o = await start({ 'unschedulable-grace': '1s' })
    expect(o.result).toBe('failed')
    expect(o.message).toContain('stuck in Unschedulable')
    expect(o.elapsedMs).toBeLessThan(5_000)
  })

  test('200 Unschedulable pods: the same few LISTs, each word matched to its pod', async () => {
    await startServer()
    const pods = jobWithPods(200)
    for (const p of pods) {
      markUnschedulable(p)
      server.addEvent(p, triggered)
    }
    const o = await start({ 'unschedulable-grace': '1s', timeout: '2500ms' })
    expect(o.result).toBe('timeout')
    expect(o.message).toContain('200 pods waiting for a new node (cluster-autoscaler: pool-a 3->4)')
    const all = server.requestsMatching({ resource: 'events' })
    const reads = all.filter((r) => /reason=/.test(r.query.fieldSelector ?? ''))
    // 4 reasons a read, a read at most every 300 ms in 2.5 s; the rest are the report's (a few pods, by uid)
    expect(reads.length).toBeGreaterThanOrEqual(4)
    expect(reads.length).toBeLessThanOrEqual(4 * 10)
    expect(all.length - reads.length).toBeLessThanOrEqual(5)
  })
})

describe('a waiting reason is timed from when it was first seen (issue 17)', () => {
  test('a pod that waited longer than the grace for a node, then meets ErrImagePull once, is not failed at once', async () => {
    await startServer()
    const [pod] = jobWithPods(1)
    const done = start({ 'pod-error-grace': '1s' })
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    await sleep(1_500) // older than the grace
    server.setPodWaiting(NS, pod.metadata.name, 'ErrImagePull', 'rpc error: code = Unknown desc = 429 Too Many Requests')
    await sleep(400)
    server.startPod(NS, pod.metadata.name)
    const o = await done
    expect(o.result).toBe('met')
  })

  test('ErrImagePull then ImagePullBackOff, one clock: failed once the grace has passed since the first', async () => {
    await startServer()
    const [pod] = jobWithPods(1)
    const done = start({ 'pod-error-grace': '1s' })
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    const seen = Date.now()
    server.setPodWaiting(NS, pod.metadata.name, 'ErrImagePull', 'manifest unknown')
    await sleep(600)
    server.setPodWaiting(NS, pod.metadata.name, 'ImagePullBackOff', 'Back-off pulling image "registry/x:tag"')
    const o = await done
    expect(o.result).toBe('failed')
    expect(o.message).toMatch(/stuck in ImagePullBackOff for 1(\.\d)?s/)
    expect(Date.now() - seen).toBeLessThan(1_600 + 1_000)
  })
})

describe("the rules read time by the API server's clock (issue 17)", () => {
  test('a runner whose clock is 2 minutes ahead does not fail a pod Unschedulable for 10 s on a 60 s grace', async () => {
    // The server's clock (its timestamps and its Date header) is 2 minutes behind the runner's.
    await startServer({ now: () => new Date(Date.now() - 120_000) })
    const [pod] = jobWithPods(1)
    server.updatePodStatus(NS, pod.metadata.name, {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: SCHEDULER,
          lastTransitionTime: stamp(Date.now() - 120_000 - 10_000)
        }
      ]
    })
    const o = await start({ 'unschedulable-grace': '60s', timeout: '1500ms' })
    expect(o.result).toBe('timeout')
    expect(o.message).toContain('Pending (Unschedulable)')
  })
})
