// Faults of the API server and of the network between, in-process against
// the fake API server through the real @kubernetes/client-node transport.
// Every test makes the decisive change (a pod starts, the Job fails) while
// the watch is down or faulted, and checks that the action still sees it: no
// transition is lost. Where the recovery has a shape (re-watch from the last
// resourceVersion, re-list after 410, Retry-After), the requests say so.
//
// The stall bound, measured by the 'stalls and hangs' tests below: with
// idleTimeoutMs X, a watch that goes silent (connection open, no byte, not
// even a bookmark) is abandoned X after the last byte received, and the
// re-watch follows at once (no backoff, from the last resourceVersion): a
// freeze costs at most X plus a few ms (measured with X = 600 ms: the new
// watch reached the server 638-668 ms after the freeze). A watch that sends
// its headers and then nothing, or a watch request that is accepted and never
// answered, is bounded the same way (measured 599-612 ms). A hung GET/LIST
// costs requestTimeoutMs plus one backoff step (measured 1301-1303 ms for
// 500 ms + 800 ms). With the defaults (X = 90 s, requestTimeoutMs = 30 s) a
// frozen watch costs at most 90 s, a frozen LIST about 31-32 s. A server
// never reached is given up at unreachableGraceMs (10 s), to the millisecond
// (the last test).
//
// Backoff jitter is pinned (Math.random() = 0) so that the retry delays are
// deterministic: 800 ms, then 1.6 s, 3.2 s ...
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
import { FakeApiServer, type KubeObject, type RequestRecord } from './support/fake-apiserver.js'
import { closedPort } from './support/servers.js'
import type { Timing } from '../src/engine.js'

jest.unstable_mockModule('@actions/core', () => core)
const { run } = await import('../src/github/main.js')

const TIMING: Timing = {
  requestTimeoutMs: 1_000,
  refreshMs: 3_000,
  idleTimeoutMs: 3_000,
  unreachableGraceMs: 1_000,
  tickMs: 50,
  heartbeatMs: 60_000,
  diagnosisMs: 1_000,
  autoscalerEventsMs: 1_000,
  workloadsMs: 1_000,
  logDrainMs: 2_000
}
const FIRST_BACKOFF_MS = 800
const NS = 'ci'
let server: FakeApiServer

beforeEach(async () => {
  jest.spyOn(Math, 'random').mockReturnValue(0)
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
})
afterEach(async () => {
  jest.restoreAllMocks()
  await server.stop()
})

function start(extra: Record<string, string> = {}, timing: Partial<Timing> = {}) {
  core.reset({
    job: 'build',
    namespace: NS,
    kubeconfig: server.kubeconfig(),
    timeout: '20s',
    'pod-error-grace': '60s',
    match: 'at-least',
    mode: 'watch',
    'poll-interval': '2s',
    ...extra
  })
  return run({ ...TIMING, ...timing })
}

/** A Job of two pods, the first already Running: the wait is for the second. */
function twoPods(): { job: KubeObject; running: string; next: string } {
  const job = server.createJob(NS, { metadata: { name: 'build' }, spec: { parallelism: 2, completions: 2 } })
  const a = server.createPodForJob(job).metadata.name
  const b = server.createPodForJob(job).metadata.name
  server.startPod(NS, a)
  return { job, running: a, next: b }
}

const podWatch = (opts: { count?: number } = {}) => server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000, ...opts })
const podRequests = (): RequestRecord[] => server.requestsMatching({ resource: 'pods' })
const describeRequests = (rs: RequestRecord[]) =>
  rs.map((r) => `${r.verb} ${r.resource}${r.query.resourceVersion ? ` rv=${r.query.resourceVersion}` : ''} -> ${r.status ?? 'pending'}`)

/** Met, both pods counted, both Running in the outputs. */
function expectBothRunning(o: Awaited<ReturnType<typeof run>>, pods: { running: string; next: string }): void {
  expect(o.result).toBe('met')
  expect(core.state.outputs.result).toBe('met')
  expect(core.state.outputs.count).toBe('2')
  expect(JSON.parse(core.state.outputs.phases)).toEqual({ [pods.running]: 'Running', [pods.next]: 'Running' })
}

