// logs: follow, failed and none in-process against the Kubernetes-shaped
// server: what is read, what is said when logs cannot be read, and that the
// verdict never waits for them.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { KubeConfig } from '@kubernetes/client-node'
import * as core from '../__fixtures__/core.js'
import { KubeHttp } from '../src/kube/http.js'
import type { PodPhase, Snapshot } from '../src/model.js'
import { CONFIRM_MS, LogFollower, nextStep, type FollowerOptions, type View } from '../src/observe/logs/follower.js'
import { LogResume } from '../src/observe/logs/resume.js'
import { ContainerLog, LogReader, parseLogQuery, serveLog } from '../test/cluster/sim-logs.js'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'

jest.unstable_mockModule('@actions/core', () => core)
const { run } = await import('../src/main.js')

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

function start(extra: Record<string, string>, user = 'admin') {
  core.reset({ job: 'build', namespace: NS, kubeconfig: server.kubeconfig(user), timeout: '20s', ...extra })
  return run(TIMING)
}
const info = () => core.state.log.filter((l) => l.level === 'info').map((l) => l.message)
const logRequests = () => server.requestsMatching({ resource: 'pods/log' })

function onePod(): { job: KubeObject; name: string } {
  const job = server.createJob(NS, { metadata: { name: 'build' } })
  const pod = server.createPodForJob(job)
  server.setLog(NS, pod.metadata.name, 'main', 'one\ntwo\nthree\n')
  return { job, name: pod.metadata.name }
}

