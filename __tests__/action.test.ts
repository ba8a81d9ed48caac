// The action in-process against a Kubernetes-shaped HTTP server, through the
// real @kubernetes/client-node. Only @actions/core is replaced, to read what
// the action says.
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'

jest.unstable_mockModule('@actions/core', () => core)
const { run } = await import('../src/main.js')
const { jobNameLabel, serverRelease } = await import('../src/observe/sources.js')

const TIMING = { requestTimeoutMs: 5_000, idleTimeoutMs: 3_000, unreachableGraceMs: 1_000, tickMs: 100, heartbeatMs: 60_000 }
const NS = 'ci'
let server: FakeApiServer

beforeEach(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
})
afterEach(async () => {
  await server.stop()
})

function inputs(extra: Record<string, string> = {}, user = 'admin'): Record<string, string> {
  return {
    job: 'build',
    namespace: NS,
    kubeconfig: server.kubeconfig(user),
    timeout: '20s',
    'pod-error-grace': '60s',
    match: 'at-least',
    mode: 'watch',
    'poll-interval': '2s',
    ...extra
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function start(extra: Record<string, string> = {}, user = 'admin') {
  core.reset(inputs(extra, user))
  return run(TIMING)
}
const lines = (level?: string) => core.state.log.filter((l) => !level || l.level === level).map((l) => l.message)
const waitForWatch = (resource: 'jobs' | 'pods') => server.waitForRequest({ resource, watch: true }, { timeoutMs: 5000 })
/** The first line that matches, once the action has written it: a positive event to wait for, not a fixed sleep. */
async function waitForLine(pattern: RegExp, timeoutMs = 5_000): Promise<string> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(20)) {
    const found = lines().find((l) => pattern.test(l))
    if (found !== undefined) return found
  }
  throw new Error(`no line matched ${pattern} in ${timeoutMs} ms; lines: ${JSON.stringify(lines())}`)
}

function jobWithPods(n: number, spec: KubeObject = {}): { job: KubeObject; pods: KubeObject[] } {
  const job = server.createJob(NS, { metadata: { name: 'build' }, spec: { parallelism: n, completions: n, ...spec } })
  const pods = Array.from({ length: n }, () => server.createPodForJob(job))
  return { job, pods }
}