describe('the watch ends or breaks; the change made meanwhile is seen', () => {
  test('a clean close: re-watch from the last resourceVersion seen, without listing again', async () => {
    const pods = twoPods()
    const done = start()
    await podWatch()
    // Watches that lasted over a second are healthy: a close is re-watched at once.
    await new Promise((r) => setTimeout(r, 1_100))
    const rv = server.resourceVersion
    server.clearRequests()
    server.closeWatches()
    server.startPod(NS, pods.next) // no watch is open: only the re-watch can deliver it
    expectBothRunning(await done, pods)
    const made = podRequests()
    expect(describeRequests(made)[0]).toBe(`watch pods rv=${rv} -> 200`)
    expect(server.requestsMatching({ verb: 'list' })).toEqual([])
    // The Job's watch, closed too, also resumed where it was.
    expect(server.requestsMatching({ resource: 'jobs', watch: true })[0].query.resourceVersion).toBe(rv)
  })

  test('a watch that the server closes at once, again and again, is retried after a growing backoff, not in a hot loop', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0)
    const pods = twoPods()
    const done = start()
    await podWatch()
    server.clearRequests()
    // As client-go: a watch that ended within a second without an event is a fault.
    const closer = setInterval(() => server.closeWatches(), 5)
    await new Promise((r) => setTimeout(r, 3_000))
    clearInterval(closer)
    const watches = server.requestsMatching({ resource: 'pods', watch: true }).length
    // 800 ms, 1.6 s, 3.2 s apart (no jitter): at most 3 re-watches in 3 s; a hot loop makes hundreds.
    expect(watches).toBeGreaterThanOrEqual(1)
    expect(watches).toBeLessThanOrEqual(3)
    server.startPod(NS, pods.next)
    expectBothRunning(await done, pods)
  })

  test('a connection reset mid-stream: back off, list again, watch from the new list', async () => {
    const pods = twoPods()
    const done = start()
    await podWatch()
    server.clearRequests()
    const reset = Date.now()
    server.resetWatches()
    server.startPod(NS, pods.next)
    expectBothRunning(await done, pods)
    const made = podRequests()
    expect(made[0]).toMatchObject({ verb: 'list', status: 200 })
    expect(made[0].time - reset).toBeGreaterThanOrEqual(FIRST_BACKOFF_MS - 20)
  })

  test('410 Gone as HTTP on the re-watch (compacted while closed): list again', async () => {
    const pods = twoPods()
    const done = start()
    await podWatch()
    server.clearRequests()
    server.closeWatches()
    server.startPod(NS, pods.next)
    server.compact() // the change is gone from history: the re-watch's version is too old
    expectBothRunning(await done, pods)
    const made = describeRequests(podRequests())
    expect(made[0]).toMatch(/^watch pods rv=\d+ -> 410$/)
    expect(made[1]).toBe('list pods -> 200')
  })

  test('410 as an ERROR event in an open watch (etcd compaction): list again at once', async () => {
    const pods = twoPods()
    const done = start()
    await podWatch()
    server.clearRequests()
    const expired = Date.now()
    server.expireWatches({ asEvent: true })
    server.startPod(NS, pods.next)
    expectBothRunning(await done, pods)
    const made = podRequests()
    expect(made[0]).toMatchObject({ verb: 'list', status: 200 })
    // "too old" is not an error: no backoff before the new list
    expect(made[0].time - expired).toBeLessThan(FIRST_BACKOFF_MS)
  })

  test('410 as HTTP 200 + ERROR event on the re-watch (a watch-cache answer): list again', async () => {
    const pods = twoPods()
    const done = start()
    await podWatch()
    server.setExpiredWatchMode('event')
    server.clearRequests()
    server.closeWatches()
    server.startPod(NS, pods.next)
    server.compact()
    expectBothRunning(await done, pods)
    const made = describeRequests(podRequests())
    expect(made[0]).toMatch(/^watch pods rv=\d+ -> 200$/)
    expect(made[1]).toBe('list pods -> 200')
  })

  test('the Job fails while the watch is down: failed after the reconnect', async () => {
    const job = server.createJob(NS, { metadata: { name: 'build' } })
    const pod = server.createPodForJob(job).metadata.name
    server.startPod(NS, pod)
    const done = start({ phase: 'Succeeded' })
    await podWatch()
    server.resetWatches()
    server.finishPod(NS, pod, { exitCode: 1 })
    server.updateJobStatus(NS, 'build', {
      active: 0,
      failed: 1,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
      ]
    })
    const o = await done
    expect(o.result).toBe('failed')
    expect(core.state.outputs.result).toBe('failed')
    expect(core.state.failed).toBe(
      `job ${NS}/build failed: BackoffLimitExceeded: Job has reached the specified backoff limit (${pod} Failed (Error, exit code 1))`
    )
    expect(JSON.parse(core.state.outputs.phases)).toEqual({ [pod]: 'Failed' })
  })

  test('the Job completes while its watch is closed: condition Complete is met from the re-watch', async () => {
    const job = server.createJob(NS, { metadata: { name: 'build' } })
    const pod = server.createPodForJob(job).metadata.name
    const done = start({ condition: 'Complete' })
    await server.waitForWatch({ resource: 'jobs' }, { timeoutMs: 10_000 })
    server.closeWatches()
    server.finishPod(NS, pod)
    server.finishJob(NS, 'build', { outcome: 'Complete' })
    const o = await done
    expect(o.result).toBe('met')
    expect(JSON.parse(core.state.outputs.job).conditions.map((c: { type: string }) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete'])
  })
})