function failJob(name: string): void {
  server.finishPod(NS, name, { exitCode: 3 })
  server.updateJobStatus(NS, 'build', {
    failed: 1,
    conditions: [
      { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
    ]
  })
}

describe('logs: follow', () => {
  test('a failing pod: its lines streamed once with their prefix; the report tail is what was streamed, not read again', async () => {
    const { name } = onePod()
    const done = start({ condition: 'Complete', logs: 'follow' })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 5_000 })
    server.startPod(NS, name)
    await server.waitForRequest({ resource: 'pods/log', status: 200 }, { timeoutMs: 5_000 })
    failJob(name)
    const o = await done
    expect(o.result).toBe('failed')
    expect(info().filter((l) => l.startsWith(`[${name}/main] `))).toEqual([
      `[${name}/main] one`,
      `[${name}/main] two`,
      `[${name}/main] three`
    ])
    // every read asked for timestamps, none for a tail
    expect(logRequests().every((r) => r.query.timestamps === 'true' && r.query.tailLines === undefined)).toBe(true)
    expect(o.diagnosis?.evidence[0]?.log?.lines).toEqual(['one', 'two', 'three'])
  })

  test('a container first seen after 4 restarts: 3 instances said missed, the previous one read (previous=true), marked', async () => {
    const job = server.createJob(NS, { metadata: { name: 'build' } })
    const name = server.createPodForJob(job).metadata.name
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
    const o = await start({ phase: 'Succeeded', logs: 'follow' })
    expect(o.result).toBe('failed')
    expect(info().filter((l) => l.startsWith(`[${name}/`))).toEqual([
      `[${name}/main restart 3] --- 3 earlier instances not shown: the kubelet keeps only the last one ---`,
      `[${name}/main restart 3] --- restart 3: the container's instance 4 ---`,
      `[${name}/main restart 3] attempt 4: boom`
    ])
    expect(logRequests().map((r) => r.query.previous)).toEqual(['true'])
    // the report's tail of the previous instance is the streamed one
    expect(o.diagnosis?.evidence[0]?.log).toMatchObject({ previous: true, lines: ['attempt 4: boom'] })
  })

  test('an init container, a native sidecar and the main container: each streamed once it started, with its own prefix', async () => {
    const job = server.createJob(NS, {
      metadata: { name: 'build' },
      spec: {
        template: {
          spec: {
            initContainers: [
              { name: 'migrate', image: 'busybox' },
              { name: 'proxy', image: 'busybox', restartPolicy: 'Always' }
            ],
            containers: [{ name: 'main', image: 'busybox' }]
          }
        }
      }
    })
    const name = server.createPodForJob(job).metadata.name
    server.setLog(NS, name, 'migrate', 'migrating\n')
    server.setLog(NS, name, 'proxy', 'proxy up\n')
    server.setLog(NS, name, 'main', 'working\n')
    const done = start({ condition: 'Complete', logs: 'follow' })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 5_000 })
    server.schedulePod(NS, name)
    const cs = (n: string, state: KubeObject) => ({
      name: n,
      image: 'busybox',
      imageID: '',
      containerID: `containerd://${n}`,
      ready: false,
      restartCount: 0,
      state
    })
    const ts = new Date().toISOString()
    // the init container runs and ends; then the sidecar starts, then main
    server.updatePodStatus(NS, name, {
      phase: 'Pending',
      initContainerStatuses: [cs('migrate', { running: { startedAt: ts } }), cs('proxy', { waiting: { reason: 'PodInitializing' } })]
    })
    await server.waitForRequest({ resource: 'pods/log', status: 200 }, { timeoutMs: 5_000 })
    server.updatePodStatus(NS, name, {
      phase: 'Running',
      initContainerStatuses: [
        cs('migrate', {
          terminated: { exitCode: 0, reason: 'Completed', startedAt: ts, finishedAt: ts, containerID: 'containerd://migrate' }
        }),
        cs('proxy', { running: { startedAt: ts } })
      ],
      containerStatuses: [cs('main', { running: { startedAt: ts } })]
    })
    await server.waitForRequest({ resource: 'pods/log', status: 200 }, { count: 3, timeoutMs: 5_000 })
    server.finishPod(NS, name)
    server.finishJob(NS, 'build', { outcome: 'Complete' })
    expect((await done).result).toBe('met')
    const shown = info().filter((l) => l.startsWith(`[${name}/`))
    expect(new Set(shown)).toEqual(new Set([`[${name}/migrate] migrating`, `[${name}/proxy] proxy up`, `[${name}/main] working`]))
    expect(shown).toHaveLength(3)
  })

  test('a line of 20,000 characters is cut at 4,096 and says so; the next line is whole', async () => {
    const job = server.createJob(NS, { metadata: { name: 'build' } })
    const name = server.createPodForJob(job).metadata.name
    server.setLog(NS, name, 'main', `${'x'.repeat(20_000)}\nafter\n`)
    const done = start({ condition: 'Complete', logs: 'follow' })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 5_000 })
    server.startPod(NS, name)
    await server.waitForRequest({ resource: 'pods/log', status: 200 }, { timeoutMs: 5_000 })
    server.finishPod(NS, name)
    server.finishJob(NS, 'build', { outcome: 'Complete' })
    expect((await done).result).toBe('met')
    const shown = info().filter((l) => l.startsWith(`[${name}/main] `))
    expect(shown).toEqual([`[${name}/main] ${'x'.repeat(4096)} … [line cut at 4096 characters]`, `[${name}/main] after`])
  })

  test('without the pods/log right: one line saying so, the verdict on time, the note in the report', async () => {
    server.addUser('nolog', ['get,list,watch jobs', 'get,list,watch pods', 'list events'])
    const { name } = onePod()
    const done = start({ condition: 'Complete', logs: 'follow' }, 'nolog')
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 5_000 })
    server.startPod(NS, name)
    await server.waitForRequest({ resource: 'pods/log' }, { timeoutMs: 5_000 })
    const t0 = Date.now()
    failJob(name)
    const o = await done
    expect(o.result).toBe('failed')
    expect(Date.now() - t0).toBeLessThan(2_000)
    // said once while waiting (and once more among the report's notes at the end)
    const lines = info()
    const said = lines.filter((l) => l.includes('no permission to get pods/log'))
    expect(said[0]).toBe('no permission to get pods/log in namespace ci: logs not shown (grant get on pods/log)')
    const progress = lines.findIndex((l) => l.includes('BackoffLimitExceeded'))
    expect(lines.slice(0, progress).filter((l) => l.includes('no permission to get pods/log'))).toHaveLength(1)
    expect(logRequests()).toHaveLength(1)
    expect(o.diagnosis?.notes).toContain('no permission to get pods/log in namespace ci: logs not shown (grant get on pods/log)')
  })

  test('credentials refused (401) on a log read: said as refused credentials, not a missing right; retried, the lines shown', async () => {
    const { name } = onePod()
    server.nextResponses({ resource: 'pods/log' }, [{ status: 401 }, { status: 401 }, { status: 401 }])
    const done = start({ condition: 'Complete', logs: 'follow' })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 5_000 })
    server.startPod(NS, name)
    await server.waitForRequest({ resource: 'pods/log', status: 200 }, { timeoutMs: 15_000 })
    failJob(name)
    const o = await done
    expect(o.result).toBe('failed')
    const lines = info()
    expect(lines.filter((l) => l.startsWith(`[${name}/main] `))).toEqual([
      `[${name}/main] one`,
      `[${name}/main] two`,
      `[${name}/main] three`
    ])
    expect(lines.filter((l) => l.includes('no permission'))).toEqual([])
    const said = lines.filter((l) => l.includes('refused the credentials'))
    expect(said[0]).toBe(
      'reading a log: the API server refused the credentials (401 Unauthorized): the token or certificate is wrong or expired; retrying'
    )
    expect(o.diagnosis?.notes).toContain(said[0])
  })

  test('a kubelet the API server cannot reach (500 "dial tcp ...:10250" after a long wait): said once, retried, the verdict not delayed', async () => {
    const { name } = onePod()
    const unreachable = {
      status: 500,
      reason: 'InternalError',
      message: 'Get "https://10.0.0.7:10250/containerLogs/ci/x/main?follow=true": dial tcp 10.0.0.7:10250: i/o timeout',
      delayMs: 1_500
    }
    server.nextResponses(
      { resource: 'pods/log' },
      Array.from({ length: 20 }, () => unreachable)
    )
    const done = start({ condition: 'Complete', logs: 'follow', timeout: '30s' })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 5_000 })
    server.startPod(NS, name)
    // two attempts fail; then the Job completes while the kubelet is still out of reach
    await server.waitForRequest({ resource: 'pods/log', status: 500 }, { count: 2, timeoutMs: 10_000 })
    const t0 = Date.now()
    server.finishPod(NS, name)
    server.finishJob(NS, 'build', { outcome: 'Complete' })
    const o = await done
    expect(o.result).toBe('met')
    // no drain for a kubelet out of reach: the report right after the verdict
    expect(Date.now() - t0).toBeLessThan(1_500)
    const said = info().filter((l) => l.includes('cannot reach the kubelet'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('dial tcp 10.0.0.7:10250: i/o timeout')
  })
})

