// HTTP proxies as client-go takes them: the kubeconfig's proxy-url, else
// HTTPS_PROXY / HTTP_PROXY unless NO_PROXY matches; the TLS to the API server
// runs inside a CONNECT tunnel. Against a CONNECT proxy written here, which
// resolves the name kube.test to 127.0.0.1 (nothing else does: a request that
// reaches the server by that name went through the proxy).
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as os from 'node:os'
import * as path from 'node:path'
import * as net from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { KubeError } from '../src/kube/errors.js'
import { KubeHttp } from '../src/kube/http.js'
import { noProxyMatches, proxyFor } from '../src/kube/proxy.js'
import { b64, clientCertKubeconfig, testPki } from './support/certs.js'
import { FakeApiServer } from './support/fake-apiserver.js'
import { runDist } from './support/run-dist.js'
import { startTlsFront, type Front } from './support/servers.js'

const NS = 'ci'
const pki = testPki()

describe('NO_PROXY, as Go reads it', () => {
  test.each([
    ['*', 'api.example.com', '443', true],
    ['example.com', 'example.com', '443', true],
    ['example.com', 'api.example.com', '443', true],
    ['example.com', 'notexample.com', '443', false],
    ['.example.com', 'example.com', '443', false],
    ['.example.com', 'api.example.com', '443', true],
    ['*.example.com', 'api.example.com', '443', true],
    ['*.example.com', 'example.com', '443', false],
    ['EXAMPLE.com', 'api.example.com', '443', true],
    ['example.com:6443', 'api.example.com', '6443', true],
    ['example.com:6443', 'api.example.com', '443', false],
    ['10.0.0.1', '10.0.0.1', '443', true],
    ['10.0.0.1', '10.0.0.2', '443', false],
    ['10.0.0.1:6443', '10.0.0.1', '443', false],
    ['10.0.0.0/8', '10.20.30.40', '443', true],
    ['10.0.0.0/8', '11.0.0.1', '443', false],
    ['10.0.0.0/8', 'example.com', '443', false],
    ['fd00::/8', 'fd00::1', '443', true],
    ['::1', '::1', '443', true],
    ['other.org, example.com', 'api.example.com', '443', true],
    ['', 'example.com', '443', false]
  ])('NO_PROXY=%j, host %s port %s: bypass %s', (noProxy, host, port, bypass) => {
    expect(noProxyMatches(noProxy, host, port)).toBe(bypass)
  })
})

describe('which proxy', () => {
  const server = new URL('https://api.example.com:6443')
  test("the kubeconfig's proxy-url wins over the environment", () => {
    expect(proxyFor(server, 'http://p1:3128', { HTTPS_PROXY: 'http://p2:3128' })?.url.host).toBe('p1:3128')
  })
  test('HTTPS_PROXY for an https server, HTTP_PROXY for an http one; no scheme means http://', () => {
    const env = { HTTPS_PROXY: 'p2:3128', HTTP_PROXY: 'http://p3:3128' }
    expect(proxyFor(server, undefined, env)?.url.href).toBe('http://p2:3128/')
    expect(proxyFor(new URL('http://api.example.com'), undefined, env)?.url.host).toBe('p3:3128')
    expect(proxyFor(server, undefined, { https_proxy: 'http://p4:1' })).toMatchObject({ from: 'https_proxy' })
  })
  test('NO_PROXY (or no_proxy) and loopback addresses bypass it; proxy-url is always used', () => {
    expect(proxyFor(server, undefined, { HTTPS_PROXY: 'http://p:1', NO_PROXY: '.example.com' })).toBeUndefined()
    expect(proxyFor(server, undefined, { HTTPS_PROXY: 'http://p:1', no_proxy: 'example.com' })).toBeUndefined()
    expect(proxyFor(new URL('https://127.0.0.1:6443'), undefined, { HTTPS_PROXY: 'http://p:1' })).toBeUndefined()
    expect(proxyFor(new URL('https://localhost:6443'), undefined, { HTTPS_PROXY: 'http://p:1' })).toBeUndefined()
    expect(proxyFor(new URL('https://127.0.0.1:6443'), 'http://p:1', { NO_PROXY: '*' })).toBeDefined()
  })
  test('a proxy of another scheme is refused with its source', () => {
    expect(() => proxyFor(server, undefined, { HTTPS_PROXY: 'ftp://p:1' })).toThrow(
      /the proxy in HTTPS_PROXY has the scheme ftp: http, https, socks5 or socks5h are supported/
    )
  })
})

/** An HTTP CONNECT proxy (HTTPS with `tls`): kube.test is 127.0.0.1; `refuse` answers every CONNECT with that status. */
async function connectProxy(o: { refuse?: number; tls?: { cert: string; key: string } } = {}) {
  const tunnels: string[] = []
  const auth: (string | undefined)[] = []
  const sockets = new Set<net.Socket>()
  const deny = (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(405).end()
  const server = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, deny) : http.createServer(deny)
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client)
    tunnels.push(req.url ?? '')
    auth.push(req.headers['proxy-authorization'])
    if (o.refuse) return void client.end(`HTTP/1.1 ${o.refuse} ${http.STATUS_CODES[o.refuse]}\r\n\r\n`)
    const [host, port] = (req.url ?? '').split(':')
    const upstream = net.connect(Number(port), host === 'kube.test' ? '127.0.0.1' : host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      client.pipe(upstream).pipe(client)
    })
    sockets.add(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    tunnels,
    auth,
    close: async () => {
      sockets.forEach((s) => s.destroy())
      await new Promise((r) => server.close(r))
    }
  }
}

