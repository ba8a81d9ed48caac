// The engine without GitHub (issue 18): raw inputs, a signal and an EngineIO
// in, an Outcome and what the clean-up did out, against the fake API server
// through the real @kubernetes/client-node. @actions/* must not even load;
// the lint rule and the import graph keep it that way.
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { ESLint } from 'eslint'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'

// A face that is not GitHub: were the engine to load the toolkit, these would throw.
jest.unstable_mockModule('@actions/core', () => {
  throw new Error('the engine loaded @actions/core')
})
jest.unstable_mockModule('@actions/github', () => {
  throw new Error('the engine loaded @actions/github')
})
const { WaitRun } = await import('../src/engine.js')
type EngineIO = import('../src/engine.js').EngineIO

const ROOT = path.resolve(import.meta.dirname, '..')
const TIMING = { requestTimeoutMs: 5_000, idleTimeoutMs: 3_000, unreachableGraceMs: 1_000, tickMs: 50, heartbeatMs: 60_000 }
const NS = 'ci'
let server: FakeApiServer

beforeEach(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
})
afterEach(async () => {
  await server.stop()
})

/** Every call the engine makes to its face, in order. */
function recorder() {
  const calls: { kind: string; text: string }[] = []
  const io: EngineIO = {
    info: (text) => calls.push({ kind: 'info', text }),
    untrusted: (text) => calls.push({ kind: 'untrusted', text: typeof text === 'string' ? text : text.join('\n') }),
    warning: (text) => calls.push({ kind: 'warning', text }),
    debug: (text) => calls.push({ kind: 'debug', text }),
    secret: (text) => calls.push({ kind: 'secret', text })
  }
  const of = (kind: string) => calls.filter((c) => c.kind === kind).map((c) => c.text)
  return { io, calls, of }
}

const inputs =
  (extra: Record<string, string> = {}) =>
  (name: string): string =>
    ({ job: 'build', namespace: NS, kubeconfig: server.kubeconfig(), timeout: '20s', mode: 'watch', ...extra })[name] ?? ''

const waitForWatch = (resource: 'jobs' | 'pods') => server.waitForRequest({ resource, watch: true }, { timeoutMs: 5000 })

function jobWithPod(): { job: KubeObject; pod: string } {
  const job = server.createJob(NS, { metadata: { name: 'build' }, spec: { parallelism: 1, completions: 1 } })
  return { job, pod: server.createPodForJob(job).metadata.name }
}

