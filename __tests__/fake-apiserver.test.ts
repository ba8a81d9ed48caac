// Proves the fake API server against the real @kubernetes/client-node: the
// same calls a waiter makes (LIST, WATCH, GET, logs, events) and the failures
// it has to handle (401, 403, 404, 410, 429, closed/reset/stalled watches).

import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { ApiException, BatchV1Api, CoreV1Api, KubeConfig, VersionApi, Watch } from '@kubernetes/client-node'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'

const NS = 'ci'

function kubeConfig(server: FakeApiServer, user = 'admin', opts: { namespace?: string; token?: string } = {}): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromString(server.kubeconfig(user, opts))
  return kc
}

async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

interface Seen {
  type: string
  object: KubeObject
}

/** Starts a client-node Watch and collects what it delivers. */
async function startWatch(
  kc: KubeConfig,
  path: string,
  params: Record<string, string | number | boolean | undefined>,
  opts: { requestTimeoutMs?: number } = {}
): Promise<{ events: Seen[]; done: Promise<unknown>; isDone: () => boolean; controller: AbortController }> {
  const events: Seen[] = []
  let finished = false
  let resolveDone!: (v: unknown) => void
  const done = new Promise<unknown>((r) => (resolveDone = r))
  const w = new Watch(kc)
  // requestTimeoutMs is private in the typings but a plain field at run time.
  if (opts.requestTimeoutMs) Object.assign(w, { requestTimeoutMs: opts.requestTimeoutMs })
  const controller = await w.watch(
    path,
    params,
    (type, object) => events.push({ type, object }),
    (err) => {
      finished = true
      resolveDone(err)
    }
  )
  return { events, done, isDone: () => finished, controller }
}

function parseStatus(e: unknown): KubeObject {
  expect(e).toBeInstanceOf(ApiException)
  const body = (e as ApiException<unknown>).body
  expect(typeof body).toBe('string')
  return JSON.parse(body as string)
}

