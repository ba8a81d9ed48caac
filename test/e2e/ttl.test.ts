// Jobs deleted by the TTL controller (ttlSecondsAfterFinished: 0) right after
// they finish, and which path told the action how they ended. The `job`
// output says it: a condition seen on the live Job (deleted: false); the
// object of the watch's DELETED event, which carries the final status
// (deleted: true, the end condition in `conditions`, inferred: null); or,
// when the Job was gone before the action could see it again, the Job
// controller's events (deleted: true, no end condition, `inferred` says
// which and from where).
//
// On the real control plane the Job controller writes SuccessCriteriaMet or
// FailureTarget before Complete or Failed, and the TTL controller deletes the
// Job only after that: the action, which decides on each event, decides on
// the live Job. Measured here: even with the proxy below frozen until the Job
// was deleted, then thawed, the held events were decided on one by one and
// the first final condition won. The DELETED path is left to the fake
// server's tests (action.test.ts), where the Job can go without a MODIFIED
// event first.
//
// For the events path the action reaches the API server through a TCP proxy
// (support/proxy.ts); the control plane does not. The proxy is frozen while
// the Job finishes and is deleted, then its connections are cut: the action
// has to list again, finds no Job, and only the Job controller's events are
// left.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { expectResult, runAction, type ActionRun } from './support/action.js'
import { APISERVER_PORT, NS, cleanup, createJob, getJob, uniqueName, until } from './support/cluster.js'
import { startProxy, type Proxy } from './support/proxy.js'

let proxy: Proxy
beforeAll(async () => {
  proxy = await startProxy(APISERVER_PORT)
})
afterAll(() => proxy.close())
afterEach(async () => {
  proxy.thaw()
  await cleanup()
})

type End = 'Complete' | 'Failed'

/** A Job with ttlSecondsAfterFinished 0 whose one pod runs 3 s, then exits 0 or 3 (backoffLimit 0). */
async function ttlJob(prefix: string, end: End) {
  const name = uniqueName(prefix)
  const job = await createJob({
    name,
    ttlSecondsAfterFinished: 0,
    backoffLimit: 0,
    sim: { 'run-ms': '3000', 'exit-code': end === 'Complete' ? '0' : '3' }
  })
  return job
}

/**
 * Runs `condition: Complete` through the proxy; once the action has seen the
 * Job unfinished, freezes the proxy until the Job is gone, then cuts every
 * connection and lets the action connect again.
 */
async function waitCutOff(name: string): Promise<{ run: ActionRun; atCut: number }> {
  const lines: { t: number; line: string }[] = []
  let ended = false
  const running = runAction({
    inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '60s' },
    server: `https://127.0.0.1:${proxy.port}`,
    lines
  }).finally(() => (ended = true))
  await until(`the action sees ${name} unfinished`, async () => lines.some((l) => l.line.includes(`job ${NS}/${name} not Complete yet`)))
  proxy.freeze()
  // the pod ends ~3 s after it started, the Job's end ~1 s later, the TTL controller's deletion at once
  await until(`job ${name} deleted by the TTL controller`, async () => (await getJob(name)) === undefined, 30_000, 250)
  // still waiting: it saw nothing of the end (else the path would not be the one under test)
  expect(ended).toBe(false)
  const atCut = proxy.connections()
  proxy.cut()
  proxy.thaw()
  return { run: await running, atCut }
}

const trueTypes = (run: ActionRun) => (run.job?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type)
const endTypes = (run: ActionRun) => trueTypes(run).filter((t) => t === 'Complete' || t === 'Failed')

describe('ttlSecondsAfterFinished 0: decided from the live Job, which the TTL controller then deletes', () => {
  test.each<[End, 'met' | 'failed', string]>([
    ['Complete', 'met', 'SuccessCriteriaMet'],
    ['Failed', 'failed', 'FailureTarget']
  ])('the Job ends %s: %s on its first final condition, deleted: false, nothing inferred', async (end, result, first) => {
    const job = await ttlJob(end === 'Complete' ? 'ttlok' : 'ttlfail', end)
    const run = await runAction({ inputs: { job: job.name, namespace: NS, condition: 'Complete', timeout: '60s' } })
    expectResult(run, result)
    expect(run.stdout).toContain(`job ${NS}/${job.name} not Complete yet: 1 active`)
    expect(run.message).toMatch(
      end === 'Complete'
        ? new RegExp(`^job ${NS}/${job.name} completed \\((SuccessCriteriaMet|Complete)\\): `)
        : new RegExp(`^job ${NS}/${job.name} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`)
    )
    // the condition on the live Job decided: the earliest final word, set by the API server, not inferred
    expect(run.job).toMatchObject({ name: job.name, uid: job.uid, deleted: false })
    expect(trueTypes(run)).toContain(first)
    expect(run.stdout).not.toMatch(/deleted before its end was seen/)
    expect(run.job).toHaveProperty('inferred', null)
    // and the TTL controller did delete the Job
    await until(`job ${job.name} deleted by the TTL controller`, async () => (await getJob(job.name)) === undefined, 15_000)
  })
})

describe('the end learned only after the Job is gone: from the Job controller’s events', () => {
  test.each<[End, 'met' | 'failed', RegExp]>([
    ['Complete', 'met', /completed/],
    ['Failed', 'failed', /BackoffLimitExceeded/]
  ])('the watch cut while the Job ends %s and is deleted: %s, inferred from events', async (end, result, message) => {
    const job = await ttlJob(end === 'Complete' ? 'goneok' : 'gonefail', end)
    const { run, atCut } = await waitCutOff(job.name)
    expectResult(run, result)
    expect(run.message).toMatch(message)
    // it did connect again after the cut
    expect(proxy.connections()).toBeGreaterThan(atCut)
    expect(run.job).toMatchObject({ name: job.name, uid: job.uid, deleted: true })
    // The API server never told the action that the Job ended: its conditions
    // must not say so; what the events say is kept apart, as inferred.
    expect({ endConditions: endTypes(run), inferred: run.job!.inferred }).toEqual({
      endConditions: [],
      inferred: expect.objectContaining({ type: end, reason: expect.any(String), source: 'events' })
    })
  })
})