describe('logs: none and failed', () => {
  test('none: not one pods/log request, even for a failure', async () => {
    const { name } = onePod()
    const done = start({ condition: 'Complete', logs: 'none' })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 5_000 })
    server.startPod(NS, name)
    failJob(name)
    const o = await done
    expect(o.result).toBe('failed')
    expect(logRequests()).toEqual([])
    expect(o.diagnosis?.evidence[0]?.log).toBeUndefined()
  })

  test('failed (the default): nothing streamed, the tail read once for the report', async () => {
    const { name } = onePod()
    const done = start({ condition: 'Complete' })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 5_000 })
    server.startPod(NS, name)
    failJob(name)
    const o = await done
    expect(o.result).toBe('failed')
    expect(info().filter((l) => l.startsWith(`[${name}/`))).toEqual([])
    expect(logRequests()).toHaveLength(1)
    expect(o.diagnosis?.evidence[0]?.log?.lines).toEqual(['one', 'two', 'three'])
  })
})

// ---------------------------------------------------------------- the follower against a kubelet ahead of the status
//
// The follower alone, fed snapshots by hand, reading over HTTP through the
// real KubeHttp from a server that answers pods/log the way a kubelet does
// (test/cluster/sim-logs.ts: follow, sinceTime, timestamps), with "current"
// and "previous" taken from the runtime's instances, not from the status the
// follower is given: the status can lag, as the API server's does.