describe('fake apiserver with the real client-node', () => {
  const server = new FakeApiServer({
    users: {
      waiter: { allow: ['get,list,watch jobs', 'get,list,watch pods', 'get pods/log', 'list events', 'get namespaces'] },
      nowatch: { allow: ['get,list jobs', 'get,list pods', 'get pods/log', 'list events'] },
      jobsonly: { allow: ['get jobs'] }
    }
  })
  let kc: KubeConfig
  let batch: BatchV1Api
  let core: CoreV1Api

  beforeAll(async () => {
    await server.start()
    kc = kubeConfig(server, 'waiter', { namespace: NS })
    batch = kc.makeApiClient(BatchV1Api)
    core = kc.makeApiClient(CoreV1Api)
  })

  afterAll(async () => {
    await server.stop()
  })

  beforeEach(() => {
    server.clearFaults()
    server.setExpiredWatchMode('http')
  })

  it('serves /version and the kubeconfig context namespace', async () => {
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(NS)
    expect(kc.getCurrentCluster()?.server).toBe(server.url)
    const v = await kc.makeApiClient(VersionApi).getCode()
    expect(v.gitVersion).toMatch(/^v1\.\d+\.\d+$/)
    expect(v.major).toBe('1')
  })

  it('creates Jobs like the API server and lists them as a JobList', async () => {
    const job = server.createJob(NS, {
      metadata: { name: 'build' },
      spec: { template: { metadata: { labels: { app: 'build' } }, spec: { containers: [{ name: 'main', image: 'alpine:3' }] } } }
    })
    const uid: string = job.metadata.uid
    expect(job.spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } })
    expect(job.spec.template.metadata.labels).toEqual({
      app: 'build',
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'build',
      'controller-uid': uid,
      'job-name': 'build'
    })
    // The defaulter aliases the Job's labels to the template's map.
    expect(job.metadata.labels).toEqual(job.spec.template.metadata.labels)
    expect(job.spec).toMatchObject({ backoffLimit: 6, completions: 1, parallelism: 1, completionMode: 'NonIndexed', suspend: false })
    expect(job.metadata.generation).toBe(1)
    expect(job.status).toEqual({})

    const list = await batch.listNamespacedJob({ namespace: NS })
    expect(list.kind).toBe('JobList')
    expect(list.apiVersion).toBe('batch/v1')
    expect(list.metadata?.resourceVersion).toBe(server.resourceVersion)
    const got = list.items.find((j) => j.metadata?.name === 'build')
    expect(got?.metadata?.uid).toBe(uid)
    expect(got?.metadata?.creationTimestamp).toBeInstanceOf(Date)

    const read = await batch.readNamespacedJob({ namespace: NS, name: 'build' })
    expect(read.kind).toBe('Job')
    expect(read.metadata?.resourceVersion).toBe(job.metadata.resourceVersion)

    // A LIST in a namespace that does not exist is an empty 200 (kubernetes issue 75537).
    const empty = await batch.listNamespacedJob({ namespace: 'nowhere' })
    expect(empty.items).toEqual([])
  })

  it('selects pods by label and field selectors', async () => {
    const a = server.createJob(NS, { metadata: { name: 'sel-a' } })
    const b = server.createJob(NS, { metadata: { name: 'sel-b' } })
    const pa1 = server.createPodForJob(a)
    const pa2 = server.createPodForJob(a)
    const pb = server.createPodForJob(b)
    expect(pa1.metadata.name).toMatch(/^sel-a-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    expect(pa1.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'sel-a', uid: a.metadata.uid, controller: true, blockOwnerDeletion: true }
    ])
    expect(pa1.metadata.labels['batch.kubernetes.io/controller-uid']).toBe(a.metadata.uid)
    expect(pa1.status.phase).toBe('Pending')

    const names = async (params: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
      (await core.listNamespacedPod({ namespace: NS, ...params })).items.map((p) => p.metadata!.name!).sort()

    expect(await names({ labelSelector: `batch.kubernetes.io/controller-uid=${a.metadata.uid}` })).toEqual(
      [pa1.metadata.name, pa2.metadata.name].sort()
    )
    expect(await names({ labelSelector: `job-name==sel-b,controller-uid=${b.metadata.uid}` })).toEqual([pb.metadata.name])
    expect(await names({ labelSelector: 'job-name in (sel-a, sel-b)' })).toHaveLength(3)
    expect(await names({ labelSelector: 'job-name notin (sel-a),job-name' })).toContain(pb.metadata.name)
    expect(await names({ labelSelector: 'job-name!=sel-a,job-name' })).not.toContain(pa1.metadata.name)
    expect(await names({ labelSelector: '!job-name' })).toEqual([])
    expect(await names({ fieldSelector: `metadata.name=${pa2.metadata.name}` })).toEqual([pa2.metadata.name])

    const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'job-name=sel-b' })
    expect(list.kind).toBe('PodList')
    expect(list.apiVersion).toBe('v1')
    expect(list.metadata?.resourceVersion).toBe(server.resourceVersion)

    const bad = await core.listNamespacedPod({ namespace: NS, fieldSelector: 'spec.nope=x' }).catch((e: unknown) => e)
    expect((bad as ApiException<unknown>).code).toBe(400)
    expect(parseStatus(bad)).toMatchObject({ reason: 'BadRequest', message: 'field label not supported: spec.nope' })
  })

  it('answers 404 with the real Status texts', async () => {
    const e = await batch.readNamespacedJob({ namespace: NS, name: 'ghost' }).catch((err: unknown) => err)
    expect((e as ApiException<unknown>).code).toBe(404)
    expect(parseStatus(e)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'jobs.batch "ghost" not found',
      reason: 'NotFound',
      details: { name: 'ghost', group: 'batch', kind: 'jobs' },
      code: 404
    })
    const n = await core.readNamespace({ name: 'ghost-ns' }).catch((err: unknown) => err)
    expect((n as ApiException<unknown>).code).toBe(404)
    expect(parseStatus(n)).toMatchObject({ message: 'namespaces "ghost-ns" not found', details: { name: 'ghost-ns', kind: 'namespaces' } })
    expect((await core.readNamespace({ name: NS })).status?.phase).toBe('Active')
  })

  it('answers 403 with the RBAC message, as ApiException.code/body', async () => {
    const limited = kubeConfig(server, 'jobsonly').makeApiClient(CoreV1Api)
    const e = await limited.listNamespacedPod({ namespace: NS, labelSelector: 'job-name=x' }).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(ApiException)
    const ex = e as ApiException<unknown>
    expect(ex.code).toBe(403)
    // body is the raw response text; message holds code, body AND every header.
    expect(ex.body).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \\"jobsonly\\" cannot list resource \\"pods\\" in API group \\"\\" in the namespace \\"ci\\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}'
    )
    expect(ex.message).toContain('HTTP-Code: 403')
    expect(ex.message).toContain('audit-id')
    expect(ex.headers['content-type']).toBe('application/json')

    const logs = await limited.readNamespacedPodLog({ namespace: NS, name: 'p1' }).catch((err: unknown) => err)
    expect(parseStatus(logs).message).toBe(
      'pods "p1" is forbidden: User "jobsonly" cannot get resource "pods/log" in API group "" in the namespace "ci"'
    )
    const ns = await limited.readNamespace({ name: NS }).catch((err: unknown) => err)
    expect(parseStatus(ns).message).toBe(
      'namespaces "ci" is forbidden: User "jobsonly" cannot get resource "namespaces" in API group "" in the namespace "ci"'
    )

    // A watch narrowed to one name carries it in the message (and in details).
    const res = await fetch(`${server.url}/apis/batch/v1/namespaces/${NS}/jobs?watch=true&fieldSelector=metadata.name%3Dx`, {
      headers: { Authorization: `Bearer ${server.tokenFor('nowatch')}` }
    })
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'jobs.batch "x" is forbidden: User "nowatch" cannot watch resource "jobs" in API group "batch" in the namespace "ci"',
      reason: 'Forbidden',
      details: { name: 'x', group: 'batch', kind: 'jobs' },
      code: 403
    })
  })

  it('a forbidden watch reaches Watch.done as a bare Error("Forbidden") with statusCode', async () => {
    const w = await startWatch(kubeConfig(server, 'nowatch'), `/apis/batch/v1/namespaces/${NS}/jobs`, {
      fieldSelector: 'metadata.name=x'
    })
    const err = (await w.done) as Error & { statusCode?: number }
    expect(err).toBeInstanceOf(Error)
    expect(err.message).toBe('Forbidden') // the Status body (RBAC text) is lost
    expect(err.statusCode).toBe(403)
    expect(w.events).toEqual([])
  })

  it('answers 401 to an unknown or missing token', async () => {
    const bogus = kubeConfig(server, 'waiter', { token: 'expired' }).makeApiClient(BatchV1Api)
    const e = await bogus.listNamespacedJob({ namespace: NS }).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(ApiException)
    expect((e as ApiException<unknown>).code).toBe(401)
    expect((e as ApiException<unknown>).body).toBeUndefined() // client-node drops the 401 body

    const raw = await fetch(`${server.url}/apis/batch/v1/namespaces/${NS}/jobs`)
    expect(raw.status).toBe(401)
    expect(await raw.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401
    })
    const last = server.requests[server.requests.length - 1]
    expect(last).toMatchObject({ status: 401, user: undefined, verb: 'list', resource: 'jobs' })

    const w = await startWatch(kubeConfig(server, 'waiter', { token: 'expired' }), `/api/v1/namespaces/${NS}/pods`, {})
    expect(((await w.done) as { statusCode?: number }).statusCode).toBe(401)
  })

  it('streams ADDED, MODIFIED, DELETED and BOOKMARK events to Watch', async () => {
    const job = server.createJob(NS, { metadata: { name: 'stream' } })
    const selector = `batch.kubernetes.io/controller-uid=${job.metadata.uid}`
    const list = await core.listNamespacedPod({ namespace: NS, labelSelector: selector })
    const w = await startWatch(kc, `/api/v1/namespaces/${NS}/pods`, {
      labelSelector: selector,
      resourceVersion: list.metadata!.resourceVersion,
      allowWatchBookmarks: true
    })
    await server.waitForRequest({ verb: 'watch', resource: 'pods', status: 200, user: 'waiter' })
    server.createPodForJob(server.createJob(NS, { metadata: { name: 'other' } })) // not selected
    const pod = server.createPodForJob(job)
    server.startPod(NS, pod.metadata.name)
    server.finishPod(NS, pod.metadata.name, { exitCode: 0 })
    server.bookmark()
    server.deletePod(NS, pod.metadata.name)
    await until(() => w.events.length >= 7, 'events')

    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'BOOKMARK', 'DELETED'])
    const [added, , , running, done, bookmark, deleted] = w.events
    expect(added.object).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { name: pod.metadata.name } })
    expect(running.object.status.phase).toBe('Running')
    expect(done.object.status.phase).toBe('Succeeded')
    expect(done.object.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' })
    // Bookmark: an empty Pod with only the resourceVersion.
    expect(bookmark.object).toEqual({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { resourceVersion: done.object.metadata.resourceVersion, creationTimestamp: null },
      spec: { containers: null },
      status: {}
    })
    // DELETED carries the last state with the deletion's resourceVersion.
    expect(deleted.object.status.phase).toBe('Succeeded')
    expect(Number(deleted.object.metadata.resourceVersion)).toBe(Number(server.resourceVersion))
    // Watch hands the raw JSON to the callback: no Date conversion.
    expect(typeof added.object.metadata.creationTimestamp).toBe('string')

    expect(w.isDone()).toBe(false)
    server.closeWatches()
    expect(await w.done).toBeNull() // a clean server-side close
  })

  it('starts a watch without resourceVersion with synthetic ADDED events', async () => {
    const job = server.createJob(NS, { metadata: { name: 'synthetic' } })
    server.createPodForJob(job)
    server.createPodForJob(job)
    const w = await startWatch(kc, `/api/v1/namespaces/${NS}/pods`, { labelSelector: `job-name=synthetic` })
    await until(() => w.events.length >= 2, 'initial events')
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'ADDED'])
    // Selector-aware like the watch cache: a pod that stops matching is DELETED for this watcher.
    const name = w.events[0].object.metadata.name
    server.updatePod(NS, name, { metadata: { labels: { 'job-name': 'renamed' } } })
    await until(() => w.events.length >= 3, 'label change')
    expect(w.events[2]).toMatchObject({ type: 'DELETED', object: { metadata: { name } } })
    w.controller.abort()
    await w.done
    await until(() => server.openWatches().length === 0, 'server to drop the watch')
  })

  it('refuses a watch from a compacted resourceVersion with 410 (HTTP or ERROR event)', async () => {
    const old = server.resourceVersion
    server.createJob(NS, { metadata: { name: 'compacted' } })
    server.compact()

    const http = await startWatch(kc, `/apis/batch/v1/namespaces/${NS}/jobs`, { resourceVersion: old })
    const err = (await http.done) as Error & { statusCode?: number }
    expect(err.statusCode).toBe(410)
    expect(err.message).toBe('Gone')

    server.setExpiredWatchMode('event')
    const ev = await startWatch(kc, `/apis/batch/v1/namespaces/${NS}/jobs`, { resourceVersion: old })
    expect(await ev.done).toBeNull()
    expect(ev.events).toEqual([
      {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${old} (${server.compactedResourceVersion})`,
          reason: 'Expired',
          code: 410
        }
      }
    ])

    // From the compaction point on, watching works.
    const ok = await startWatch(kc, `/apis/batch/v1/namespaces/${NS}/jobs`, { resourceVersion: server.resourceVersion })
    server.updateJobStatus(NS, 'compacted', { active: 1 })
    await until(() => ok.events.length === 1, 'event after compaction')
    expect(ok.events[0]).toMatchObject({ type: 'MODIFIED', object: { status: { active: 1 } } })
    server.expireWatches() // ERROR event, then close
    expect(await ok.done).toBeNull()
    expect(ok.events[1]).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } })
  })

  it('closes a watch cleanly after timeoutSeconds', async () => {
    const t0 = Date.now()
    const w = await startWatch(kc, `/apis/batch/v1/namespaces/${NS}/jobs`, {
      resourceVersion: server.resourceVersion,
      timeoutSeconds: 1
    })
    expect(await w.done).toBeNull()
    const elapsed = Date.now() - t0
    expect(elapsed).toBeGreaterThanOrEqual(950)
    expect(elapsed).toBeLessThan(2500)
    const rec = server.requestsMatching({ verb: 'watch', resource: 'jobs' }).pop()
    expect(rec?.query).toMatchObject({ watch: 'true', timeoutSeconds: '1' })
  })

  it('serves container logs (container, tailLines, previous) and the kubelet errors', async () => {
    const job = server.createJob(NS, {
      metadata: { name: 'logs' },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'main', image: 'alpine:3' },
              { name: 'side', image: 'alpine:3' }
            ]
          }
        }
      }
    })
    const pod = server.createPodForJob(job)
    const name: string = pod.metadata.name
    const log = (params: { container?: string; tailLines?: number; previous?: boolean }): Promise<string> =>
      core.readNamespacedPodLog({ namespace: NS, name, ...params })
    const message = async (p: Promise<unknown>): Promise<string> =>
      parseStatus(
        await p.then(
          () => 'no error',
          (e: unknown) => e
        )
      ).message

    expect(await message(log({}))).toBe(`a container name must be specified for pod ${name}, choose one of: [main side]`)
    expect(await message(log({ container: 'nope' }))).toBe(`container nope is not valid for pod ${name}`)
    expect(await log({ container: 'main' })).toBe('') // not scheduled yet: empty
    server.schedulePod(NS, name)
    expect(await message(log({ container: 'main' }))).toBe(`container "main" in pod "${name}" is waiting to start: ContainerCreating`)
    server.setPodWaiting(NS, name, 'ImagePullBackOff', 'Back-off pulling image "alpine:3"')
    expect(await message(log({ container: 'main' }))).toBe(
      `container "main" in pod "${name}" is waiting to start: trying and failing to pull image`
    )
    server.startPod(NS, name)
    server.setLog(NS, name, 'main', 'one\ntwo\nthree\n')
    expect(await log({ container: 'main' })).toBe('one\ntwo\nthree\n')
    expect(await log({ container: 'main', tailLines: 2 })).toBe('two\nthree\n')
    expect(await message(log({ container: 'main', previous: true }))).toBe(
      `previous terminated container "main" in pod "${name}" not found`
    )
    server.updatePodStatus(NS, name, {
      containerStatuses: server.getPod(NS, name)!.status.containerStatuses.map((s: KubeObject) => ({
        ...s,
        restartCount: 1,
        lastState: { terminated: { exitCode: 1, containerID: 'containerd://old' } }
      }))
    })
    server.setLog(NS, name, 'main', 'crashed\n', { previous: true })
    expect(await log({ container: 'main', previous: true })).toBe('crashed\n')
    const rec = server.requestsMatching({ resource: 'pods/log' }).pop()
    expect(rec).toMatchObject({ verb: 'get', name, status: 200, query: { container: 'main', previous: 'true' } })
  })

  it('lists events by involvedObject field selectors', async () => {
    const job = server.createJob(NS, { metadata: { name: 'evented' } })
    const pod = server.createPodForJob(job)
    server.addEvent(job, { reason: 'SuccessfulCreate', message: `Created pod: ${pod.metadata.name}` })
    server.addEvent(pod, { reason: 'FailedScheduling', type: 'Warning', message: '0/1 nodes are available: 1 Insufficient cpu.' })
    const jobEvents = await core.listNamespacedEvent({
      namespace: NS,
      fieldSelector: `involvedObject.kind=Job,involvedObject.name=evented,involvedObject.uid=${job.metadata.uid}`
    })
    expect(jobEvents.kind).toBe('EventList')
    expect(jobEvents.items).toHaveLength(1)
    expect(jobEvents.items[0]).toMatchObject({
      reason: 'SuccessfulCreate',
      type: 'Normal',
      count: 1,
      source: { component: 'job-controller' },
      involvedObject: { kind: 'Job', name: 'evented', namespace: NS, uid: job.metadata.uid, apiVersion: 'batch/v1' }
    })
    const podEvents = await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${pod.metadata.name}` })
    expect(podEvents.items.map((e) => [e.type, e.reason, e.source?.component])).toEqual([
      ['Warning', 'FailedScheduling', 'default-scheduler']
    ])
  })

  it('logs every request, so tests can count API calls', async () => {
    server.clearRequests()
    await batch.readNamespacedJob({ namespace: NS, name: 'build' })
    await core.listNamespacedPod({ namespace: NS, labelSelector: 'job-name=build', limit: 500 })
    expect(server.requests).toHaveLength(2)
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      path: `/apis/batch/v1/namespaces/${NS}/jobs/build`,
      verb: 'get',
      resource: 'jobs',
      namespace: NS,
      name: 'build',
      user: 'waiter',
      status: 200,
      watch: false
    })
    expect(server.requests[1]).toMatchObject({ verb: 'list', resource: 'pods', query: { labelSelector: 'job-name=build', limit: '500' } })
    expect(typeof server.requests[1].time).toBe('number')
  })

  it('injects canned responses: 429 with Retry-After, 500, 503', async () => {
    server.nextResponses({ verb: 'list', resource: 'jobs' }, [{ status: 429 }, { status: 503, retryAfter: 2 }, { status: 500 }])
    const e429 = (await batch.listNamespacedJob({ namespace: NS }).catch((e: unknown) => e)) as ApiException<unknown>
    expect(e429.code).toBe(429)
    expect(e429.headers['retry-after']).toBe('1')
    expect(e429.body).toBe('Too many requests, please try again later.\n') // plain text, like APF
    const e503 = (await batch.listNamespacedJob({ namespace: NS }).catch((e: unknown) => e)) as ApiException<unknown>
    expect(e503.code).toBe(503)
    expect(e503.headers['retry-after']).toBe('2')
    expect(parseStatus(e503)).toMatchObject({ reason: 'ServiceUnavailable', details: { retryAfterSeconds: 2 } })
    const e500 = (await batch.listNamespacedJob({ namespace: NS }).catch((e: unknown) => e)) as ApiException<unknown>
    expect(parseStatus(e500)).toMatchObject({ code: 500, reason: 'InternalError' })
    // The queue is used up: back to normal.
    expect((await batch.listNamespacedJob({ namespace: NS })).kind).toBe('JobList')
    expect(
      server
        .requestsMatching({ verb: 'list', resource: 'jobs' })
        .slice(-4)
        .map((r) => [r.status, r.fault])
    ).toEqual([
      [429, 'canned'],
      [503, 'canned'],
      [500, 'canned'],
      [200, undefined]
    ])

    // Canned errors on a watch reach done() like real ones.
    server.nextResponses({ verb: 'watch' }, [{ status: 504 }])
    const w = await startWatch(kc, `/apis/batch/v1/namespaces/${NS}/jobs`, {})
    expect(((await w.done) as { statusCode?: number }).statusCode).toBe(504)
  })

  it('hangs requests and stalls watches; Watch gives up after requestTimeoutMs', async () => {
    const lift = server.hang({ verb: 'get', resource: 'jobs' })
    const hung = await fetch(`${server.url}/apis/batch/v1/namespaces/${NS}/jobs/build`, {
      headers: { Authorization: `Bearer ${server.tokenFor('waiter')}` },
      signal: AbortSignal.timeout(200)
    }).catch((e: unknown) => e)
    expect((hung as Error).name).toBe('TimeoutError')
    lift()
    expect((await batch.readNamespacedJob({ namespace: NS, name: 'build' })).metadata?.name).toBe('build')

    const unstall = server.stallWatches()
    const w = await startWatch(kc, `/apis/batch/v1/namespaces/${NS}/jobs`, { allowWatchBookmarks: true }, { requestTimeoutMs: 300 })
    // Headers arrived (watch() resolved), then nothing: no synthetic ADDED, no bookmark, no event.
    await server.waitForWatch({ resource: 'jobs', stalled: true })
    server.bookmark()
    server.updateJobStatus(NS, 'build', { active: 1 })
    const err = (await w.done) as Error
    expect(err.name).toBe('TimeoutError') // client-node's inactivity timeout (30 s by default)
    expect(err.message).toBe('The operation was aborted due to timeout')
    expect(w.events).toEqual([])
    expect(server.requestsMatching({ verb: 'watch', resource: 'jobs' }).pop()).toMatchObject({ status: 200, fault: 'stall' })
    await until(() => server.openWatches().length === 0, 'the aborted watch to be dropped')
    unstall()
  })

  it('a reset watch connection reaches done() with TypeError("terminated")', async () => {
    const w = await startWatch(kc, `/apis/batch/v1/namespaces/${NS}/jobs`, { resourceVersion: server.resourceVersion })
    await server.waitForWatch({ resource: 'jobs', user: 'waiter' })
    server.resetWatches()
    const err = (await w.done) as Error & { cause?: Error }
    expect(err).toBeInstanceOf(TypeError)
    expect(err.message).toBe('terminated')
    expect(err.cause?.message).toBe('other side closed')
    expect(server.openWatches()).toEqual([])
  })
})

