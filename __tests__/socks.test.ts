// A cluster reached through a SOCKS5 proxy (the kubeconfig's proxy-url): the
// socks package's SocksClient under KubeHttp's connection, and in the bundle,
// where the socks package is loaded only when such a proxy is used.
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import * as net from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { KubeHttp } from '../src/kube/http.js'
import { FakeApiServer } from './support/fake-apiserver.js'
import { runDist } from './support/run-dist.js'

const NS = 'ci'

/** The least of a SOCKS5 server: no authentication, CONNECT to an IPv4 address or a name. */
async function socks5(): Promise<{ port: number; connects: string[]; close: () => Promise<void> }> {
  const connects: string[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => client.destroy())
    client.once('data', () => {
      client.write(Buffer.from([5, 0])) // version 5, no authentication
      client.once('data', (req: Buffer) => {
        const atyp = req[3]
        const host = atyp === 1 ? [...req.subarray(4, 8)].join('.') : req.subarray(5, 5 + req[4]).toString()
        const port = req.readUInt16BE(req.length - 2)
        connects.push(`${host}:${port}`)
        const upstream = net.connect(port, host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
          client.pipe(upstream).pipe(client)
        })
        sockets.add(upstream)
        upstream.on('close', () => (sockets.delete(upstream), client.destroy()))
        upstream.on('error', () => client.destroy())
      })
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as net.AddressInfo).port,
    connects,
    close: async () => {
      sockets.forEach((s) => s.destroy())
      await new Promise((r) => server.close(r))
    }
  }
}

let server: FakeApiServer
let proxy: Awaited<ReturnType<typeof socks5>>
beforeAll(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
  proxy = await socks5()
})
afterAll(async () => {
  await proxy.close()
  await server.stop()
})

const kubeconfig = () =>
  server
    .kubeconfig()
    .replace('    insecure-skip-tls-verify: true', `    insecure-skip-tls-verify: true\n    proxy-url: socks5://127.0.0.1:${proxy.port}`)

test('requests go through the SOCKS5 proxy', async () => {
  const kc = new KubeConfig()
  kc.loadFromString(kubeconfig())
  expect(kc.getCurrentCluster()?.proxyUrl).toBe(`socks5://127.0.0.1:${proxy.port}`)
  const http = new KubeHttp(kc, 'test', 5_000)
  const before = proxy.connects.length
  try {
    await http.getJSON(`/api/v1/namespaces/${NS}`, {}, 'get namespace')
    await http.getJSON(`/api/v1/namespaces/${NS}`, {}, 'get namespace')
  } finally {
    await http.close()
  }
  // one connection, kept alive, for the 2 requests
  expect(proxy.connects.slice(before)).toEqual([`127.0.0.1:${new URL(server.url).port}`])
})

test('the bundle waits through the SOCKS5 proxy', async () => {
  const job = server.createJob(NS, { metadata: { name: 'build' } })
  server.startPod(NS, server.createPodForJob(job).metadata.name)
  const before = proxy.connects.length
  const r = await runDist({ inputs: { job: 'build', namespace: NS, kubeconfig: kubeconfig(), timeout: '20s' } })
  expect(r.stderr).toBe('')
  expect(r.outputs.result).toBe('met')
  expect(proxy.connects.length).toBeGreaterThan(before)
})