describe('waiting for pods to run', () => {
  test('met when every pod of the Job runs; outputs on the way out', async () => {
    const { pods } = jobWithPods(2)
    const done = start()
    await waitForWatch('pods')
    server.startPod(NS, pods[0].metadata.name)
    await sleep(100)
    server.startPod(NS, pods[1].metadata.name)
    const o = await done
    expect(o.result).toBe('met')
    expect(core.state.outputs.result).toBe('met')
    expect(core.state.outputs.count).toBe('2')
    expect(JSON.parse(core.state.outputs.phases)).toEqual({ [pods[0].metadata.name]: 'Running', [pods[1].metadata.name]: 'Running' })
    expect(JSON.parse(core.state.outputs.job)).toMatchObject({ name: 'build', namespace: NS })
    expect(core.state.failed).toBeUndefined()
    expect(lines('notice')).toEqual(['2 of 2 pods Running'])
    expect(core.state.summary).toContain('## ✅ job `ci/build`: met')
  })

  test('fast pods that go Pending → Succeeded without being seen Running still count', async () => {
    const { pods } = jobWithPods(1)
    const done = start()
    await waitForWatch('pods')
    server.finishPod(NS, pods[0].metadata.name, { exitCode: 0 })
    expect((await done).result).toBe('met')
  })

  test('a Job created after the action starts is waited for', async () => {
    const done = start()
    await waitForLine(/job ci\/build not found yet/)
    const { pods } = jobWithPods(1)
    await waitForWatch('pods')
    server.startPod(NS, pods[0].metadata.name)
    expect((await done).result).toBe('met')
  })

  test('pods of an earlier Job of the same name never count; the new Job is followed', async () => {
    const old = jobWithPods(1)
    server.startPod(NS, old.pods[0].metadata.name)
    // delete + re-apply, as CI does; the old pod is still Running (orphaned)
    server.deleteJob(NS, 'build', { propagationPolicy: 'Orphan' })
    const fresh = jobWithPods(1)
    const done = start()
    // The pods were listed and judged: the old Running pod is not counted, the fresh one is waited for.
    await waitForLine(new RegExp(`0 of 1 pod Running.*${fresh.pods[0].metadata.name}`))
    expect(core.state.outputs.result).toBeUndefined()
    server.startPod(NS, fresh.pods[0].metadata.name)
    const o = await done
    expect(o.result).toBe('met')
    expect(Object.keys(JSON.parse(core.state.outputs.phases))).toEqual([fresh.pods[0].metadata.name])
  })

  test('a Job deleted and created again while waiting: follow the new uid and say so', async () => {
    const first = jobWithPods(1)
    const done = start()
    await waitForWatch('pods')
    server.deleteJob(NS, 'build', { propagationPolicy: 'Orphan' })
    await sleep(100)
    const second = jobWithPods(1)
    await waitForLine(/was created again/)
    server.startPod(NS, first.pods[0].metadata.name)
    // A change made after the old pod started, seen: whatever the old pod's start did has been judged.
    server.setPodWaiting(NS, second.pods[0].metadata.name, 'ContainerCreating')
    await waitForLine(new RegExp(`0 of 1 pod Running.*${second.pods[0].metadata.name}.*ContainerCreating`))
    expect(core.state.outputs.result).toBeUndefined()
    server.startPod(NS, second.pods[0].metadata.name)
    expect((await done).result).toBe('met')
    expect(lines('info').some((l) => /was created again \(uid .* → .*\); following the new one/.test(l))).toBe(true)
    expect(JSON.parse(core.state.outputs.job).uid).toBe(second.job.metadata.uid)
  })
})

describe('fail fast and finish', () => {
  test('the Job fails: the wait ends at once with the reason, long before the timeout', async () => {
    const { pods } = jobWithPods(1)
    const done = start({ phase: 'Succeeded', timeout: '10m' })
    await waitForWatch('pods')
    server.finishPod(NS, pods[0].metadata.name, { exitCode: 3 })
    server.updateJobStatus(NS, 'build', {
      failed: 1,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
      ]
    })
    const o = await done
    expect(o.result).toBe('failed')
    expect(o.elapsedMs).toBeLessThan(3000)
    expect(core.state.failed).toBe(
      `job ci/build failed: BackoffLimitExceeded: Job has reached the specified backoff limit (${pods[0].metadata.name} Failed (Error, exit code 3))`
    )
    expect(core.state.outputs.result).toBe('failed')
  })

  test('condition Finished on a failed Job fails the step; Complete is met', async () => {
    jobWithPods(1)
    const done = start({ condition: 'Finished' })
    await waitForWatch('jobs')
    server.updateJobStatus(NS, 'build', {
      conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }]
    })
    expect((await done).result).toBe('failed')
    expect(core.state.failed).toBe('job ci/build failed: DeadlineExceeded: Job was active longer than specified deadline')
  })

  test('a Job deleted by ttlSecondsAfterFinished right after finishing: the verdict comes from the DELETED event', async () => {
    const { pods } = jobWithPods(1)
    const done = start({ condition: 'Complete' })
    await waitForWatch('pods')
    server.finishPod(NS, pods[0].metadata.name)
    server.updateJobStatus(NS, 'build', {
      succeeded: 1,
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True' },
        { type: 'Complete', status: 'True' }
      ]
    })
    server.deleteJob(NS, 'build')
    const o = await done
    expect(o.result).toBe('met')
  })

  test('poll mode: a Job deleted by TTL between two polls is judged by its events', async () => {
    const { job, pods } = jobWithPods(1)
    const done = start({ mode: 'poll', 'poll-interval': '500ms', condition: 'Complete' })
    await server.waitForRequest({ resource: 'pods', verb: 'list' }, { timeoutMs: 5000 })
    server.finishPod(NS, pods[0].metadata.name)
    server.addEvent(job, { reason: 'Completed', message: 'Job completed', type: 'Normal' })
    server.deleteJob(NS, 'build')
    const o = await done
    expect(o.result).toBe('met')
    expect(lines('info').some((l) => l.includes('was deleted before its end was seen; its events say: Complete'))).toBe(true)
    // What was inferred is said as such, apart from the conditions the API server wrote.
    const jobOut = JSON.parse(core.state.outputs.job)
    expect(jobOut.deleted).toBe(true)
    expect(jobOut.conditions.map((c: { type: string }) => c.type)).not.toContain('Complete')
    expect(jobOut.inferred).toEqual({ type: 'Complete', reason: 'Completed', message: expect.any(String), source: 'events' })
  })

  test('a timeout says what was still missing', async () => {
    const { pods } = jobWithPods(2)
    server.startPod(NS, pods[0].metadata.name)
    server.setPodWaiting(NS, pods[1].metadata.name, 'ImagePullBackOff', 'Back-off pulling image "registry/x:tag"')
    const o = await start({ timeout: '1s' })
    expect(o.result).toBe('timeout')
    expect(core.state.failed).toBe(`timed out: 1 of 2 pods Running after 1.0s: ${pods[1].metadata.name} Pending (ImagePullBackOff)`)
    expect(core.state.outputs.result).toBe('timeout')
    expect(core.state.outputs.count).toBe('1')
  })
})