describe('fake apiserver: less common paths', () => {
  const server = new FakeApiServer({ expiredWatch: 'event' })
  let kc: KubeConfig

  beforeAll(async () => {
    await server.start()
    kc = kubeConfig(server)
  })
  afterAll(async () => {
    await server.stop()
  })

  it('deletes a Job with its pods (Background) and reports the final state in DELETED', async () => {
    const job = server.createJob('ttl', { metadata: { name: 'done' }, spec: { ttlSecondsAfterFinished: 0 } })
    const pod = server.createPodForJob(job)
    const w = await startWatch(kc, '/apis/batch/v1/namespaces/ttl/jobs', { resourceVersion: server.resourceVersion })
    const pw = await startWatch(kc, '/api/v1/namespaces/ttl/pods', { resourceVersion: server.resourceVersion })
    server.finishJob('ttl', 'done', { outcome: 'Complete' })
    server.deleteJob('ttl', 'done')
    await until(() => w.events.length === 3 && pw.events.length === 1, 'job and pod events')
    expect(w.events.map((e) => [e.type, e.object.status.conditions.map((c: KubeObject) => c.type).join(',')])).toEqual([
      ['MODIFIED', 'SuccessCriteriaMet'],
      ['MODIFIED', 'SuccessCriteriaMet,Complete'],
      ['DELETED', 'SuccessCriteriaMet,Complete']
    ])
    expect(w.events[2].object.status.completionTime).toBeDefined()
    expect(pw.events[0]).toMatchObject({ type: 'DELETED', object: { metadata: { name: pod.metadata.name } } })
    expect(server.getJob('ttl', 'done')).toBeUndefined()
    server.closeWatches()
    await Promise.all([w.done, pw.done])
  })

  it('labels Indexed pods, and a re-created Job gets a new uid', async () => {
    const job = server.createJob('idx', {
      metadata: { name: 'shard' },
      spec: { completionMode: 'Indexed', completions: 2, parallelism: 2 }
    })
    const p1 = server.createPodForJob(job, {}, { index: 1 })
    expect(p1.metadata.labels['batch.kubernetes.io/job-completion-index']).toBe('1')
    expect(p1.metadata.annotations['batch.kubernetes.io/job-completion-index']).toBe('1')
    expect(p1.metadata.finalizers).toEqual(['batch.kubernetes.io/job-tracking'])
    server.deleteJob('idx', 'shard', { propagationPolicy: 'Orphan' })
    const again = server.createJob('idx', { metadata: { name: 'shard' } })
    expect(again.metadata.uid).not.toBe(job.metadata.uid)
    const left = server.getPod('idx', p1.metadata.name)!
    expect(left.metadata.ownerReferences).toBeUndefined() // orphaned by the garbage collector
    expect(left.metadata.labels['job-name']).toBe('shard') // still matches job-name=shard
    expect(server.podsOfJob(again)).toEqual([])
  })

  it('answers a watch from a future resourceVersion with an ERROR 504, and the legacy /watch/ path', async () => {
    const future = String(Number(server.resourceVersion) + 100)
    const w = await startWatch(kc, '/api/v1/namespaces/default/pods', { resourceVersion: future })
    expect(await w.done).toBeNull()
    expect(w.events[0].object).toMatchObject({
      code: 504,
      reason: 'Timeout',
      message: `Timeout: Too large resource version: ${future}, current: ${server.resourceVersion}`,
      details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }
    })

    const res = await fetch(`${server.url}/api/v1/watch/namespaces/default/pods`, {
      headers: { Authorization: `Bearer ${server.tokenFor('admin')}` }
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    await server.waitForWatch({ resource: 'pods', namespace: 'default' })
    server.closeWatches()
    expect(await res.text()).toBe('') // no pods in default
    expect(server.requests[server.requests.length - 1]).toMatchObject({ verb: 'watch', watch: true })
  })

  it('streams the initial state and an initial-events-end bookmark for sendInitialEvents', async () => {
    server.createPod('wl', { metadata: { name: 'a' } })
    const w = await startWatch(kc, '/api/v1/namespaces/wl/pods', {
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true
    })
    await until(() => w.events.length === 2, 'initial events')
    expect(w.events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } })
    expect(w.events[1]).toMatchObject({
      type: 'BOOKMARK',
      object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' }, resourceVersion: server.resourceVersion } }
    })
    server.closeWatches()
    await w.done
  })

  it('lists across namespaces, hangs only N times, delays canned answers', async () => {
    server.createJob('x1', { metadata: { name: 'j' } })
    server.createJob('x2', { metadata: { name: 'j' } })
    const all = await kc.makeApiClient(BatchV1Api).listJobForAllNamespaces()
    expect(all.items.map((j) => j.metadata?.namespace).filter((n) => n === 'x1' || n === 'x2')).toEqual(['x1', 'x2'])
    expect(all.items.every((j) => j.kind === undefined)).toBe(true) // list items carry no kind

    server.hang({ path: '/apis/batch/v1/namespaces/x1/jobs/j' }, { times: 1 })
    const token = server.tokenFor('admin')
    const first = fetch(`${server.url}/apis/batch/v1/namespaces/x1/jobs/j`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(100)
    }).catch((e: unknown) => (e as Error).name)
    expect(await first).toBe('TimeoutError')
    const second = await fetch(`${server.url}/apis/batch/v1/namespaces/x1/jobs/j`, { headers: { Authorization: `Bearer ${token}` } })
    expect(second.status).toBe(200)

    server.nextResponses({ resource: 'jobs', verb: 'get' }, [{ status: 504, delayMs: 100 }])
    const t0 = Date.now()
    const e = (await kc
      .makeApiClient(BatchV1Api)
      .readNamespacedJob({ namespace: 'x1', name: 'j' })
      .catch((err: unknown) => err)) as ApiException<unknown>
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90)
    expect(parseStatus(e)).toMatchObject({ code: 504, reason: 'Timeout' })

    await expect(server.waitForRequest({ resource: 'events' }, { timeoutMs: 20 })).rejects.toThrow(/timed out after 20 ms/)
  })
})

describe('fake apiserver lifecycle', () => {
  it('sends bookmarks on an interval and stops without open handles', async () => {
    const server = new FakeApiServer({ bookmarkIntervalMs: 50 })
    await server.start()
    const kc = kubeConfig(server)
    const w = await startWatch(kc, '/api/v1/namespaces/default/pods', { allowWatchBookmarks: true, resourceVersion: '0' })
    await until(() => w.events.filter((e) => e.type === 'BOOKMARK').length >= 2, 'interval bookmarks')
    const b = w.events.find((e) => e.type === 'BOOKMARK')!
    expect(b.object.metadata.resourceVersion).toBe(server.resourceVersion)
    await server.stop()
    await w.done
    expect(server.openWatches()).toEqual([])
  })
})