const ms = (n: number) => new Promise<void>((r) => setTimeout(r, n))
const nowNs = () => BigInt(Date.now()) * 1_000_000n

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now()
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await ms(20)
  }
}

/** The runtime of one node: each pod's container instances, and pods/log answered from them. */
class AheadKubelet {
  readonly instances = new Map<string, ContainerLog[]>()
  readonly requests: Array<{ pod: string; query: URLSearchParams }> = []
  /** answered instead of the log, in order */
  readonly canned: Array<{ status: number; message: string }> = []
  #server = createHttpServer((req, res) => this.#serve(req, res))
  /** ends an open stream cleanly, as an API server that closes it */
  readonly #open = new Set<() => void>()

  /** Every open stream ends now, cleanly (a whole HTTP response), the container still running. */
  stopStreams(): void {
    for (const end of this.#open) end()
    this.#open.clear()
  }

  async start(): Promise<KubeHttp> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r))
    const { port } = this.#server.address() as AddressInfo
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u', namespace: NS }],
      currentContext: 'x'
    })
    return new KubeHttp(kc, 'test', 5_000)
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((r) => this.#server.close(() => r()))
  }

  /** A new instance of the pod's container starts now, writing `lines` at their times (ms after its start). */
  run(pod: string, lines: Array<[number, string]>): void {
    const list = this.instances.get(pod) ?? []
    this.instances.set(pod, list)
    list.push(new ContainerLog({ writes: lines.map(([atMs, line]) => ({ atMs, lines: [line] })) }, nowNs()))
  }

  /** The pod's running instance stops now, printing `last` on the way out. */
  stop1(pod: string, last: string[] = []): void {
    this.instances.get(pod)?.at(-1)?.finish(nowNs(), last)
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const pod = /\/pods\/([^/]+)\/log$/.exec(url.pathname)?.[1] ?? ''
    this.requests.push({ pod, query: url.searchParams })
    const status = (code: number, message: string) => {
      res.writeHead(code, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code }))
    }
    const canned = this.canned.shift()
    if (canned) return status(canned.status, canned.message)
    const list = this.instances.get(pod) ?? []
    const query = parseLogQuery(url.searchParams, nowNs())
    const log = query.previous ? list.at(-2) : list.at(-1)
    if (!log) return status(400, `previous terminated container "main" in pod "${pod}" not found`)
    res.writeHead(200, { 'Content-Type': 'text/plain' })
    let cut = false
    const sink = {
      write: (b: Buffer) => res.write(b),
      end: () => res.end(),
      get destroyed() {
        return cut || res.destroyed
      },
      get writableNeedDrain() {
        return res.writableNeedDrain
      },
      on: (event: 'close', listener: () => void) => res.on(event, listener)
    }
    const stream = () => {
      cut = true
      res.end()
    }
    this.#open.add(stream)
    res.on('close', () => this.#open.delete(stream))
    serveLog(
      sink,
      new LogReader(query),
      () => {
        log.advance(nowNs())
        return log
      },
      () => false,
      nowNs
    )
  }
}

function podSnapshot(pods: Array<{ name: string; state: 'running' | 'terminated'; restartCount: number; phase?: PodPhase }>): Snapshot {
  return {
    namespace: NS,
    name: 'build',
    jobDeleted: false,
    pods: pods.map((p) => ({
      name: p.name,
      uid: `uid-${p.name}`,
      phase: p.phase ?? 'Running',
      ready: p.state === 'running',
      restarts: p.restartCount,
      containers: [
        {
          name: 'main',
          init: false,
          state: p.state,
          restartCount: p.restartCount,
          startedAt: `2026-12-05T00:00:0${p.restartCount}Z`,
          ...(p.state === 'terminated' ? { exitCode: 0, finishedAt: '2026-12-05T00:00:09Z' } : {})
        }
      ]
    }))
  }
}