describe('errors the user can act on', () => {
  test('a namespace that does not exist is an error at once', async () => {
    const o = await start({ namespace: 'nope' })
    expect(o.result).toBe('error')
    expect(core.state.failed).toBe(`namespace "nope" not found: check the 'namespace' input or the kubeconfig context's namespace`)
  })

  test('no rights: the message names the verb and the resource', async () => {
    server.addUser('nobody', [])
    const o = await start({}, 'nobody')
    expect(o.result).toBe('error')
    expect(core.state.failed).toBe(
      'list jobs: jobs.batch "build" is forbidden: User "nobody" cannot list resource "jobs" in API group "batch" in the namespace "ci"'
    )
    expect(core.everythingShown()).not.toContain(server.tokenFor('nobody'))
  })

  test('wrong token: 401 in plain words', async () => {
    core.reset({ ...inputs(), kubeconfig: server.kubeconfig('admin', { token: 'bogus-token-123' }) })
    const o = await run(TIMING)
    expect(o.result).toBe('error')
    expect(core.state.failed).toMatch(/^list jobs: the API server rejected the credentials \(401 Unauthorized\)/)
    expect(core.state.secrets).toContain('bogus-token-123')
  })

  test('credentials that may not watch: fall back to polling, and say so once', async () => {
    server.addUser('nowatch', ['get,list jobs', 'get,list pods'])
    const { pods } = jobWithPods(1)
    const done = start({ 'poll-interval': '200ms' }, 'nowatch')
    await server.waitForRequest({ resource: 'pods', verb: 'list', user: 'nowatch' }, { timeoutMs: 5000 })
    server.startPod(NS, pods[0].metadata.name)
    const o = await done
    expect(o.result).toBe('met')
    expect(o.mode).toBe('poll')
    const warnings = lines('warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toBe(
      'watch jobs: jobs.batch "build" is forbidden: User "nowatch" cannot watch resource "jobs" in API group "batch" in the namespace "ci"; polling every 0.2s instead of watching'
    )
  })
})

