// A connection that stays open while no byte flows (a frozen proxy or load
// balancer) is noticed by HTTP/2 PINGs on the shared connection, without an
// API request and well before a watch's silence rule (issue 13). The first
// test shortens the PING interval (300 ms for 15 s) so that it is quick: the
// bound scales with it (between one and two intervals after the freeze); the
// second runs the bundle with the real interval.
import { afterEach, beforeEach, expect, test } from '@jest/globals'
import * as net from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { KubeHttp, PING_INTERVAL_MS } from '../src/kube/http.js'
import { watchStream } from '../src/kube/watch.js'
import { b64, testPki } from './support/certs.js'
import { FakeApiServer } from './support/fake-apiserver.js'
import { runDist } from './support/run-dist.js'
import { startTlsFront, type Front } from './support/servers.js'

const NS = 'ci'
const PING_MS = 300
const pki = testPki()

/** A TCP proxy; freeze() stops forwarding on the connections open now (new ones still pass). */
async function freezingProxy(target: string) {
  const { hostname, port } = new URL(target)
  const open = new Set<{ frozen: boolean; client: net.Socket; upstream: net.Socket }>()
  let connections = 0
  const server = net.createServer((client) => {
    connections++
    const upstream = net.connect(Number(port), hostname)
    const c = { frozen: false, client, upstream }
    open.add(c)
    client.on('data', (d) => c.frozen || upstream.write(d))
    upstream.on('data', (d) => c.frozen || client.write(d))
    const end = () => (client.destroy(), upstream.destroy(), open.delete(c))
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections: () => connections,
    freeze: () => open.forEach((c) => (c.frozen = true)),
    cut: () => open.forEach((c) => (c.client.destroy(), c.upstream.destroy())),
    close: async () => {
      open.forEach((c) => (c.client.destroy(), c.upstream.destroy()))
      await new Promise((r) => server.close(r))
    }
  }
}

let server: FakeApiServer
let front: Front
let proxy: Awaited<ReturnType<typeof freezingProxy>>
let http: KubeHttp
beforeEach(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
  front = await startTlsFront({
    server: pki.server,
    clientCa: pki.ca,
    upstream: server.url,
    upstreamToken: server.tokenFor('admin'),
    h2: true
  })
  proxy = await freezingProxy(front.url)
  const kc = new KubeConfig()
  kc.loadFromString(
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "${proxy.url}", certificate-authority-data: ${b64(pki.ca.cert)}}}]`,
      `users: [{name: u, user: {client-certificate-data: ${b64(pki.client.cert)}, client-key-data: ${b64(pki.client.key)}}}]`,
      'contexts: [{name: c, context: {cluster: c, user: u}}]',
      'current-context: c',
      ''
    ].join('\n')
  )
  http = new KubeHttp(kc, 'test', 10_000, { pingIntervalMs: PING_MS })
})
afterEach(async () => {
  await http.close()
  await proxy.close()
  await front.stop()
  await server.stop()
})

test('a frozen connection fails the watch within two PING intervals, and the next request gets a new connection', async () => {
  const list = await http.listAll(`/api/v1/namespaces/${NS}/pods`, {}, 'list pods')
  const stop = new AbortController()
  const watch = watchStream(http, `/api/v1/namespaces/${NS}/pods`, { resourceVersion: list.resourceVersion }, 'watch pods', () => {}, {
    idleTimeoutMs: 60_000, // the silence rule stays far away: only the PING can end this watch
    signal: stop.signal
  })
  await server.waitForWatch({ resource: 'pods' })
  await new Promise((r) => setTimeout(r, PING_MS * 2)) // answered PINGs keep the connection
  const requestsBefore = server.requests.length
  const frozenAt = Date.now()
  proxy.freeze()
  const end = await watch
  const noticedMs = Date.now() - frozenAt
  expect(end.kind).toBe('error')
  expect(end.kind === 'error' && end.error.transient).toBe(true)
  expect(noticedMs).toBeLessThanOrEqual(2 * PING_MS + 200)
  expect(server.requests.length).toBe(requestsBefore) // no API request spent on noticing
  expect(proxy.connections()).toBe(1)
  await expect(http.getJSON(`/api/v1/namespaces/${NS}`, {}, 'get namespace')).resolves.toMatchObject({ kind: 'Namespace' })
  expect(proxy.connections()).toBe(2)
})

test.each([
  ['before its answer', false],
  ['after an event', true]
])(
  'a connection cut under a watch (%s) ends it in a transient error, not a clean close (which would resume without a LIST)',
  async (_when, afterEvent) => {
    const list = await http.listAll(`/api/v1/namespaces/${NS}/pods`, {}, 'list pods')
    const stop = new AbortController()
    let events = 0
    const watch = watchStream(
      http,
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: list.resourceVersion },
      'watch pods',
      () => events++,
      {
        idleTimeoutMs: 60_000,
        signal: stop.signal
      }
    )
    await server.waitForWatch({ resource: 'pods' })
    if (afterEvent) {
      server.createPod(NS, { metadata: { name: 'p1' } })
      for (let i = 0; i < 100 && !events; i++) await new Promise((r) => setTimeout(r, 20))
      expect(events).toBe(1)
    }
    proxy.cut()
    const end = await watch
    expect(end.kind).toBe('error')
    expect(end.kind === 'error' && end.error.transient).toBe(true)
  }
)

test('the bundle, with the real 15 s PING: a wait through a proxy that freezes recovers within 40 s of the freeze', async () => {
  const job = server.createJob(NS, { metadata: { name: 'build' } })
  const pod = server.createPodForJob(job)
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c, cluster: {server: "${proxy.url}", certificate-authority-data: ${b64(pki.ca.cert)}}}]`,
    `users: [{name: u, user: {client-certificate-data: ${b64(pki.client.cert)}, client-key-data: ${b64(pki.client.key)}}}]`,
    'contexts: [{name: c, context: {cluster: c, user: u}}]',
    'current-context: c',
    ''
  ].join('\n')
  const lines: { t: number; line: string }[] = []
  const run = runDist({ inputs: { job: 'build', namespace: NS, kubeconfig, timeout: '60s' }, lines, killAfterMs: 65_000 })
  await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 })
  const frozenAt = Date.now()
  proxy.freeze()
  server.startPod(NS, pod.metadata.name) // seen only once the watches are opened again
  const r = await run
  const recoveredMs = Date.now() - frozenAt
  expect(r.outputs.result).toBe('met')
  expect(recoveredMs).toBeGreaterThan(PING_INTERVAL_MS - 1_000) // it was the PING, not a request timeout
  expect(recoveredMs).toBeLessThan(40_000)
  expect(proxy.connections()).toBe(2) // one before the freeze, one after
}, 70_000)