describe('stalls and hangs: bounded by idleTimeoutMs and requestTimeoutMs', () => {
  const IDLE = 600
  const MARGIN = 400 // scheduling, and the re-watch request reaching the server

  test('a stalled watch (open, silent) is abandoned idleTimeoutMs after the last byte; the change made during the stall is seen', async () => {
    const pods = twoPods()
    const done = start({}, { idleTimeoutMs: IDLE })
    const first = await podWatch()
    // A bookmark is the last byte the client gets; then the connection freezes.
    server.bookmark()
    const frozen = Date.now()
    const rvAtFreeze = server.resourceVersion
    server.stallWatches({ existing: true, future: false })
    server.startPod(NS, pods.next) // not sent: the watch is frozen
    const again = await server.waitForRequest((r) => r.resource === 'pods' && r.watch && r.id > first.id, { timeoutMs: 5_000 })
    const noticedAfter = again.time - frozen
    expect(noticedAfter).toBeGreaterThanOrEqual(IDLE - 50)
    expect(noticedAfter).toBeLessThanOrEqual(IDLE + MARGIN)
    // The re-watch resumes from the bookmark's version: nothing is listed again, the frozen change is replayed.
    expect(again.query.resourceVersion).toBe(rvAtFreeze)
    expectBothRunning(await done, pods)
    expect(server.requestsMatching({ resource: 'pods', verb: 'list' })).toHaveLength(1)
    // Stalls are routine: not shown as info, only in debug.
    expect(core.state.log.filter((l) => l.level !== 'debug' && /no data for/.test(l.message))).toEqual([])
  })

  test('a watch that sends its headers and then nothing is abandoned within idleTimeoutMs', async () => {
    const pods = twoPods()
    const done = start({}, { idleTimeoutMs: IDLE })
    const first = await podWatch()
    const release = server.stallWatches({ existing: false, future: true })
    server.closeWatches()
    server.startPod(NS, pods.next)
    const stalled = await server.waitForRequest((r) => r.resource === 'pods' && r.watch && r.id > first.id && r.status === 200, {
      timeoutMs: 5_000
    })
    expect(stalled.fault).toBe('stall')
    release()
    const after = await server.waitForRequest((r) => r.resource === 'pods' && r.watch && r.id > stalled.id, { timeoutMs: 5_000 })
    expect(after.time - stalled.time).toBeLessThanOrEqual(IDLE + MARGIN)
    expect(after.time - stalled.time).toBeGreaterThanOrEqual(IDLE - 50)
    expectBothRunning(await done, pods)
  })

  test('a watch request accepted and never answered (no headers) is abandoned within idleTimeoutMs', async () => {
    const pods = twoPods()
    const done = start({}, { idleTimeoutMs: IDLE })
    const first = await podWatch()
    server.hang({ resource: 'pods', watch: true }, { times: 1 })
    server.closeWatches()
    server.startPod(NS, pods.next)
    const hung = await server.waitForRequest((r) => r.resource === 'pods' && r.watch && r.id > first.id, { timeoutMs: 5_000 })
    expect(hung.fault).toBe('hang')
    const after = await server.waitForRequest((r) => r.resource === 'pods' && r.watch && r.id > hung.id, { timeoutMs: 5_000 })
    expect(after.time - hung.time).toBeLessThanOrEqual(IDLE + MARGIN)
    expect(after.time - hung.time).toBeGreaterThanOrEqual(IDLE - 50)
    expect(after.query.resourceVersion).toBe(hung.query.resourceVersion)
    expectBothRunning(await done, pods)
  })

  test('a LIST accepted and never answered times out after requestTimeoutMs, then one backoff step', async () => {
    const pods = twoPods()
    const REQUEST_TIMEOUT = 500
    server.hang({ resource: 'pods', verb: 'list' }, { times: 1 })
    const done = start({}, { requestTimeoutMs: REQUEST_TIMEOUT })
    const hung = await server.waitForRequest({ resource: 'pods', verb: 'list' }, { timeoutMs: 5_000 })
    server.startPod(NS, pods.next) // during the hang: the next list has it
    const after = await server.waitForRequest({ resource: 'pods', verb: 'list' }, { count: 2, timeoutMs: 5_000 })
    const gap = after.time - hung.time
    expect(gap).toBeGreaterThanOrEqual(REQUEST_TIMEOUT + FIRST_BACKOFF_MS - 50)
    expect(gap).toBeLessThanOrEqual(REQUEST_TIMEOUT + FIRST_BACKOFF_MS + MARGIN)
    expectBothRunning(await done, pods)
  })

  test('bookmarks alone keep a quiet watch alive; a re-watch resumes from the last bookmark', async () => {
    const pods = twoPods()
    server.setBookmarkInterval(100)
    const done = start({}, { idleTimeoutMs: 400 })
    const first = await podWatch()
    // Changes the Job's pods do not see still move the resourceVersion on; bookmarks carry it.
    server.createPod(NS, { metadata: { name: 'unrelated' } })
    await new Promise((r) => setTimeout(r, 1_000)) // 2.5 × idleTimeoutMs of nothing but bookmarks
    expect(server.requestsMatching((r) => r.resource === 'pods' && r.id > first.id)).toEqual([])
    const rv = server.resourceVersion
    server.setBookmarkInterval(null)
    server.bookmark()
    server.closeWatches()
    server.startPod(NS, pods.next)
    const again = await server.waitForRequest((r) => r.resource === 'pods' && r.watch && r.id > first.id, { timeoutMs: 5_000 })
    expect(again.query.resourceVersion).toBe(rv)
    expectBothRunning(await done, pods)
    expect(server.requestsMatching({ resource: 'pods', verb: 'list' })).toHaveLength(1)
  })
})