describe('watching correctly', () => {
  test('a wait costs four requests (list + watch of the Job and of its pods), however long', async () => {
    const { pods } = jobWithPods(1)
    server.clearRequests()
    const done = start()
    await waitForWatch('pods')
    await sleep(1500)
    server.startPod(NS, pods[0].metadata.name)
    expect((await done).result).toBe('met')
    const made = server.requests.map((r) => `${r.verb} ${r.resource}`)
    expect(made.sort()).toEqual(['list jobs', 'list pods', 'watch jobs', 'watch pods'])
    const watch = server.requests.find((r) => r.watch && r.resource === 'pods')!
    expect(watch.query.allowWatchBookmarks).toBe('true')
    expect(watch.query.labelSelector).toBe(
      `batch.kubernetes.io/controller-uid=${pods[0].metadata.labels['batch.kubernetes.io/controller-uid']}`
    )
    expect(watch.query.timeoutSeconds).toBeUndefined()
  })

  test('410 Gone: list again, and the change made while the watch was down is seen', async () => {
    const { pods } = jobWithPods(1)
    const done = start()
    await waitForWatch('pods')
    server.clearRequests()
    server.compact()
    server.expireWatches({ asEvent: true })
    server.startPod(NS, pods[0].metadata.name)
    expect((await done).result).toBe('met')
  })

  test('a clean close re-watches from the last resourceVersion, without listing again', async () => {
    const { pods } = jobWithPods(1)
    const done = start()
    await waitForWatch('pods')
    const rv = server.resourceVersion
    server.clearRequests()
    server.closeWatches()
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    server.startPod(NS, pods[0].metadata.name)
    expect((await done).result).toBe('met')
    const again = server.requests.filter((r) => r.resource === 'pods')
    expect(again[0]).toMatchObject({ verb: 'watch', query: expect.objectContaining({ resourceVersion: rv }) })
    expect(server.requests.some((r) => r.verb === 'list')).toBe(false)
  })

  test('429 with Retry-After is honoured', async () => {
    jobWithPods(1)
    server.nextResponses({ resource: 'jobs', verb: 'list' }, [{ status: 429, retryAfter: 1 }])
    const done = start({ condition: 'Complete' })
    await server.waitForRequest({ resource: 'jobs', verb: 'list', status: 200 }, { timeoutMs: 5000 })
    const tries = server.requestsMatching({ resource: 'jobs', verb: 'list' })
    expect(tries[1].time - tries[0].time).toBeGreaterThanOrEqual(950)
    server.updateJobStatus(NS, 'build', { conditions: [{ type: 'Complete', status: 'True' }] })
    expect((await done).result).toBe('met')
  })

  test('a stalled watch (open, silent) is noticed and re-established', async () => {
    const { pods } = jobWithPods(1)
    const release = server.stallWatches({ existing: true })
    const done = start()
    await waitForWatch('pods')
    release()
    server.startPod(NS, pods[0].metadata.name)
    const o = await done
    expect(o.result).toBe('met')
  })

  test('poll mode: GET the Job and LIST its pods every interval', async () => {
    const { pods } = jobWithPods(1)
    server.clearRequests()
    const done = start({ mode: 'poll', 'poll-interval': '300ms' })
    await sleep(1000)
    server.startPod(NS, pods[0].metadata.name)
    const o = await done
    expect(o.result).toBe('met')
    expect(server.requests.every((r) => !r.watch)).toBe(true)
    expect(server.requestsMatching({ resource: 'jobs', verb: 'get' }).length).toBeGreaterThanOrEqual(3)
  })
})