describe('the engine, with a face that is not GitHub', () => {
  test('a failed Job: the Outcome as plain values, cluster text only through untrusted, the token through secret', async () => {
    const { pod } = jobWithPod()
    const { io, of } = recorder()
    const run = new WaitRun(io, TIMING)
    const done = run.wait(inputs({ phase: 'Succeeded' }), new AbortController().signal)
    await waitForWatch('pods')
    server.finishPod(NS, pod, { exitCode: 3, message: '::error::from the pod' })
    server.updateJobStatus(NS, 'build', {
      failed: 1,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
      ]
    })
    const outcome = run.complete(await done)
    run.close()
    expect(outcome).toMatchObject({ result: 'failed', namespace: NS, job: 'build', mode: 'watch' })
    expect(outcome.verdict?.problems.map((g) => g.pods.map((p) => p.name))).toEqual([[pod]])
    expect(outcome.requests).toBeGreaterThan(0)
    expect(of('secret')).toContain(server.tokenFor('admin'))
    expect(of('info')).toEqual([expect.stringMatching(/^Waiting for pods Succeeded of job ci\/build/)])
    // The pod's words are in the Outcome, for the face to render; they reach its log only where it makes them safe.
    expect(outcome.verdict?.problems[0]?.first.message).toContain('::error::from the pod')
    for (const kind of ['info', 'warning', 'debug']) expect(of(kind).join('\n')).not.toContain('from the pod')
  })

  test('progress: the face that asks for each verdict gets them instead of progress lines', async () => {
    const { pod } = jobWithPod()
    const { io, of } = recorder()
    const seen: string[] = []
    const run = new WaitRun({ ...io, progress: (overall) => seen.push(overall.state) }, TIMING)
    const done = run.wait(inputs({ phase: 'Running' }), new AbortController().signal)
    await waitForWatch('pods')
    server.startPod(NS, pod)
    expect((await done).result).toBe('met')
    run.close()
    expect(seen[0]).toBe('waiting')
    expect(seen.at(-1)).toBe('met')
    expect(of('untrusted').join('\n')).not.toMatch(/pod.* Running/)
  })

  test('a cancel ends the wait at once, with the verdict of what was seen', async () => {
    jobWithPod()
    const { io } = recorder()
    const run = new WaitRun(io, TIMING)
    const cancel = new AbortController()
    const done = run.wait(inputs({ phase: 'Running' }), cancel.signal)
    await waitForWatch('pods')
    cancel.abort()
    expect((await done).result).toBe('cancelled')
    run.close()
  })

  test('bad input: wait() throws, failed() makes it result=error with the message that names the input', async () => {
    const { io, of } = recorder()
    const run = new WaitRun(io, TIMING)
    const err = await run.wait(inputs({ timeout: 'soon' }), new AbortController().signal).catch((e: unknown) => e)
    const outcome = run.complete(run.failed(err))
    expect(outcome.result).toBe('error')
    expect(outcome.message).toMatch(/Input 'timeout'/)
    expect(of('debug').join('\n')).toMatch(/Input 'timeout'/)
    // outcome() is the same, in one call that never throws
    const again = await new WaitRun(io, TIMING).outcome(inputs({ timeout: 'soon' }), new AbortController().signal)
    expect(again).toMatchObject({ result: 'error', message: outcome.message })
  })

  test('the clean-up returns what it did, and says nothing itself', async () => {
    const { pod } = jobWithPod()
    const { io, calls } = recorder()
    const run = new WaitRun(io, TIMING)
    const done = run.wait(inputs({ phase: 'Succeeded', delete: 'always' }), new AbortController().signal)
    await waitForWatch('pods')
    server.finishPod(NS, pod, { exitCode: 0 })
    const outcome = run.complete(await done)
    expect(run.deletes(outcome)).toBe(true)
    const before = calls.length
    expect(await run.cleanUp(outcome)).toEqual({ deleted: ['ci/build'], kept: [], failures: [] })
    expect(calls.length).toBe(before)
    run.close()
  })
})

describe('no @actions/* outside src/github/', () => {
  test('ESLint refuses @actions/* in the engine and its stages, and allows it in the GitHub face', async () => {
    const eslint = new ESLint({ cwd: ROOT })
    const code = "import * as core from '@actions/core'\nexport const x = core\n"
    for (const file of [
      'src/engine.ts',
      'src/cleanup.ts',
      'src/report/x.ts',
      'src/decide/x.ts',
      'src/text/x.ts',
      'src/index.ts',
      'src/cli/x.ts'
    ]) {
      const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) })
      // decide has a rule of its own besides (no I/O): the one that matters here must be among them.
      expect([file, result!.messages.map((m) => m.message)]).toEqual([
        file,
        expect.arrayContaining([expect.stringMatching(/@actions\/\* only in src\/github/)])
      ])
    }
    const [face] = await eslint.lintText(code, { filePath: path.join(ROOT, 'src/github/x.ts') })
    expect(face!.messages).toEqual([])
  })

  test('the import graph shows @actions/* imported by the GitHub face only', () => {
    const r = spawnSync(process.execPath, ['scripts/import-graph.mjs'], { cwd: ROOT, encoding: 'utf8' })
    expect(r.status).toBe(0)
    const importers = r.stdout
      .split('\n')
      .filter((l) => l.includes('@actions/'))
      .map((l) => l.split(' → ')[0])
    expect(importers).toEqual(['github', '@actions/* only in github'])
  })
})
