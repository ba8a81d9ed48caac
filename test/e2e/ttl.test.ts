// Jobs deleted by the TTL controller (ttlSecondsAfterFinished: 0) right after
// they finish, and which path told the action how they ended. The `job`
// output says it: a condition seen on the live Job (deleted: false); the
// object of the watch's DELETED event, which carries the final status
// (deleted: true, the end condition in `conditions`, inferred: null); or,
// when the Job was gone before the action could see it again, the Job
// controller's events (deleted: true, no end condition, `inferred` says
// which and from where).
//
// The action reaches the API server through a TCP proxy (support/proxy.ts);
// the control plane does not. Freezing the proxy while the Job finishes and
// is deleted decides the path: thawed, the held watch stream delivers the
// Job's last MODIFIED and DELETED events together; cut, the action has to
// list again, finds no Job, and only the events are left.
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

/** Runs `condition: Complete` through the proxy; freezes it once the action has seen the Job unfinished, until the Job is gone. */
async function waitCutOff(name: string, after: (p: Proxy) => void): Promise<ActionRun> {
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
  after(proxy)
  return running
}

const trueTypes = (run: ActionRun) => (run.job?.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type)
const endTypes = (run: ActionRun) => trueTypes(run).filter((t) => t === 'Complete' || t === 'Failed')

describe('ttlSecondsAfterFinished 0: the verdict from the DELETED event', () => {
  test.each<[End, 'met' | 'failed']>([
    ['Complete', 'met'],
    ['Failed', 'failed']
  ])(
    'the Job ends %s and is deleted while the stream is held: %s, deleted: true, the end condition from the object',
    async (end, result) => {
      const job = await ttlJob(end === 'Complete' ? 'ttlok' : 'ttlfail', end)
      const run = await waitCutOff(job.name, (p) => p.thaw())
      expectResult(run, result)
      expect(run.message).toMatch(
        end === 'Complete'
          ? new RegExp(`^job ${NS}/${job.name} completed \\(Complete\\): `)
          : new RegExp(`^job ${NS}/${job.name} failed: BackoffLimitExceeded: Job has reached the specified backoff limit`)
      )
      // the DELETED event's object: the final status, the end condition set by the API server
      expect(run.job).toMatchObject({ name: job.name, uid: job.uid, active: 0, deleted: true })
      expect(endTypes(run)).toEqual([end])
      // not inferred: no events were needed
      expect(run.stdout).not.toMatch(/deleted before its end was seen/)
      expect(run.job).toHaveProperty('inferred', null)
    }
  )
})

describe('the end learned only after the Job is gone: from the Job controller’s events', () => {
  test.each<[End, 'met' | 'failed', RegExp]>([
    ['Complete', 'met', /completed/],
    ['Failed', 'failed', /BackoffLimitExceeded/]
  ])('the watch cut while the Job ends %s and is deleted: %s, inferred from events', async (end, result, message) => {
    const job = await ttlJob(end === 'Complete' ? 'goneok' : 'gonefail', end)
    let atCut = 0
    const run = await waitCutOff(job.name, (p) => {
      atCut = p.connections()
      p.cut()
      p.thaw()
    })
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