describe('older clusters: Job pods labelled as before 1.27', () => {
  /** A server that says it is 1.26 and labels a Job's pods as 1.26 did: job-name and controller-uid only. */
  async function olderServer(): Promise<void> {
    await server.stop()
    server = new FakeApiServer({ namespaces: ['default', NS], version: { major: '1', minor: '26', gitVersion: 'v1.26.15' } })
    await server.start()
  }
  const makeJob = (name: string, labels: Record<string, string> = {}) => {
    const job = server.createJob(NS, { metadata: { name, labels } })
    return { job, pod: server.createPodForJob(job) }
  }

  test('the fake server as 1.26: no batch.kubernetes.io/ labels on the pods, spec.selector on controller-uid', async () => {
    await olderServer()
    const { job, pod } = makeJob('a')
    expect(Object.keys(pod.metadata.labels).sort()).toEqual(['controller-uid', 'job-name'])
    expect(job.spec.selector.matchLabels).toEqual({ 'controller-uid': job.metadata.uid })
  })

  test('a selector on 1.26: the pods are watched by job-name (read from GET /version, once) and the wait is met', async () => {
    await olderServer()
    const a = makeJob('a', { suite: 'x' })
    const b = makeJob('b', { suite: 'x' })
    server.clearRequests()
    const done = start({ job: '', selector: 'suite=x', 'expected-jobs': '2' })
    const watch = await waitForWatch('pods')
    expect(watch.query.labelSelector).toBe('job-name')
    for (const { pod } of [a, b]) server.startPod(NS, pod.metadata.name)
    const o = await done
    expect(o.result).toBe('met')
    expect(JSON.parse(core.state.outputs.phases)).toEqual({ [a.pod.metadata.name]: 'Running', [b.pod.metadata.name]: 'Running' })
    expect(server.requestsMatching({ resource: 'version' })).toHaveLength(1)
  })

  test('Jobs by name on 1.26 and in poll mode: the pods are listed by job-name in (…)', async () => {
    await olderServer()
    const a = makeJob('a')
    const b = makeJob('b')
    for (const { pod } of [a, b]) server.startPod(NS, pod.metadata.name)
    server.clearRequests()
    const o = await start({ job: 'a\nb', mode: 'poll', 'poll-interval': '300ms' })
    expect(o.result).toBe('met')
    expect(server.requestsMatching({ resource: 'pods', verb: 'list' })[0].query.labelSelector).toBe('job-name in (a,b)')
  })

  test('a selector on a current server: the batch.kubernetes.io/job-name label', async () => {
    const a = makeJob('a', { suite: 'x' })
    const done = start({ job: '', selector: 'suite=x' })
    expect((await waitForWatch('pods')).query.labelSelector).toBe('batch.kubernetes.io/job-name')
    server.startPod(NS, a.pod.metadata.name)
    expect((await done).result).toBe('met')
  })

  test('the release from GET /version, as clouds write it; the label for each', () => {
    expect(serverRelease({ gitVersion: 'v1.26.3-eks-a5565ad', major: '1', minor: '26+' })).toEqual({ major: 1, minor: 26 })
    expect(serverRelease({ major: '1', minor: '27+' })).toEqual({ major: 1, minor: 27 })
    expect(serverRelease({})).toBeUndefined()
    expect(jobNameLabel({ major: 1, minor: 26 })).toBe('job-name')
    expect(jobNameLabel({ major: 1, minor: 27 })).toBe('batch.kubernetes.io/job-name')
    expect(jobNameLabel({ major: 2, minor: 0 })).toBe('batch.kubernetes.io/job-name')
    // a server that does not say: the label every release sets
    expect(jobNameLabel(undefined)).toBe('job-name')
  })
})

describe('secrets', () => {
  test('the token is masked and shown nowhere', async () => {
    const { pods } = jobWithPods(1)
    server.startPod(NS, pods[0].metadata.name)
    await start()
    expect(core.state.secrets).toContain(server.tokenFor('admin'))
    expect(core.everythingShown()).not.toContain(server.tokenFor('admin'))
  })
})