describe('the API server is overloaded or failing', () => {
  test('429 with Retry-After on the pod LIST: the retry waits at least Retry-After (longer than the backoff)', async () => {
    const pods = twoPods()
    server.nextResponses({ resource: 'pods', verb: 'list' }, [{ status: 429, retryAfter: 1 }])
    const done = start()
    const refused = await server.waitForRequest({ resource: 'pods', verb: 'list', status: 429 }, { timeoutMs: 5_000 })
    server.startPod(NS, pods.next)
    const after = await server.waitForRequest({ resource: 'pods', verb: 'list', status: 200 }, { timeoutMs: 5_000 })
    expect(after.time - refused.time).toBeGreaterThanOrEqual(1_000)
    expectBothRunning(await done, pods)
  })

  test('429 with Retry-After on the re-watch: wait Retry-After, list again, the change is seen', async () => {
    const pods = twoPods()
    const done = start()
    const first = await podWatch()
    server.nextResponses({ resource: 'pods', watch: true }, [{ status: 429, retryAfter: 1 }])
    server.closeWatches()
    server.startPod(NS, pods.next)
    const refused = await server.waitForRequest({ resource: 'pods', watch: true, status: 429 }, { timeoutMs: 5_000 })
    const after = await server.waitForRequest((r) => r.resource === 'pods' && r.id > refused.id, { timeoutMs: 5_000 })
    expect(after).toMatchObject({ verb: 'list' })
    expect(after.time - refused.time).toBeGreaterThanOrEqual(1_000)
    expect(refused.id).toBeGreaterThan(first.id)
    expectBothRunning(await done, pods)
  })

  test.each([500, 503, 504])('%i on the pod LIST: retried after the backoff, the change is seen', async (status) => {
    const pods = twoPods()
    server.nextResponses({ resource: 'pods', verb: 'list' }, [{ status }])
    const done = start()
    const refused = await server.waitForRequest({ resource: 'pods', verb: 'list', status }, { timeoutMs: 5_000 })
    server.startPod(NS, pods.next)
    const after = await server.waitForRequest({ resource: 'pods', verb: 'list', status: 200 }, { timeoutMs: 5_000 })
    expect(after.time - refused.time).toBeGreaterThanOrEqual(FIRST_BACKOFF_MS - 20)
    expectBothRunning(await done, pods)
    // The user hears of the fault once (info), not as an error.
    expect(core.state.log.filter((l) => l.level === 'info' && l.message.startsWith('list pods: ')).length).toBe(1)
  })

  test.each([500, 503, 504])('%i on the re-watch: list again after the backoff, the change is seen', async (status) => {
    const pods = twoPods()
    const done = start()
    await podWatch()
    server.nextResponses({ resource: 'pods', watch: true }, [{ status }])
    server.clearRequests()
    server.closeWatches()
    server.startPod(NS, pods.next)
    expectBothRunning(await done, pods)
    const made = podRequests()
    expect(describeRequests(made).slice(0, 2)).toEqual([
      expect.stringMatching(new RegExp(`^watch pods rv=\\d+ -> ${status}$`)),
      'list pods -> 200'
    ])
    // no spinning: the new list waits for the backoff
    expect(made[1].time - made[0].time).toBeGreaterThanOrEqual(FIRST_BACKOFF_MS - 20)
  })
})

