// One connection per run (issue 13): KubeHttp keeps one connection, so a
// sequence of requests (GET, paged LIST, a watch open while other requests
// run, a log read) goes over one TLS connection: as HTTP/2 streams when the
// server offers h2 (kube-apiserver does), else over kept-alive HTTP/1.1
// connections. client-node alone opened one connection per request.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { KubeConfig } from '@kubernetes/client-node'
import { KubeHttp, kubeconfigAuthentication } from '../src/kube/http.js'
import { watchStream, type WatchEvent } from '../src/kube/watch.js'
import { b64, clientCertKubeconfig, testPki } from './support/certs.js'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'
import { runDist } from './support/run-dist.js'
import { startTlsFront, type Front } from './support/servers.js'

const NS = 'ci'
const pki = testPki()
let server: FakeApiServer
let front: Front | undefined
let http: KubeHttp | undefined

beforeAll(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
  const job = server.createJob(NS, { metadata: { name: 'build' } })
  for (let i = 0; i < 5; i++) server.startPod(NS, server.createPodForJob(job).metadata.name)
})
afterEach(async () => {
  await http?.close()
  await front?.stop()
})
afterAll(async () => {
  await server.stop()
})

function kubeconfig(url: string, cluster: string[]): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromString(clientCertKubeconfig(url, pki.client, cluster))
  return kc
}

/** GET, a paged LIST of 3 pages, a watch held open across a GET and a log read, then a last GET. */
async function sequence(h: KubeHttp): Promise<void> {
  await h.getJSON(`/apis/batch/v1/namespaces/${NS}/jobs/build`, {}, 'get job')
  const pods = await h.listAll<KubeObject>(`/api/v1/namespaces/${NS}/pods`, {}, 'list pods', 2)
  expect(pods.items).toHaveLength(5)
  const stop = new AbortController()
  const events: WatchEvent[] = []
  const watch = watchStream(
    h,
    `/api/v1/namespaces/${NS}/pods`,
    { resourceVersion: pods.resourceVersion },
    'watch pods',
    (e) => events.push(e),
    { idleTimeoutMs: 10_000, signal: stop.signal }
  )
  await server.waitForWatch({ resource: 'pods' })
  await h.getJSON(`/api/v1/namespaces/${NS}`, {}, 'get namespace')
  const pod = pods.items[0]
  const container = pod.spec.containers[0].name as string
  server.setLog(NS, pod.metadata.name, container, 'hello\n')
  expect(await h.getText(`/api/v1/namespaces/${NS}/pods/${pod.metadata.name}/log`, { container }, 'get log')).toBe('hello\n')
  stop.abort()
  expect((await watch).kind).toBe('aborted')
  await h.getJSON(`/apis/batch/v1/namespaces/${NS}/jobs/build`, {}, 'get job')
}

test('h2 server, CA data and a client certificate: 8 requests, one of them a watch, over one connection', async () => {
  front = await startTlsFront({
    server: pki.server,
    clientCa: pki.ca,
    upstream: server.url,
    upstreamToken: server.tokenFor('admin'),
    h2: true
  })
  http = new KubeHttp(kubeconfig(front.url, [`certificate-authority-data: ${b64(pki.ca.cert)}`]), 'test', 5_000)
  await sequence(http)
  expect(http.requests).toBe(8)
  expect(front.requests.every((r) => r.authorized)).toBe(true)
  expect(new Set(front.httpVersions)).toEqual(new Set(['2.0']))
  expect(front.connections).toBe(1)
})

test('h2 server with insecure-skip-tls-verify: one connection', async () => {
  front = await startTlsFront({
    server: pki.server,
    clientCa: pki.ca,
    upstream: server.url,
    upstreamToken: server.tokenFor('admin'),
    h2: true
  })
  http = new KubeHttp(kubeconfig(front.url, ['insecure-skip-tls-verify: true']), 'test', 5_000)
  await sequence(http)
  expect(front.connections).toBe(1)
})

test('HTTP/1.1-only server: connections kept alive and reused (a watch holds one of its own)', async () => {
  front = await startTlsFront({ server: pki.server, clientCa: pki.ca, upstream: server.url, upstreamToken: server.tokenFor('admin') })
  http = new KubeHttp(kubeconfig(front.url, [`certificate-authority-data: ${b64(pki.ca.cert)}`]), 'test', 5_000)
  await sequence(http)
  expect(new Set(front.httpVersions)).toEqual(new Set(['1.1']))
  // measured 3 for the 8 requests: one held by the watch; which of the others
  // reuse a connection depends on when the agent sees the previous one free
  expect(front.connections).toBeLessThanOrEqual(3)
})