describe('logs: follow, the kubelet ahead of the status', () => {
  let kubelet: AheadKubelet
  let http: KubeHttp
  let out: string[]
  let notes: string[]
  beforeEach(async () => {
    kubelet = new AheadKubelet()
    http = await kubelet.start()
    out = []
    notes = []
    followers = []
  })
  let followers: LogFollower[]
  afterEach(async () => {
    for (const f of followers) f.close()
    await http.close()
    await kubelet.stop()
  })
  const follower = (o: Partial<FollowerOptions> = {}) => {
    const f = new LogFollower({
      http,
      namespace: NS,
      maxStreams: 5,
      tailLines: 10,
      write: (lines) => out.push(...lines),
      note: (m) => notes.push(m),
      backoffMs: [20, 50],
      ...o
    })
    followers.push(f)
    return f
  }

  test('a restart the status shows 3 s late: every line once, under the instance that printed it', async () => {
    const f = follower()
    kubelet.run('p', [
      [0, 'a1'],
      [0, 'a2'],
      [100, 'a3']
    ])
    f.update(podSnapshot([{ name: 'p', state: 'running', restartCount: 0 }]))
    await until('a3 shown', () => out.includes('[p/main] a3'))
    // The first restart has no back-off: the kubelet serves the new instance as current at once.
    kubelet.stop1('p', ['a bye'])
    await ms(5) // its lines come after the last of the one before
    kubelet.run('p', [
      [0, 'b1'],
      [200, 'b2']
    ])
    // The follow of instance 0 ends about a second later; the status says "running, restartCount 0" 3 s more.
    await ms(3_000)
    f.update(podSnapshot([{ name: 'p', state: 'running', restartCount: 1 }]))
    await until('b2 shown', () => out.some((l) => l.endsWith('] b2')))
    kubelet.stop1('p', ['b bye'])
    await f.finish(true, 5_000, podSnapshot([{ name: 'p', state: 'terminated', restartCount: 1, phase: 'Succeeded' }]))
    expect(out).toEqual([
      '[p/main] a1',
      '[p/main] a2',
      '[p/main] a3',
      '[p/main] a bye',
      "[p/main restart 1] --- restart 1: the container's instance 2 ---",
      '[p/main restart 1] b1',
      '[p/main restart 1] b2',
      '[p/main restart 1] b bye'
    ])
    // the rest of instance 0 was read as the kubelet's previous, from the second of its last line shown
    const previous = kubelet.requests.filter((r) => r.query.get('previous') === 'true')
    expect(previous.length).toBeGreaterThan(0)
    expect(previous.every((r) => r.query.get('sinceTime') !== null)).toBe(true)
  })

  test('a follow that ends while the container still runs (the connection closed): resumed, nothing twice, nothing lost', async () => {
    const f = follower()
    kubelet.run('p', [
      [0, 'a1'],
      [300, 'a2'],
      [2_500, 'a3']
    ])
    f.update(podSnapshot([{ name: 'p', state: 'running', restartCount: 0 }]))
    await until('a2 shown', () => out.includes('[p/main] a2'))
    // the API server ends the stream cleanly mid-follow
    kubelet.stopStreams()
    await until('a3 shown', () => out.includes('[p/main] a3'))
    kubelet.stop1('p', ['bye'])
    await f.finish(true, 5_000, podSnapshot([{ name: 'p', state: 'terminated', restartCount: 0, phase: 'Succeeded' }]))
    expect(out).toEqual(['[p/main] a1', '[p/main] a2', '[p/main] a3', '[p/main] bye'])
  })

  test('a read in full retried many times (a kubelet out of reach): no abort listener piles up', async () => {
    // abort listeners the follower added and has not removed
    const live = new Set<unknown>()
    const realAdd = EventTarget.prototype.addEventListener
    const realRemove = EventTarget.prototype.removeEventListener
    const mine = () => /observe\/logs\/follower/.test(new Error().stack ?? '')
    const spyAdd = jest.spyOn(EventTarget.prototype, 'addEventListener').mockImplementation(function (
      this: EventTarget,
      ...a: Parameters<EventTarget['addEventListener']>
    ) {
      if (a[0] === 'abort' && mine()) live.add(a[1])
      realAdd.apply(this, a)
    })
    const spyRemove = jest.spyOn(EventTarget.prototype, 'removeEventListener').mockImplementation(function (
      this: EventTarget,
      ...a: Parameters<EventTarget['removeEventListener']>
    ) {
      live.delete(a[1])
      realRemove.apply(this, a)
    })
    try {
      const f = follower({ backoffMs: [1, 2] })
      for (let i = 0; i < 30; i++) kubelet.canned.push({ status: 500, message: 'dial tcp 10.0.0.7:10250: connect: connection refused' })
      kubelet.run('p', [[0, 'a1']])
      kubelet.stop1('p')
      f.update(podSnapshot([{ name: 'p', state: 'terminated', restartCount: 0, phase: 'Failed' }]))
      await until('the log read after 30 refusals', () => out.includes('[p/main] a1'))
      await ms(50)
      // Node warns past 10 on one signal (MaxListenersExceededWarning)
      expect(live.size).toBe(0)
      await f.finish(true, 1_000)
    } finally {
      spyAdd.mockRestore()
      spyRemove.mockRestore()
    }
    expect(kubelet.requests.length).toBe(31)
    expect(notes).toEqual([expect.stringContaining('cannot reach the kubelet')])
  })

  test('a container that waited for a stream and got one: no timer of the follower left running', async () => {
    const pending = new Map<unknown, number>()
    const realSet = globalThis.setTimeout
    const realClear = globalThis.clearTimeout
    const spySet = jest.spyOn(globalThis, 'setTimeout').mockImplementation(((
      fn: (...a: unknown[]) => void,
      delay?: number,
      ...args: unknown[]
    ) => {
      const mine = /observe\/logs\/follower/.test(new Error().stack ?? '')
      const handle: NodeJS.Timeout = realSet(() => {
        pending.delete(handle)
        fn(...args)
      }, delay)
      if (mine) pending.set(handle, delay ?? 0)
      return handle
    }) as typeof setTimeout)
    const spyClear = jest.spyOn(globalThis, 'clearTimeout').mockImplementation(((h?: NodeJS.Timeout) => {
      pending.delete(h)
      realClear(h)
    }) as typeof clearTimeout)
    try {
      const f = follower({ maxStreams: 1 })
      kubelet.run('p', [[0, 'p1']])
      kubelet.run('q', [
        [0, 'q1'],
        [1_500, 'q2']
      ])
      f.update(
        podSnapshot([
          { name: 'p', state: 'running', restartCount: 0 },
          { name: 'q', state: 'running', restartCount: 0 }
        ])
      )
      await until('a stream open', () => out.length === 1)
      await ms(200) // the other waits in line
      const first = out[0]!.startsWith('[p/') ? 'p' : 'q'
      const second = first === 'p' ? 'q' : 'p'
      kubelet.stop1(first)
      const ended = (pod: string) => ({ name: pod, state: 'terminated' as const, restartCount: 0, phase: 'Succeeded' as PodPhase })
      const running = (pod: string) => ({ name: pod, state: 'running' as const, restartCount: 0 })
      f.update(podSnapshot([first === 'p' ? ended('p') : running('p'), first === 'q' ? ended('q') : running('q')]))
      await until(`${second} followed`, () => out.some((l) => l.startsWith(`[${second}/main] ${second}1`)))
      await ms(200)
      // the one that waited is following now: the follower waits for nothing by a clock
      expect([...pending.values()]).toEqual([])
      kubelet.stop1(second)
      await f.finish(true, 5_000, podSnapshot([ended('p'), ended('q')]))
      expect([...pending.values()]).toEqual([])
    } finally {
      spySet.mockRestore()
      spyClear.mockRestore()
    }
  })
})