// Found by this file and fixed in src (2a3c725); kept as regression tests.
describe('the report after a fault is true to the cluster', () => {
  // The Job and its pods come from two watches. A Job that has already failed
  // when the wait starts (common: the step runs after a fast failure) was
  // decided from the Job list alone, before the pods were listed: no pod, no
  // reason, no log.
  test('a Job that has already failed when the wait starts: its failed pod, reason and log are reported', async () => {
    const job = server.createJob(NS, { metadata: { name: 'build' } })
    const pod = server.createPodForJob(job).metadata.name
    server.startPod(NS, pod)
    server.finishPod(NS, pod, { exitCode: 3 })
    server.setLog(NS, pod, 'main', 'error: config file missing\n')
    server.updateJobStatus(NS, 'build', {
      active: 0,
      failed: 1,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
      ]
    })
    const o = await start({ phase: 'Succeeded' })
    expect(o.result).toBe('failed')
    expect(JSON.parse(core.state.outputs.phases)).toEqual({ [pod]: 'Failed' })
    expect(core.state.failed).toBe(
      `job ${NS}/build failed: BackoffLimitExceeded: Job has reached the specified backoff limit (${pod} Failed (Error, exit code 3))`
    )
    expect(core.state.summary).toContain('error: config file missing')
  })

  // When the Job's failure arrived before the pod's (here: after a reconnect
  // the pods' re-list hangs), the report showed the pod as last seen
  // (Running) and lacked its reason.
  test("a Job failure seen before its pod's (the pods' re-list hangs): the pod is reported as it is, Failed with its reason", async () => {
    const job = server.createJob(NS, { metadata: { name: 'build' } })
    const pod = server.createPodForJob(job).metadata.name
    server.startPod(NS, pod)
    const done = start({ phase: 'Succeeded' })
    await podWatch()
    server.hang({ resource: 'pods', verb: 'list' }, { times: 1 })
    server.clearRequests()
    server.resetWatches()
    // The pods' re-list is sent (and hangs) before the Job fails: the report's own LIST must bring the truth.
    await server.waitForRequest({ resource: 'pods', verb: 'list' }, { timeoutMs: 10_000 })
    server.finishPod(NS, pod, { exitCode: 1 })
    server.updateJobStatus(NS, 'build', {
      active: 0,
      failed: 1,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
      ]
    })
    const o = await done
    expect(o.result).toBe('failed')
    expect(JSON.parse(core.state.outputs.phases)).toEqual({ [pod]: 'Failed' })
    expect(core.state.failed).toBe(
      `job ${NS}/build failed: BackoffLimitExceeded: Job has reached the specified backoff limit (${pod} Failed (Error, exit code 1))`
    )
  })

  // Every request failed with a retryable error: the timeout said "no answer
  // from the API server", though it answered every time.
  test('a server that answers 503 to every request: the timeout names the last error, not "no answer"', async () => {
    server.createJob(NS, { metadata: { name: 'build' } })
    server.nextResponses(
      { resource: 'jobs' },
      Array.from({ length: 50 }, () => ({ status: 503 }))
    )
    const o = await start({ timeout: '1s' })
    expect(o.result).toBe('timeout')
    expect(core.state.failed).toBe(
      'timed out: the API server kept failing for 1.0s: list jobs: the server is currently unable to handle the request'
    )
  })

  // unreachableGraceMs was checked only when a retry failed: with the backoff
  // (800 ms, 1.6 s, 3.2 s, 6.4 s, 12.8 s, jitter up to ×2) the default 10 s
  // grace ended at 12 s to 22.8 s. Here, grace 1 s and jitter 0: the retries
  // fail at 0, 0.8 s, 2.4 s; the error must come at 1 s.
  test('an unreachable server is reported at unreachableGraceMs, not a backoff step later', async () => {
    const port = await closedPort()
    core.reset({
      job: 'build',
      namespace: NS,
      timeout: '20s',
      kubeconfig: server.kubeconfig().replace(server.url, `http://127.0.0.1:${port}`)
    })
    const o = await run({ ...TIMING, unreachableGraceMs: 1_000 })
    expect(o.result).toBe('error')
    expect(o.message).toBe(`list jobs: cannot reach the API server http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`)
    expect(o.elapsedMs).toBeGreaterThanOrEqual(1_000)
    expect(o.elapsedMs).toBeLessThan(1_000 + 300)
  })
})

