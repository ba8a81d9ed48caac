// KubeHttp against the fake API server: paged LISTs.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { createServer } from 'node:http'
import { gzipSync } from 'node:zlib'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { KubeHttp } from '../src/kube/http.js'
import { KubeError } from '../src/kube/errors.js'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'

const NS = 'ci'
const PODS = `/api/v1/namespaces/${NS}/pods`
let server: FakeApiServer

beforeEach(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
})
afterEach(async () => {
  await server.stop()
})

function client(): KubeHttp {
  const kc = new KubeConfig()
  kc.loadFromString(server.kubeconfig())
  return new KubeHttp(kc, 'kube-job-wait-test', 5_000)
}

const names = (items: KubeObject[]) => items.map((p) => p.metadata.name as string)
const listRequests = () => server.requestsMatching({ resource: 'pods', verb: 'list' }).map((r) => r.query.continue ?? 'first')

describe('listAll', () => {
  test('pages with limit and continue until the last page', async () => {
    for (let i = 1; i <= 5; i++) server.createPod(NS, { metadata: { name: `p${i}` } })
    const list = await client().listAll<KubeObject>(PODS, {}, 'list pods', 2)
    expect(names(list.items)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5'])
    expect(list.resourceVersion).toBe(server.resourceVersion)
    expect(server.requestsMatching({ resource: 'pods', verb: 'list' }).map((r) => r.query.limit)).toEqual(['2', '2', '2'])
  })

  test('a 410 on a continue token (compacted between pages) starts the paged LIST again from the first page', async () => {
    for (let i = 1; i <= 5; i++) server.createPod(NS, { metadata: { name: `p${i}` } })
    // After the first page: a pod is added and etcd compacts past the token's resourceVersion.
    void server.waitForRequest({ resource: 'pods', verb: 'list', status: 200 }).then(() => {
      server.createPod(NS, { metadata: { name: 'p6' } })
      server.compact()
    })
    const list = await client().listAll<KubeObject>(PODS, { labelSelector: 'x!=y' }, 'list pods', 2)
    expect(names(list.items)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6'])
    expect(list.resourceVersion).toBe(server.resourceVersion)
    const reqs = server.requestsMatching({ resource: 'pods', verb: 'list' })
    expect(reqs.map((r) => r.status)).toEqual([200, 410, 200, 200, 200])
    expect(listRequests()[2]).toBe('first') // not an unpaginated LIST: limit kept, continue dropped
    expect(reqs.every((r) => r.query.limit === '2' && r.query.labelSelector === 'x!=y')).toBe(true)
  })

  test('a continue token that keeps expiring ends in the 410 after a few fresh starts', async () => {
    for (let i = 1; i <= 5; i++) server.createPod(NS, { metadata: { name: `p${i}` } })
    server.nextResponses((r) => r.resource === 'pods' && r.query.continue !== undefined, Array(10).fill({ status: 410 }))
    const err = await client()
      .listAll<KubeObject>(PODS, {}, 'list pods', 2)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KubeError)
    expect((err as KubeError).code).toBe(410)
    expect(listRequests().filter((c) => c === 'first')).toHaveLength(4)
  })

  test('a 410 on the first page is not retried here (the caller lists again)', async () => {
    server.nextResponses({ resource: 'pods', verb: 'list' }, [{ status: 410 }])
    const err = await client()
      .listAll<KubeObject>(PODS, {}, 'list pods', 2)
      .catch((e: unknown) => e)
    expect((err as KubeError).code).toBe(410)
    expect(listRequests()).toHaveLength(1)
  })
})

describe('credentials', () => {
  const withUser = (url: string, user: string[]) => {
    const kc = new KubeConfig()
    kc.loadFromString(
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: c',
        `  cluster: {server: "${url}", insecure-skip-tls-verify: true}`,
        'users:',
        '- name: u',
        '  user:',
        ...user.map((l) => `    ${l}`),
        'contexts:',
        '- name: c',
        '  context: {cluster: c, user: u}',
        'current-context: c',
        ''
      ].join('\n')
    )
    return new KubeHttp(kc, 'kube-job-wait-test', 5_000)
  }

  test('a token wins over a username and password in the same user (as client-node)', async () => {
    const h = withUser(server.url, [`token: ${server.tokenFor('admin')}`, 'username: someone', 'password: secret-pass'])
    await expect(h.getJSON(`/api/v1/namespaces/${NS}`, {}, 'get namespace')).resolves.toMatchObject({ kind: 'Namespace' })
    expect(server.requests.at(-1)?.user).toBe('admin')
  })

  test('username and password alone: basic auth', async () => {
    const seen: (string | undefined)[] = []
    const web = createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.end('{}')
    })
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r))
    try {
      const h = withUser(`http://127.0.0.1:${(web.address() as AddressInfo).port}`, ['username: someone', 'password: secret-pass'])
      await h.getJSON('/version', {}, 'get version')
      await h.close()
    } finally {
      web.closeAllConnections()
      await new Promise((r) => web.close(r))
    }
    expect(seen).toEqual([`Basic ${Buffer.from('someone:secret-pass').toString('base64')}`])
  })
})

test('asks for gzip and reads a gzipped answer (kube-apiserver compresses large lists)', async () => {
  const seen: (string | undefined)[] = []
  const web = createServer((req, res) => {
    seen.push(req.headers['accept-encoding'])
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    res.end(gzipSync(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '7' }, items: [{ metadata: { name: 'p1' } }] })))
  })
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r))
  const kc = new KubeConfig()
  kc.loadFromString(server.kubeconfig().replace(server.url, `http://127.0.0.1:${(web.address() as AddressInfo).port}`))
  const h = new KubeHttp(kc, 'kube-job-wait-test', 5_000)
  try {
    const list = await h.listAll<KubeObject>(PODS, {}, 'list pods')
    expect(names(list.items)).toEqual(['p1'])
  } finally {
    await h.close()
    web.closeAllConnections()
    await new Promise((r) => web.close(r))
  }
  expect(seen).toEqual(['gzip'])
})

describe("the API server's clock, from its Date header", () => {
  const skewWith = async (offsetMs: number): Promise<number> => {
    const skewed = new FakeApiServer({ namespaces: ['default', NS], now: () => new Date(Date.now() + offsetMs) })
    await skewed.start()
    try {
      const kc = new KubeConfig()
      kc.loadFromString(skewed.kubeconfig())
      const http = new KubeHttp(kc, 'kube-job-wait-test', 5_000)
      await http.listAll(PODS, {}, 'list pods')
      return http.serverClockSkewMs
    } finally {
      await skewed.stop()
    }
  }
  test('a server 2 minutes behind: the skew, to the second', async () => {
    expect(Math.abs((await skewWith(-120_000)) + 120_000)).toBeLessThanOrEqual(1_000)
  })
  test('under a second (the header has whole seconds): none', async () => {
    for (const offset of [0, 0, 0, 300, -300]) expect(await skewWith(offset)).toBe(0)
  })
})