// ---------------------------------------------------------------- the decision alone

describe('nextStep: what a container worker does next', () => {
  const running = (restartCount: number) => ({ name: 'main', init: false, state: 'running' as const, restartCount })
  const view = (v: Partial<View>): View => ({
    status: running(0),
    podDone: false,
    podDeleted: false,
    ending: false,
    next: 0,
    shown: false,
    now: 10_000,
    ...v
  })

  test('the current instance runs: followed; ended: read in full; the one before: previous, in full', () => {
    expect(nextStep(view({}))).toEqual({ do: 'read', restart: 0, previous: false, follow: true })
    expect(nextStep(view({ status: { ...running(0), state: 'terminated' } }))).toEqual({
      do: 'read',
      restart: 0,
      previous: false,
      follow: false
    })
    expect(nextStep(view({ status: running(1) }))).toEqual({ do: 'read', restart: 0, previous: true, follow: false })
    expect(nextStep(view({ status: running(4) }))).toMatchObject({ do: 'skip', to: 3 })
  })

  test('a follow that ended on a status that still says "running": no new read of "current" until the status says why, or the replay can tell', () => {
    const ended = { kind: 'ended' as const, at: 10_000 }
    // nothing shown: nothing to check a new read by
    expect(nextStep(view({ doubt: ended, now: 10_000 + 60_000 }))).toEqual({ do: 'wait' })
    // lines shown: a while for the status, then a read that must replay the last of them
    expect(nextStep(view({ doubt: ended, shown: true, now: 10_000 + 200 }))).toEqual({ do: 'wait', ms: CONFIRM_MS - 200 })
    expect(nextStep(view({ doubt: ended, shown: true, now: 10_000 + CONFIRM_MS }))).toEqual({
      do: 'read',
      restart: 0,
      previous: false,
      follow: true
    })
    // the status moved on: what is left of instance 0 is the previous log
    expect(nextStep(view({ doubt: undefined, status: running(1), shown: true }))).toMatchObject({ previous: true, restart: 0 })
  })

  test('"current" was another instance: wait for the status; when no news can come, read what is left as previous', () => {
    const foreign = { kind: 'foreign' as const, at: 10_000 }
    expect(nextStep(view({ doubt: foreign, shown: true }))).toEqual({ do: 'wait' })
    expect(nextStep(view({ doubt: foreign, shown: true, ending: true }))).toEqual({ do: 'read', restart: 0, previous: true, follow: false })
    // a finished pod has no next instance: its log was rotated, shown as it is
    expect(nextStep(view({ doubt: foreign, shown: true, podDone: true }))).toEqual({
      do: 'read',
      restart: 0,
      previous: false,
      follow: false,
      trust: true
    })
  })

  test('shown up to the current instance: wait for a restart, or stop at the end', () => {
    expect(nextStep(view({ next: 1 }))).toEqual({ do: 'wait' })
    expect(nextStep(view({ next: 1, ending: true }))).toEqual({ do: 'stop' })
    expect(nextStep(view({ podDeleted: true }))).toMatchObject({ do: 'stop', say: expect.stringContaining('deleted') })
  })
})

describe('LogResume.replays: is a resumed stream the log that was printed?', () => {
  const line = (s: number, text: string) => `2026-12-05T00:00:0${s}.500000000Z ${text}`
  test('the same log starts at or before the last line printed; another one after it', () => {
    const r = new LogResume()
    expect(r.replays(line(1, 'a'))).toBeUndefined() // nothing printed yet
    r.accept(line(1, 'a'))
    r.accept(line(2, 'b'))
    r.reconnect()
    expect(r.replays(line(2, 'b'))).toBe(true)
    expect(r.replays(line(1, 'a'))).toBe(true)
    expect(r.replays(line(3, 'next instance'))).toBe(false)
    expect(r.replays('no timestamp')).toBeUndefined()
  })
})
