// Cancelling a run, as the runner does it: SIGINT, then SIGTERM 7.5 s later,
// then SIGKILL 2.5 s after that. The step must write its outputs and summary
// and exit on the first signal, well inside the window (here: within 2 s).
import { afterEach, beforeEach, expect, test } from '@jest/globals'
import { FakeApiServer } from './support/fake-apiserver.js'
import { runDist, type DistRun } from './support/run-dist.js'
import { failures, stackFrames } from './support/step.js'

const NS = 'ci'
const EXIT_WITHIN_MS = 2_000
let server: FakeApiServer

beforeEach(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
})
afterEach(async () => {
  await server.stop()
})

const inputs = (extra: Record<string, string> = {}) => ({
  job: 'build',
  namespace: NS,
  kubeconfig: server.kubeconfig(),
  timeout: '10m',
  'log-lines': '30',
  ...extra
})

/**
 * Starts the step, waits until `ready` says it is waiting, then signals it as
 * the runner does: `first`, and SIGTERM 7.5 s later if it is still running.
 * Resolves with the run and how long after the first signal it ended.
 */
async function cancelWhen(o: {
  inputs: Record<string, string>
  ready: () => Promise<unknown>
  first: NodeJS.Signals
}): Promise<DistRun & { afterSignalMs: number }> {
  let pid = 0
  let exited = false
  const done = runDist({ inputs: o.inputs, onStart: (p) => (pid = p), killAfterMs: 20_000 }).finally(() => (exited = true))
  await o.ready()
  const signalled = Date.now()
  process.kill(pid, o.first)
  const term = setTimeout(() => {
    if (!exited && o.first !== 'SIGTERM') process.kill(pid, 'SIGTERM')
  }, 7_500)
  try {
    const r = await done
    return { ...r, afterSignalMs: Date.now() - signalled }
  } finally {
    clearTimeout(term)
  }
}

function expectCancelled(r: DistRun & { afterSignalMs: number }): void {
  expect(r.afterSignalMs).toBeLessThan(EXIT_WITHIN_MS)
  // It exited by itself (not killed by the signal), failing the step.
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null })
  expect(r.outputs.result).toBe('cancelled')
  expect(r.outputs.message).toMatch(/^cancelled after \d/)
  expect(failures(r.stdout)).toEqual([r.outputs.message])
  expect(r.summary).toContain(`${NS}/build`)
  expect(r.summary).toContain('cancelled')
  expect(stackFrames(r.stdout + r.stderr)).toEqual([])
}

test('SIGINT, then SIGTERM 7.5 s later (the runner): outputs and summary written, exit within 2 s of the SIGINT', async () => {
  const job = server.createJob(NS, { metadata: { name: 'build' } })
  const pod = server.createPodForJob(job).metadata.name
  server.setPodWaiting(NS, pod, 'ContainerCreating')
  const r = await cancelWhen({
    inputs: inputs(),
    ready: () => server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 }),
    first: 'SIGINT'
  })
  expectCancelled(r)
  expect(r.outputs.message).toMatch(new RegExp(`^cancelled after [\\d.]+m?s: 0 of 1 pod Running$`))
  expect(JSON.parse(r.outputs.phases)).toEqual({ [pod]: 'Pending' })
  expect(JSON.parse(r.outputs.job)).toMatchObject({ name: 'build', namespace: NS })
})

test('SIGTERM alone: the same', async () => {
  const job = server.createJob(NS, { metadata: { name: 'build' } })
  server.createPodForJob(job)
  const r = await cancelWhen({
    inputs: inputs({ condition: 'Complete' }),
    ready: () => server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 }),
    first: 'SIGTERM'
  })
  expectCancelled(r)
  expect(r.outputs.message).toMatch(/^cancelled after [\d.]+m?s: /)
})

test('cancelled while the first request is still unanswered: outputs and summary all the same', async () => {
  server.hang({ resource: 'jobs', verb: 'list' })
  const r = await cancelWhen({
    inputs: inputs(),
    ready: () => server.waitForRequest({ resource: 'jobs', verb: 'list' }, { timeoutMs: 10_000 }),
    first: 'SIGINT'
  })
  expectCancelled(r)
  expect(r.outputs.message).toMatch(/^cancelled after [\d.]+m?s$/)
  expect(r.outputs.job).toBe('null')
})

test('cancelled while the logs of a failed Job are being read for the report: the failure is still reported, at once', async () => {
  const job = server.createJob(NS, { metadata: { name: 'build' } })
  const pod = server.createPodForJob(job).metadata.name
  server.startPod(NS, pod)
  server.finishPod(NS, pod, { exitCode: 1 })
  server.hang({ resource: 'pods/log' })
  server.hang({ resource: 'events' })
  server.updateJobStatus(NS, 'build', {
    failed: 1,
    conditions: [
      { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
    ]
  })
  const r = await cancelWhen({
    inputs: inputs({ phase: 'Succeeded' }),
    ready: () => server.waitForRequest((q) => q.resource === 'pods/log' || q.resource === 'events', { timeoutMs: 10_000 }),
    first: 'SIGINT'
  })
  expect(r.afterSignalMs).toBeLessThan(EXIT_WITHIN_MS)
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null })
  expect(r.outputs.result).toBe('failed')
  expect(r.outputs.message).toMatch(/^job ci\/build failed: BackoffLimitExceeded/)
  expect(r.summary).toContain('BackoffLimitExceeded')
})