let server: FakeApiServer
let front: Front
let proxy: Awaited<ReturnType<typeof connectProxy>> | undefined
let kube: KubeHttp | undefined
const savedEnv = { ...process.env }
beforeAll(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
  front = await startTlsFront({
    server: pki.server,
    clientCa: pki.ca,
    upstream: server.url,
    upstreamToken: server.tokenFor('admin'),
    h2: true
  })
})
afterEach(async () => {
  await kube?.close()
  kube = undefined
  await proxy?.close()
  proxy = undefined
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
    if (savedEnv[k] === undefined) delete process.env[k]
    else process.env[k] = savedEnv[k]
  }
})
afterAll(async () => {
  await front.stop()
  await server.stop()
})

/** The front by the name kube.test, its certificate checked (issued for localhost: tls-server-name). */
function kubeconfigText(cluster: string[] = []): string {
  return clientCertKubeconfig(`https://kube.test:${new URL(front.url).port}`, pki.client, [
    `certificate-authority-data: ${b64(pki.ca.cert)}`,
    'tls-server-name: localhost',
    ...cluster
  ])
}

function client(cluster: string[] = []): KubeHttp {
  const kc = new KubeConfig()
  kc.loadFromString(kubeconfigText(cluster))
  return (kube = new KubeHttp(kc, 'test', 5_000))
}

const getNamespace = (h: KubeHttp) => h.getJSON(`/api/v1/namespaces/${NS}`, {}, 'get namespace')
const target = () => `kube.test:${new URL(front.url).port}`

test("the kubeconfig's proxy-url (http://user:password@): one CONNECT tunnel, TLS to the server inside it, h2 for every request", async () => {
  proxy = await connectProxy()
  const h = client([`proxy-url: ${proxy.url.replace('//', '//ci:s%40cret@')}`])
  const before = front.connections ?? 0
  await expect(getNamespace(h)).resolves.toMatchObject({ kind: 'Namespace' })
  await expect(getNamespace(h)).resolves.toMatchObject({ kind: 'Namespace' })
  expect(proxy.tunnels).toEqual([target()])
  expect(proxy.auth).toEqual([`Basic ${Buffer.from('ci:s@cret').toString('base64')}`])
  expect((front.connections ?? 0) - before).toBe(1)
  expect(front.httpVersions?.at(-1)).toBe('2.0')
})

test('HTTPS_PROXY when the kubeconfig sets no proxy-url', async () => {
  proxy = await connectProxy()
  process.env.HTTPS_PROXY = proxy.url
  await expect(getNamespace(client())).resolves.toMatchObject({ kind: 'Namespace' })
  expect(proxy.tunnels).toEqual([target()])
})

test('NO_PROXY naming the server: the proxy is not asked (and kube.test does not resolve without it)', async () => {
  proxy = await connectProxy()
  process.env.HTTPS_PROXY = proxy.url
  process.env.NO_PROXY = 'other.org,.test'
  const err = await getNamespace(client()).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(KubeError)
  expect((err as KubeError).message).toMatch(/^get namespace: cannot reach the API server https:\/\/kube\.test:\d+/)
  expect(proxy.tunnels).toEqual([])
})

test.each([407, 403])('a proxy that refuses the tunnel (%i): a KubeError naming the proxy and the status', async (status) => {
  proxy = await connectProxy({ refuse: status })
  const err = await getNamespace(client([`proxy-url: ${proxy.url}`])).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(KubeError)
  expect((err as KubeError).message).toBe(
    `get namespace: the proxy ${proxy.url} (proxy-url) refused the tunnel to ${target()}: HTTP ${status} ${http.STATUS_CODES[status]}`
  )
  expect((err as KubeError).transient).toBe(false)
})

test('a proxy that nobody listens on: a KubeError naming the proxy', async () => {
  const closed = await connectProxy()
  await closed.close()
  const err = await getNamespace(client([`proxy-url: ${closed.url}`])).catch((e: unknown) => e)
  expect((err as KubeError).message).toMatch(
    new RegExp(`^get namespace: cannot reach the proxy ${closed.url} \\(proxy-url\\): .*ECONNREFUSED`)
  )
})

test('the bundle waits through HTTPS_PROXY', async () => {
  proxy = await connectProxy()
  const job = server.createJob(NS, { metadata: { name: 'via-proxy' } })
  server.startPod(NS, server.createPodForJob(job).metadata.name)
  const r = await runDist({
    inputs: { job: 'via-proxy', namespace: NS, kubeconfig: kubeconfigText(), timeout: '20s' },
    env: { HTTPS_PROXY: proxy.url }
  })
  expect(r.stderr).toBe('')
  expect(r.outputs.result).toBe('met')
  expect(proxy.tunnels).toEqual([target()])
})

test("the bundle through an https:// proxy-url (the proxy's certificate trusted by NODE_EXTRA_CA_CERTS): TLS inside TLS", async () => {
  proxy = await connectProxy({ tls: { cert: pki.server.cert, key: pki.server.key } })
  const job = server.createJob(NS, { metadata: { name: 'via-tls-proxy' } })
  server.startPod(NS, server.createPodForJob(job).metadata.name)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-proxy-'))
  fs.writeFileSync(path.join(dir, 'ca.pem'), pki.ca.cert)
  const r = await runDist({
    inputs: { job: 'via-tls-proxy', namespace: NS, kubeconfig: kubeconfigText([`proxy-url: ${proxy.url}`]), timeout: '20s' },
    env: { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem') }
  })
  fs.rmSync(dir, { recursive: true, force: true })
  expect(r.stderr).toBe('')
  expect(r.outputs.result).toBe('met')
  expect(proxy.tunnels).toEqual([target()])
})