test('the certificate checks still hold on the shared connection: an unknown CA is refused', async () => {
  front = await startTlsFront({
    server: pki.server,
    clientCa: pki.ca,
    upstream: server.url,
    upstreamToken: server.tokenFor('admin'),
    h2: true
  })
  http = new KubeHttp(kubeconfig(front.url, [`certificate-authority-data: ${b64(pki.otherCa.cert)}`]), 'test', 5_000)
  await expect(http.getJSON('/version', {}, 'get version')).rejects.toThrow(/TLS to .* failed/)
})

test("new TLS options (an exec plugin's new client certificate): a new connection for new requests; a watch open on the old one goes on", async () => {
  front = await startTlsFront({
    server: pki.server,
    clientCa: pki.ca,
    upstream: server.url,
    upstreamToken: server.tokenFor('admin'),
    h2: true
  })
  const kc = kubeconfig(front.url, [`certificate-authority-data: ${b64(pki.ca.cert)}`])
  let rotated = false
  const auth = kubeconfigAuthentication(kc)
  http = new KubeHttp(
    {
      ...auth,
      apply: async (opts) => {
        await auth.apply(opts)
        // the same certificate as another value stands for a new one: the options differ
        if (rotated) opts.cert = Buffer.concat([Buffer.from(opts.cert as Buffer), Buffer.from('\n')])
      }
    },
    'test',
    5_000
  )
  const pods = await http.listAll<KubeObject>('/api/v1/namespaces/default/pods', {}, 'list pods')
  const stop = new AbortController()
  const events: WatchEvent[] = []
  const watch = watchStream(
    http,
    '/api/v1/namespaces/default/pods',
    { resourceVersion: pods.resourceVersion },
    'watch pods',
    (e) => events.push(e),
    { idleTimeoutMs: 10_000, signal: stop.signal }
  )
  await server.waitForWatch({ resource: 'pods' })
  expect(front.connections).toBe(1)
  rotated = true
  await http.getJSON(`/api/v1/namespaces/${NS}`, {}, 'get namespace')
  await http.getJSON(`/api/v1/namespaces/${NS}`, {}, 'get namespace')
  expect(front.connections).toBe(2)
  server.createPod('default', { metadata: { name: 'after-rotation' } }) // not in NS: the other tests count its pods
  for (let i = 0; i < 100 && !events.length; i++) await new Promise((r) => setTimeout(r, 20))
  expect(events.map((e) => e.object.metadata.name)).toEqual(['after-rotation'])
  stop.abort()
  expect((await watch).kind).toBe('aborted')
})

// The action as the runner runs it (dist/), a whole wait, counting TLS connections.
describe('connections per wait, the bundle against an h2 server', () => {
  const wait = async (mode: 'watch' | 'poll') => {
    const job = server.createJob(NS, { metadata: { name: `w-${mode}` } })
    const pod = server.createPodForJob(job)
    front = await startTlsFront({
      server: pki.server,
      clientCa: pki.ca,
      upstream: server.url,
      upstreamToken: server.tokenFor('admin'),
      h2: true
    })
    const kc = kubeconfig(front.url, [`certificate-authority-data: ${b64(pki.ca.cert)}`])
    const timer = setTimeout(() => server.startPod(NS, pod.metadata.name), 2_500)
    const r = await runDist({
      inputs: { job: `w-${mode}`, namespace: NS, kubeconfig: kc.exportConfig(), timeout: '20s', mode, 'poll-interval': '1s' }
    })
    clearTimeout(timer)
    expect(r.outputs.result).toBe('met')
    return { requests: front.requests.length, connections: front.connections, versions: new Set(front.httpVersions) }
  }

  test('watch mode: one connection', async () => {
    const w = await wait('watch')
    expect(w.versions).toEqual(new Set(['2.0']))
    expect(w.requests).toBeGreaterThanOrEqual(4)
    expect(w.connections).toBe(1)
  })

  test('poll mode: one connection for a request every second', async () => {
    const w = await wait('poll')
    expect(w.requests).toBeGreaterThanOrEqual(4)
    expect(w.connections).toBe(1)
  })
})
