// How one watch stream is read (src/kube/watch.ts): lines that span chunks,
// split UTF-8, the idle rule, and no timer work per chunk (a large Job's watch
// brings thousands of chunks). Real KubeHttp over HTTP/1.1 to a server whose
// chunking the test controls.
import { afterEach, expect, jest, test } from '@jest/globals'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'
import { KubeHttp } from '../src/kube/http.js'
import { watchStream, type WatchEvent } from '../src/kube/watch.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let server: http.Server | undefined
let kube: KubeHttp | undefined
afterEach(async () => {
  await kube?.close()
  server?.closeAllConnections()
  await new Promise((r) => (server ? server.close(r) : r(undefined)))
  server = kube = undefined
})

/** A server answering every request with `body`'s writes (strings or bytes), `gapMs` apart. */
async function serve(writes: (string | Buffer)[], gapMs: number, end = true): Promise<KubeHttp> {
  server = http.createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.flushHeaders()
    for (const w of writes) {
      res.write(w)
      await sleep(gapMs)
    }
    if (end) res.end()
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c'
  })
  kube = new KubeHttp(kc, 'test', 10_000)
  return kube
}

const pod = (i: number) => JSON.stringify({ type: 'ADDED', object: { metadata: { name: `p-${i}` } } })

test('lines that span chunks, a UTF-8 character split between chunks, CRLF and blank lines', async () => {
  const line = Buffer.from(JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: 'é-😀' } } }) + '\r\n\n')
  const at = line.indexOf(Buffer.from('😀')) + 2 // inside the 4-byte sequence
  const h = await serve(
    [pod(1).slice(0, 10), pod(1).slice(10) + '\n' + pod(2).slice(0, 5), pod(2).slice(5) + '\n', line.subarray(0, at), line.subarray(at)],
    5
  )
  const seen: WatchEvent[] = []
  const end = await watchStream(h, '/api/v1/pods', {}, 'pods', (e) => seen.push(e), {
    idleTimeoutMs: 5_000,
    signal: new AbortController().signal
  })
  expect(end).toEqual({ kind: 'closed' })
  expect(seen.map((e) => e.object.metadata.name)).toEqual(['p-1', 'p-2', 'é-😀'])
})

test('a line that is not JSON ends the watch with its error', async () => {
  const h = await serve([pod(1) + '\n{"type":', 'oops\n' + pod(2) + '\n'], 5, false)
  const seen: WatchEvent[] = []
  const end = await watchStream(h, '/api/v1/pods', {}, 'pods', (e) => seen.push(e), {
    idleTimeoutMs: 5_000,
    signal: new AbortController().signal
  })
  expect(end.kind).toBe('error')
  expect(end.kind === 'error' && end.error.message).toBe('pods: the watch sent a line that is not JSON')
  expect(seen.map((e) => e.object.metadata.name)).toEqual(['p-1'])
})

test('bytes keep the watch alive; silence for the idle timeout stalls it', async () => {
  // 8 lines 100 ms apart outlast a 300 ms idle timeout many times over; then silence.
  const h = await serve(
    Array.from({ length: 8 }, (_, i) => pod(i) + '\n'),
    100,
    false
  )
  const seen: WatchEvent[] = []
  const t0 = Date.now()
  let lastAt = 0
  const end = await watchStream(
    h,
    '/api/v1/pods',
    {},
    'pods',
    (e) => {
      seen.push(e)
      lastAt = Date.now()
    },
    { idleTimeoutMs: 300, signal: new AbortController().signal }
  )
  expect(end).toEqual({ kind: 'stalled' })
  expect(seen).toHaveLength(8)
  expect(lastAt - t0).toBeGreaterThanOrEqual(700)
  const after = Date.now() - lastAt
  expect(after).toBeGreaterThanOrEqual(290)
  expect(after).toBeLessThan(1_000)
})

test('the idle rule costs no timer per chunk', async () => {
  const chunks = 100
  const h = await serve(
    Array.from({ length: chunks }, (_, i) => pod(i) + '\n'),
    5
  )
  const spy = jest.spyOn(globalThis, 'setTimeout')
  try {
    const seen: WatchEvent[] = []
    const end = await watchStream(h, '/api/v1/pods', {}, 'pods', (e) => seen.push(e), {
      idleTimeoutMs: 60_000,
      signal: new AbortController().signal
    })
    expect(end).toEqual({ kind: 'closed' })
    expect(seen).toHaveLength(chunks)
    // The test server's own gaps between writes are timers too.
    const ours = spy.mock.calls.filter(([, ms]) => ms === 60_000).length
    expect(ours).toBeLessThanOrEqual(2)
  } finally {
    spy.mockRestore()
  }
})
