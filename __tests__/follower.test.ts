// logs: follow, failed and none in-process against the Kubernetes-shaped
// server: what is read, what is said when logs cannot be read, and that the
// verdict never waits for them.
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
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