describe('a bug of ours is reported as a bug, with outputs and summary', () => {
  test('a throw while handling a watch event ends the wait with result=error naming a bug, not a network fault', async () => {
    const pods = twoPods()
    const done = start()
    await podWatch()
    // An event whose object is null makes the pod conversion throw: a bug of ours, not the network's.
    expect(server.injectEvent({ resource: 'pods' }, 'MODIFIED', null)).toBe(1)
    const o = await done
    expect(o.result).toBe('error')
    expect(o.message).toMatch(/^kube-job-wait failed unexpectedly \(a bug: please report it\): Cannot read properties of null/)
    expect(o.message).not.toMatch(/connection|request to/)
    expect(core.state.outputs.result).toBe('error')
    expect(core.state.outputs.phases).toBeDefined()
    void pods
  })

  test('an uncaught exception anywhere still ends in result=error with outputs and the summary written', async () => {
    const pods = twoPods()
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    core.setOutput.mockClear()
    const done = start()
    await podWatch()
    ;(process.emit as (event: string, err: Error) => boolean)('uncaughtException', new Error('boom from a timer'))
    await new Promise((r) => setTimeout(r, 200))
    expect(exit).toHaveBeenCalledWith(1)
    expect(core.state.outputs.result).toBe('error')
    expect(core.state.outputs.message).toBe('kube-job-wait failed unexpectedly (a bug: please report it): boom from a timer')
    expect(core.state.summary).toContain('error')
    // the wait itself goes on in the test (process.exit is mocked): it reaches its own end, met,
    // and finds the report written: one result, the crash's, and one summary
    server.startPod(NS, pods.next)
    const o = await done
    expect(o.result).toBe('error')
    expect(core.setOutput.mock.calls.filter(([name]) => name === 'result')).toEqual([['result', 'error']])
    expect(core.state.summary.match(/kube-job-wait failed unexpectedly/g)).toHaveLength(1)
    expect(core.state.summary).not.toMatch(/\bmet\b/)
    expect(exit.mock.calls).toEqual([[1]])
  })

  test('an uncaught exception after the report began (during the clean-up): the report stands, one result, the exit code is its own', async () => {
    const pods = twoPods()
    for (const pod of [pods.running, pods.next]) server.finishPod(NS, pod)
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never)
    // the DELETE is answered late: the crash comes while the clean-up waits for it
    const jobDelete = (r: RequestRecord) => r.method === 'DELETE' && r.path.startsWith('/apis/batch/v1/')
    server.nextResponses(jobDelete, [{ status: 200, body: { kind: 'Status', status: 'Success' }, delayMs: 500 }])
    core.setOutput.mockClear()
    const done = start({ phase: 'Succeeded', delete: 'always' })
    await server.waitForRequest(jobDelete, { timeoutMs: 10_000 })
    ;(process.emit as (event: string, err: Error) => boolean)('uncaughtException', new Error('boom during the clean-up'))
    const o = await done
    expect(o.result).toBe('met')
    expect(core.setOutput.mock.calls.filter(([name]) => name === 'result')).toEqual([['result', 'met']])
    expect(core.state.summary).not.toContain('boom during the clean-up')
    // the step ends with the exit code the report set, not 1
    expect(exit.mock.calls).toEqual([[undefined]])
  })
})
