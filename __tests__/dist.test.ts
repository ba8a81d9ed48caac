// The bundle as the runner runs it: `node dist/index.js` on Node 24 (the
// jest process's own node, from the `node` devDependency), inputs as INPUT_*
// variables, outputs and the job summary written to the files the runner
// hands over. Proves that the ESM bundle loads and that every way a wait ends
// reaches the runner: exit code, ::error:: / ::notice:: lines, outputs, summary.
import { describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'
import { DIST, runDist, type DistRun } from './support/run-dist.js'
import { commands, failures, stackFrames } from './support/step.js'

const NS = 'ci'
/** Each test its own fake API server: the tests run concurrently. */
async function withServer(fn: (server: FakeApiServer) => Promise<void>): Promise<void> {
  const server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
  try {
    await fn(server)
  } finally {
    await server.stop()
  }
}

function inputs(server: FakeApiServer, extra: Record<string, string> = {}): Record<string, string> {
  // The defaults action.yml gives; the runner passes them as INPUT_* too.
  return {
    job: 'build',
    namespace: NS,
    kubeconfig: server.kubeconfig(),
    timeout: '20s',
    match: 'at-least',
    mode: 'watch',
    'poll-interval': '2s',
    'pod-error-grace': '60s',
    'log-lines': '30',
    ...extra
  }
}

function jobWithPod(server: FakeApiServer): { job: KubeObject; pod: KubeObject } {
  const job = server.createJob(NS, { metadata: { name: 'build' } })
  return { job, pod: server.createPodForJob(job) }
}

/** What every run must have: outputs written, one failure line unless met, no stack trace shown. */
function expectWellFormed(r: DistRun, result: string, ns = NS): void {
  expect(r.signal).toBeNull()
  expect(r.outputs.result).toBe(result)
  expect(Object.keys(r.outputs).sort()).toEqual([
    'count',
    'created',
    'deleted',
    'elapsed',
    'exit-code',
    'job',
    'jobs',
    'message',
    'phases',
    'pods',
    'result'
  ])
  expect(r.outputs.message).not.toMatch(/\n/)
  expect(stackFrames(r.stdout)).toEqual([])
  expect(stackFrames(r.stderr)).toEqual([])
  expect(r.stderr).toBe('')
  if (result === 'met') {
    expect(r.code).toBe(0)
    expect(failures(r.stdout)).toEqual([])
  } else {
    expect(r.code).toBe(1)
    expect(failures(r.stdout)).toEqual([r.outputs.message])
  }
  expect(r.summary).toContain(`${ns}/build`)
  expect(r.summary).toContain(result)
}

test('the bundle is an ES module run by Node 24', () => {
  expect(process.versions.node.split('.')[0]).toBe('24')
  expect(JSON.parse(fs.readFileSync(new URL('../dist/package.json', import.meta.url), 'utf8'))).toMatchObject({ type: 'module' })
  // one bundle, run as it is: no second entry point, no compile cache in a folder shared with other users
  const entry = fs.readFileSync(DIST, 'utf8')
  expect(Buffer.byteLength(entry)).toBeGreaterThan(100_000)
  expect(/action\/index\.js|enableCompileCache|compile-cache/.test(entry)).toBe(false)
  expect(fs.existsSync(new URL('../dist/action', import.meta.url))).toBe(false)
})

describe('dist/index.js against the fake API server', () => {
  test.concurrent('met: exit 0, a notice, outputs and summary', () =>
    withServer(async (server) => {
      const { pod } = jobWithPod(server)
      const done = runDist({ inputs: inputs(server) })
      await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 })
      server.startPod(NS, pod.metadata.name)
      const r = await done
      expectWellFormed(r, 'met')
      expect(r.outputs.message).toBe('1 of 1 pod Running')
      expect(r.outputs.count).toBe('1')
      expect(JSON.parse(r.outputs.phases)).toEqual({ [pod.metadata.name]: 'Running' })
      expect(JSON.parse(r.outputs.pods)).toEqual([
        expect.objectContaining({ name: pod.metadata.name, phase: 'Running', node: 'node-1', restarts: 0 })
      ])
      expect(JSON.parse(r.outputs.job)).toMatchObject({
        name: 'build',
        namespace: NS,
        uid: pod.metadata.ownerReferences[0].uid,
        deleted: false
      })
      expect(Number(r.outputs.elapsed)).toBeGreaterThan(0)
      const notices = commands(r.stdout).filter((c) => c.name === 'notice')
      expect(notices).toEqual([{ name: 'notice', props: `title=kube-job-wait: ${NS}/build`, data: '1 of 1 pod Running' }])
      expect(r.stdout).toMatch(
        new RegExp(`^Waiting for pods Running of job ${NS}/build \\(timeout 20s; credentials: input, server ${server.url}\\)$`, 'm')
      )
      expect(r.summary).toContain('1 of 1 pod Running')
    })
  )

  test.concurrent('failed: the Job reaches FailureTarget; exit 1 and the reason on the ::error:: line', () =>
    withServer(async (server) => {
      const { pod } = jobWithPod(server)
      server.setLog(NS, pod.metadata.name, 'main', 'starting\nerror: database unreachable\n')
      const done = runDist({ inputs: inputs(server, { phase: 'Succeeded', timeout: '10m' }) })
      await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 })
      server.startPod(NS, pod.metadata.name)
      server.finishPod(NS, pod.metadata.name, { exitCode: 2 })
      server.updateJobStatus(NS, 'build', {
        failed: 1,
        conditions: [
          { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
        ]
      })
      const r = await done
      expectWellFormed(r, 'failed')
      expect(r.ms).toBeLessThan(10_000)
      expect(r.outputs.message).toBe(
        `job ${NS}/build failed: BackoffLimitExceeded: Job has reached the specified backoff limit (${pod.metadata.name} Failed (Error, exit code 2))`
      )
      expect(failures(r.stdout)).toEqual([r.outputs.message])
      expect(JSON.parse(r.outputs.job).conditions).toEqual([
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
      ])
      expect(r.outputs.count).toBe('0')
      // The failing pod's log reaches the summary (the diagnosis).
      expect(r.summary).toContain('error: database unreachable')
    })
  )

  test.concurrent('timeout: exit 1, what was still missing', () =>
    withServer(async (server) => {
      const { pod } = jobWithPod(server)
      server.setPodWaiting(NS, pod.metadata.name, 'ContainerCreating')
      const r = await runDist({ inputs: inputs(server, { timeout: '1500ms' }) })
      expectWellFormed(r, 'timeout')
      expect(r.outputs.message).toBe(`timed out: 0 of 1 pod Running after 1.5s: ${pod.metadata.name} Pending (ContainerCreating)`)
      expect(Number(r.outputs.elapsed)).toBeGreaterThanOrEqual(1.5)
      expect(r.ms).toBeLessThan(8_000)
    })
  )

  test.concurrent('error: a namespace that does not exist; exit 1, outputs still written', () =>
    withServer(async (server) => {
      const r = await runDist({ inputs: inputs(server, { namespace: 'nope' }) })
      expectWellFormed(r, 'error', 'nope')
      expect(r.outputs.message).toBe(`namespace "nope" not found: check the 'namespace' input or the kubeconfig context's namespace`)
      expect(r.outputs.job).toBe('null')
      expect(r.outputs.phases).toBe('{}')
    })
  )

  test.concurrent('condition Complete: met when the Job completes', () =>
    withServer(async (server) => {
      const { pod } = jobWithPod(server)
      const done = runDist({ inputs: inputs(server, { condition: 'Complete' }) })
      await server.waitForWatch({ resource: 'jobs' }, { timeoutMs: 10_000 })
      server.finishPod(NS, pod.metadata.name)
      server.finishJob(NS, 'build', { outcome: 'Complete' })
      const r = await done
      expectWellFormed(r, 'met')
      expect(r.outputs.count).toBe('0')
      expect(JSON.parse(r.outputs.job).conditions.map((c: { type: string }) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete'])
    })
  )
})