describe('diagnosis: which pod, why, and what it printed', () => {
  test('a pod that exits 3 shows exit code 3, its log tail and the Warning events', async () => {
    const { job, pods } = jobWithPods(1)
    const name = pods[0].metadata.name
    server.setLog(NS, name, 'main', Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n') + '\n')
    server.addEvent(server.getPod(NS, name)!, { reason: 'BackOff', message: 'Back-off restarting failed container', type: 'Warning' })
    server.addEvent(server.getPod(NS, name)!, { reason: 'Pulled', message: 'Successfully pulled image', type: 'Normal' })
    server.addEvent(job, { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', type: 'Warning' })
    const done = start({ condition: 'Complete', 'log-lines': '5' })
    await waitForWatch('pods')
    server.startPod(NS, name)
    server.finishPod(NS, name, { exitCode: 3 })
    server.updateJobStatus(NS, 'build', {
      failed: 1,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
      ]
    })
    const o = await done
    expect(o.result).toBe('failed')
    const log = server.requestsMatching({ resource: 'pods/log' })
    expect(log).toHaveLength(1)
    expect(log[0].query).toMatchObject({ container: 'main', tailLines: '5' })
    expect(o.diagnosis?.evidence[0].log?.lines).toEqual(['line 36', 'line 37', 'line 38', 'line 39', 'line 40'])
    const errors = core.state.log.filter((l) => l.level === 'error' && (l.props as { title?: string })?.title)
    expect(errors.map((e) => (e.props as { title: string }).title)).toEqual(['Error, exit code 3: container main (1 pod)'])
    expect(errors[0].message).toContain('line 40')
    expect(core.state.summary).toContain('**Error, exit code 3: container main (1 pod)**')
    expect(core.state.summary).toContain('- ⚠️ BackOff: Back-off restarting failed container')
    expect(core.state.summary).not.toContain('Successfully pulled')
    expect(core.state.summary).toContain('- ⚠️ BackoffLimitExceeded: Job has reached the specified backoff limit')
    expect(core.state.summary).toContain('line 40\n```')
  })

  test("a crash loop shows the restarts and the previous instance's log", async () => {
    const { pods } = jobWithPods(1)
    const name = pods[0].metadata.name
    server.setLog(NS, name, 'main', 'attempt 4: boom\n', { previous: true })
    server.startPod(NS, name)
    server.updatePodStatus(NS, name, {
      containerStatuses: [
        {
          name: 'main',
          image: 'busybox',
          imageID: '',
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' } },
          lastState: {
            terminated: {
              exitCode: 1,
              reason: 'Error',
              containerID: 'containerd://0123',
              finishedAt: new Date(Date.now() - 120_000).toISOString()
            }
          }
        }
      ]
    })
    const o = await start({ phase: 'Succeeded' })
    expect(o.result).toBe('failed')
    expect(core.state.failed).toMatch(/^pod .* stuck in CrashLoopBackOff for 2m/)
    expect(server.requestsMatching({ resource: 'pods/log' })[0].query).toMatchObject({ previous: 'true' })
    expect(core.state.summary).toContain('(previous instance, 1 lines)')
    expect(core.state.summary).toContain('attempt 4: boom')
    expect(lines('warning').some((l) => l.includes('(4)'))).toBe(true)
  })

  test('without pods/log and events permissions everything else is still reported, with what is missing', async () => {
    server.addUser('nolog', ['get,list,watch jobs', 'get,list,watch pods'])
    const { pods } = jobWithPods(1)
    server.setPodWaiting(NS, pods[0].metadata.name, 'ImagePullBackOff', 'Back-off pulling image "registry/x:tag"')
    const o = await start({ timeout: '1s' }, 'nolog')
    expect(o.result).toBe('timeout')
    expect(o.diagnosis?.notes).toEqual(['no permission to list events in namespace ci: events not shown (grant list on events)'])
    expect(core.state.summary).toContain('ImagePullBackOff: image')
    expect(core.state.summary).toContain('no permission to list events')
  })

  test('a pod stuck in ImagePullBackOff past the grace ends the wait with the image named', async () => {
    const { pods } = jobWithPods(1)
    const done = start({ 'pod-error-grace': '1s', timeout: '30s' })
    await waitForWatch('pods')
    server.setPodWaiting(NS, pods[0].metadata.name, 'ImagePullBackOff', 'Back-off pulling image "registry/x:tag"')
    const o = await done
    expect(o.result).toBe('failed')
    expect(o.elapsedMs).toBeLessThan(5000)
    expect(core.state.failed).toMatch(/stuck in ImagePullBackOff/)
    const titles = core.state.log
      .filter((l) => l.level === 'error' && (l.props as { title?: string })?.title)
      .map((l) => (l.props as { title: string }).title)
    expect(titles[0]).toMatch(/^ImagePullBackOff: image ".*" \(1 pod\)$/)
  })
})
