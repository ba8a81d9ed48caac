// Several Jobs in one step (issue 11) on the real control plane: Jobs by
// name with fail-fast on and off, a selector with expected-jobs and an
// earlier run's Job beside it, a selector that matches nothing, 20 Jobs of 5
// pods against a single Job's API requests, and what becomes of the Jobs
// (delete, on-cancel, a user without the delete right, a concurrent run's
// Job beyond expected-jobs, a Job that runs on after the wait was met).
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, test } from '@jest/globals'
import { runnerCommands } from '../../__tests__/support/runner-commands.js'
import { expectResult, runAction, type ActionRun } from './support/action.js'
import {
  NS,
  RESTRICTED,
  auditOffset,
  auditRequests,
  cleanup,
  createJob,
  createJobs,
  getJob,
  listPods,
  sleep,
  uniqueName,
  until
} from './support/cluster.js'

afterEach(cleanup)

/** The annotations the runner would show: level, title, message. */
const annotationsOf = (run: ActionRun) =>
  runnerCommands(run.stdout)
    .filter((c) => ['error', 'warning', 'notice'].includes(c.name) && c.properties.title !== undefined)
    .map((c) => ({ level: c.name, title: c.properties.title, message: c.data }))

/** The step's warnings (core.warning), with or without a title. */
const warningsOf = (run: ActionRun) =>
  runnerCommands(run.stdout)
    .filter((c) => c.name === 'warning')
    .map((c) => `${c.properties.title ?? ''}: ${c.data}`)

/** Resolves when the action's stdout has a line matching re. */
async function lineSeen(lines: { line: string }[], re: RegExp, timeoutMs = 60_000): Promise<void> {
  await until(`a line matching ${re}`, async () => lines.some((l) => re.test(l.line)), timeoutMs, 50)
}

const jobComplete = async (name: string, namespace = NS) =>
  ((await getJob(name, namespace))?.status?.conditions ?? []).some(
    (c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True'
  )

/** Until the Job is gone from the API server and the garbage collector has removed its pods. */
async function goneWithPods(name: string, uid: string, namespace = NS): Promise<void> {
  await until(`job ${name} and its pods gone`, async () => {
    if (await getJob(name, namespace)) return false
    return (await listPods(namespace, `batch.kubernetes.io/controller-uid=${uid}`)).length === 0
  })
}

describe('three Jobs by name, one of which fails', () => {
  test('fail-fast (the default): the failure ends the step at once, naming that Job; the others as they stand', async () => {
    const [a, b, c] = ['sev-ok', 'sev-bad', 'sev-long'].map(uniqueName)
    await createJobs([
      { name: a, sim: { 'run-ms': '500' } },
      { name: b, sim: { 'run-ms': '5000', 'exit-code': '3' } },
      { name: c, sim: { 'run-ms': '60000' } }
    ])
    const run = await runAction({ inputs: { job: `${a}\n${b}\n${c}`, namespace: NS, condition: 'Complete', timeout: '90s' } })
    expectResult(run, 'failed')
    expect(run.message).toMatch(
      new RegExp(`^job ${NS}/${b} failed: BackoffLimitExceeded: .*\\(${b}-\\w+ Failed \\(Error, exit code 3\\)\\)`)
    )
    expect(run.message).toContain(`${NS}/${a} met`)
    expect(run.message).toContain(`${NS}/${c} waiting (job ${NS}/${c} not Complete yet`)
    // it did not wait for the Job whose pod runs 60 s
    expect(run.elapsed).toBeLessThan(30)
    expect(Object.keys(run.jobs)).toEqual([a, b, c])
    expect(run.jobs[a]).toMatchObject({ result: 'met', count: 0, job: { name: a, succeeded: 1 } })
    expect(run.jobs[b]).toMatchObject({ result: 'failed', job: { name: b, failed: 1 } })
    expect(run.jobs[b].message).toMatch(/BackoffLimitExceeded/)
    expect(run.jobs[c]).toMatchObject({ result: 'waiting', job: { name: c, active: 1 } })
    expect(Object.values(run.jobs[c].phases)).toEqual(['Running'])
    // several Jobs: `job` is null, each pod names its Job, phases span every Job
    expect(run.job).toBeNull()
    expect(run.pods.map((p) => p.job).sort()).toEqual([a, b, c].sort())
    expect(Object.keys(run.phases)).toHaveLength(3)
    // one error annotation, titled by the failed Job, with its log
    const errors = annotationsOf(run).filter((x) => x.level === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0].title).toBe(`${NS}/${b}: Error, exit code 3: container main (1 pod)`)
    expect(errors[0].message).toMatch(/exiting with code 3/)
    // the summary: a line per Job, then the details of the failed one only
    expect(run.summary).toMatch(new RegExp(`^- ✅ \`${a}\`: `, 'm'))
    expect(run.summary).toMatch(new RegExp(`^- ❌ \`${b}\`: job ${NS}/${b} failed: BackoffLimitExceeded`, 'm'))
    expect(run.summary).toMatch(new RegExp(`^- ⏳ \`${c}\`: `, 'm'))
    expect(run.summary).toContain(`### ❌ job \`${NS}/${b}\`: failed`)
    expect(run.summary).not.toContain(`job \`${NS}/${a}\``)
  })

  test('fail-fast: false (test shards): waits for the other two, then reports all three', async () => {
    const [a, b, c] = ['shard-1', 'shard-2', 'shard-3'].map(uniqueName)
    await createJobs([
      { name: a, sim: { 'run-ms': '500' } },
      { name: b, sim: { 'run-ms': '1500', 'exit-code': '3' } },
      { name: c, sim: { 'run-ms': '8000' } }
    ])
    const lines: { t: number; line: string }[] = []
    const run = await runAction({
      inputs: { job: `${a}, ${b}, ${c}`, namespace: NS, condition: 'Complete', 'fail-fast': 'false', timeout: '90s' },
      lines
    })
    expectResult(run, 'failed')
    expect(run.message).toMatch(new RegExp(`^job ${NS}/${b} failed: BackoffLimitExceeded`))
    expect(run.message).toContain(`; ${NS}/${a} met, ${NS}/${c} met`)
    expect(Object.fromEntries(Object.entries(run.jobs).map(([k, v]) => [k, v.result]))).toEqual({ [a]: 'met', [b]: 'failed', [c]: 'met' })
    expect(run.jobs[c].job).toMatchObject({ succeeded: 1 })
    // it went on after the failure: a progress line where b has ended (no longer listed) while c still runs
    const goneOn = lines.find(
      (l) => /^\[/.test(l.line) && !l.line.includes(`${NS}/${b}:`) && l.line.includes(`${NS}/${c}: job ${NS}/${c} not Complete yet`)
    )
    expect(goneOn).toBeDefined()
    expect(run.elapsed).toBeGreaterThan(8)
    expect(run.summary).toMatch(new RegExp(`^- ✅ \`${a}\`: `, 'm'))
    expect(run.summary).toMatch(new RegExp(`^- ❌ \`${b}\`: `, 'm'))
    expect(run.summary).toMatch(new RegExp(`^- ✅ \`${c}\`: `, 'm'))
    // b's log tail is in its details
    expect(run.summary).toContain(`### ❌ job \`${NS}/${b}\`: failed`)
    expect(run.summary).toMatch(/exiting with code 3/)
  })
})

describe('a selector', () => {
  test('expected-jobs 2, the second created 5 s after the start, an earlier run’s finished Job beside them (not counted, named once, not deleted)', async () => {
    const runId = `r${randomBytes(3).toString('hex')}`
    const selector = `kjw.dev/run=${runId}`
    const labels = { 'kjw.dev/run': runId }
    const old = uniqueName('sel-old')
    await createJob({ name: old, labels, sim: { 'start-ms': '100', 'run-ms': '100' } })
    await until(`job ${old} Complete`, () => jobComplete(old))
    await sleep(1_500) // finished a second or more before the step (the API server's times are whole seconds)
    const first = uniqueName('sel-first')
    const second = uniqueName('sel-second')
    await createJob({ name: first, labels, sim: { 'run-ms': '1000' } })
    let started: () => void = () => undefined
    const onStart = new Promise<void>((r) => (started = r))
    const lines: { t: number; line: string }[] = []
    const offset = auditOffset()
    // as its own user (cert), so that the audit log tells its requests from the test's kubectl calls
    const running = runAction({
      inputs: { selector, 'expected-jobs': '2', namespace: NS, condition: 'Complete', delete: 'on-success', timeout: '60s' },
      onStart: () => started(),
      lines,
      creds: { user: 'cert' }
    })
    await onStart
    await sleep(5_000)
    await createJob({ name: second, labels, sim: { 'run-ms': '1000' } })
    const run = await running
    expectResult(run, 'met')
    expect(Object.keys(run.jobs).sort()).toEqual([first, second].sort())
    expect(Object.values(run.jobs).map((j) => j.result)).toEqual(['met', 'met'])
    expect(run.message).toMatch(/^2 jobs met: /)
    expect(run.message).not.toContain(old)
    expect(run.pods.map((p) => p.job).sort()).toEqual([first, second].sort())
    // it waited for the second Job
    expect(lines.some((l) => l.line.includes(`1 of 2 jobs matching ${selector} found`))).toBe(true)
    expect(run.ms).toBeGreaterThan(5_000)
    // the earlier run's Job: named once in the log, and nowhere in the verdict
    const named = run.stdout.split('\n').filter((l) => l.includes(old))
    expect(named).toEqual([`job ${NS}/${old} matches ${selector} but finished before this step started: not counted`])
    expect(run.summary).not.toContain(old)
    // delete: on-success deletes what the step waited for, not the earlier run's Job
    expect(run.deleted).toEqual([`${NS}/${first}`, `${NS}/${second}`].sort())
    await sleep(500)
    // the Job that came 5 s later needed no pod watch of its own: one pod LIST and one pod WATCH for the whole wait
    const requests = auditRequests(offset, 'kjw-cert-admin')
    expect({ watches: requests.byKind['watch pods'] ?? 0, requests }).toEqual({ watches: 1, requests })
    expect({ lists: (requests.byKind['list pods'] ?? 0) <= 2, requests }).toEqual({ lists: true, requests })
    expect((await getJob(old))?.metadata.deletionTimestamp).toBeUndefined()
  })

  test('a selector that matches nothing until the timeout: the message says so', async () => {
    const selector = `kjw.dev/run=r${randomBytes(3).toString('hex')}`
    const run = await runAction({ inputs: { selector, namespace: NS, condition: 'Complete', timeout: '5s' } })
    expectResult(run, 'timeout')
    expect(run.message).toMatch(new RegExp(`^timed out after 5(\\.0)?s: 0 of 1 jobs met; 0 of 1 jobs matching ${selector} found$`))
    expect(run.jobs).toEqual({})
    expect(run.count).toBe(0)
    expect(run.pods).toEqual([])
    expect(run.job).toBeNull()
    expect(run.elapsed).toBeLessThan(8)
  })
})

describe('20 Jobs of 5 pods each', () => {
  test('all met, with no more API requests than a single Job’s wait + 2 (audit log)', async () => {
    const runId = `r${randomBytes(3).toString('hex')}`
    const labels = { 'kjw.dev/run': runId }
    const sim = { 'run-ms': '3000' }
    const names = Array.from({ length: 20 }, (_, i) => uniqueName(`many${i}`))
    const single = uniqueName('one')
    await createJobs([
      ...names.map((name) => ({ name, labels, parallelism: 5, completions: 5, sim })),
      { name: single, parallelism: 5, completions: 5, sim }
    ])
    const offset = auditOffset()
    // Side by side, told apart in the audit log by their users: admin (kjw-admin) for the 20, cert (kjw-cert-admin) for the one.
    const [many, one] = await Promise.all([
      runAction({
        inputs: { selector: `kjw.dev/run=${runId}`, 'expected-jobs': '20', namespace: NS, condition: 'Complete', timeout: '100s' }
      }),
      runAction({ inputs: { job: single, namespace: NS, condition: 'Complete', timeout: '100s' }, creds: { user: 'cert' } })
    ])
    expectResult(many, 'met')
    expectResult(one, 'met')
    expect(Object.keys(many.jobs).sort()).toEqual([...names].sort())
    expect(Object.values(many.jobs).every((j) => j.result === 'met' && j.job?.succeeded === 5)).toBe(true)
    expect(Object.values(many.phases)).toEqual(Array(100).fill('Succeeded'))
    expect(new Set(many.pods.map((p) => p.job))).toEqual(new Set(names))
    expect(many.message).toMatch(/^20 jobs met: /)
    await sleep(500) // the audit lines of the watches closed at exit
    const requests = { many: auditRequests(offset, 'kjw-admin'), one: auditRequests(offset, 'kjw-cert-admin') }
    expect(requests.one.total).toBeGreaterThan(0)
    // one watch of Jobs and one of pods, whatever the number of Jobs
    expect({ many: requests.many.total <= requests.one.total + 2, requests }).toEqual({ many: true, requests })
    expect(requests.many.byKind['watch pods'] ?? 0).toBeLessThanOrEqual(1)
  })
})

describe('what becomes of the Jobs', () => {
  test('delete: on-success: the Job and its pods are gone (the garbage collector); a failed Job is kept', async () => {
    const ok = uniqueName('del-ok')
    const bad = uniqueName('del-bad')
    const uids = await createJobs([
      { name: ok, parallelism: 2, completions: 2, sim: { 'run-ms': '500' } },
      { name: bad, sim: { 'run-ms': '500', 'exit-code': '3' } }
    ])
    const [met, failed] = await Promise.all([
      runAction({ inputs: { job: ok, namespace: NS, condition: 'Complete', delete: 'on-success', timeout: '60s' } }),
      runAction({ inputs: { job: bad, namespace: NS, condition: 'Complete', delete: 'on-success', timeout: '60s' } })
    ])
    expectResult(met, 'met')
    expect(met.deleted).toEqual([`${NS}/${ok}`])
    // the report is written before the deletion: the outputs show the Job as it ended
    expect(met.job).toMatchObject({ name: ok, succeeded: 2, deleted: false })
    expect(met.summary).toContain(`Deleted \`${NS}/${ok}\``)
    expect(met.stdout).toContain(`deleted job ${NS}/${ok}`)
    await goneWithPods(ok, uids[ok])

    expectResult(failed, 'failed')
    expect(failed.deleted).toEqual([])
    expect(failed.summary).not.toContain('Deleted')
    await sleep(1_000)
    const kept = await getJob(bad)
    expect(kept?.metadata.uid).toBe(uids[bad])
    expect(kept?.metadata.deletionTimestamp).toBeUndefined()
    expect(await listPods(NS, `batch.kubernetes.io/controller-uid=${uids[bad]}`)).toHaveLength(1)
  })

  test('on-cancel: delete: SIGINT deletes the Jobs within the runner’s grace; their pods go too', async () => {
    const a = uniqueName('cancel-a')
    const b = uniqueName('cancel-b')
    const uids = await createJobs([
      { name: a, parallelism: 2, sim: { 'run-ms': '-1' } },
      { name: b, sim: { 'run-ms': '-1' } }
    ])
    const lines: { t: number; line: string }[] = []
    let pid = 0
    const running = runAction({
      inputs: { job: `${a}\n${b}`, namespace: NS, phase: 'Succeeded', 'on-cancel': 'delete', timeout: '60s' },
      onStart: (p) => (pid = p),
      lines
    })
    await until('the three pods Running', async () => {
      const pods = await listPods(NS, `batch.kubernetes.io/controller-uid in (${uids[a]},${uids[b]})`)
      return pods.length === 3 && pods.every((p) => p.status?.phase === 'Running')
    })
    await lineSeen(lines, /0 of 2 jobs met/)
    const signalled = Date.now()
    process.kill(pid, 'SIGINT')
    const run = await running
    // the runner sends SIGTERM 7.5 s after SIGINT: all done before that
    expect(Date.now() - signalled).toBeLessThan(7_500)
    expectResult(run, 'cancelled')
    expect(run.message).toMatch(/^cancelled after /)
    expect(run.deleted).toEqual([`${NS}/${a}`, `${NS}/${b}`].sort())
    expect(run.summary).toContain('Deleted')
    await Promise.all([goneWithPods(a, uids[a]), goneWithPods(b, uids[b])])
  })

  test('a selector with expected-jobs 1 and delete: always: a concurrent run’s Job with the same labels, created later, is waited for but not deleted', async () => {
    const runId = `r${randomBytes(3).toString('hex')}`
    const selector = `kjw.dev/run=${runId}`
    const labels = { 'kjw.dev/run': runId }
    const mine = uniqueName('conc-mine')
    const theirs = uniqueName('conc-theirs')
    await createJob({ name: mine, labels, sim: { 'run-ms': '3000' } })
    const lines: { t: number; line: string }[] = []
    const running = runAction({
      inputs: { selector, 'expected-jobs': '1', namespace: NS, condition: 'Complete', delete: 'always', timeout: '60s' },
      lines
    })
    await lineSeen(lines, /0 of 1 jobs met/)
    await sleep(1_100) // a later creation time (the API server's are whole seconds)
    const { uid } = await createJob({ name: theirs, labels, sim: { 'run-ms': '1000' } })
    const run = await running
    expectResult(run, 'met')
    expect(Object.keys(run.jobs).sort()).toEqual([mine, theirs].sort())
    expect(run.deleted).toEqual([`${NS}/${mine}`])
    expect(run.stdout).toContain(`kept job ${NS}/${theirs}: created after the first 1 (expected-jobs) that matched \`${selector}\``)
    expect(run.summary).toContain(`Kept \`${NS}/${theirs}\``)
    await sleep(1_000)
    const kept = await getJob(theirs)
    expect(kept?.metadata.uid).toBe(uid)
    expect(kept?.metadata.deletionTimestamp).toBeUndefined()
  })

  test('delete: on-success, phase Succeeded with expected-count 1 of 3 completions: met while the Job runs on; the Job is kept, and the log says why', async () => {
    const name = uniqueName('del-running')
    const { uid } = await createJob({ name, parallelism: 1, completions: 3, sim: { 'run-ms': '1500' } })
    const run = await runAction({
      inputs: { job: name, namespace: NS, phase: 'Succeeded', 'expected-count': '1', delete: 'on-success', timeout: '60s' }
    })
    expectResult(run, 'met')
    expect(run.deleted).toEqual([])
    expect(run.stdout).toContain(
      `kept job ${NS}/${name}: the wait was met but the Job has not ended (no final condition yet): delete: on-success deletes an ended Job only`
    )
    // the Job goes on to its end, untouched
    await until(`job ${name} Complete`, () => jobComplete(name))
    const job = await getJob(name)
    expect(job?.metadata.uid).toBe(uid)
    expect(job?.status?.succeeded).toBe(3)
    expect(job?.metadata.deletionTimestamp).toBeUndefined()
  })

  test('no delete right (the documented Role): one warning naming it; verdict and outputs unchanged', async () => {
    const a = uniqueName('nodel-a')
    const b = uniqueName('nodel-b')
    await createJobs([
      { name: a, namespace: RESTRICTED, sim: { 'run-ms': '300' } },
      { name: b, namespace: RESTRICTED, sim: { 'run-ms': '300' } }
    ])
    await until('both Jobs Complete', async () => (await jobComplete(a, RESTRICTED)) && (await jobComplete(b, RESTRICTED)))
    const inputs = { job: `${a}\n${b}`, namespace: RESTRICTED, condition: 'Complete', timeout: '60s' }
    const [keep, del] = await Promise.all([
      runAction({ inputs, creds: { user: 'role' } }),
      runAction({ inputs: { ...inputs, delete: 'always' }, creds: { user: 'role' } })
    ])
    expectResult(keep, 'met')
    expectResult(del, 'met')
    const same = (r: ActionRun) => ({ ...r.outputs, elapsed: undefined })
    expect(same(del)).toEqual(same(keep))
    expect(del.deleted).toEqual([])
    const extra = warningsOf(del).filter((w) => !warningsOf(keep).includes(w))
    expect(extra).toHaveLength(1)
    expect(extra[0]).toMatch(/delete/)
    expect(extra[0]).toMatch(/jobs/)
    expect(extra[0]).toContain(RESTRICTED)
    expect(extra[0]).toContain(a)
    expect(extra[0]).toContain(b)
    // both Jobs are still there
    expect((await getJob(a, RESTRICTED))?.metadata.deletionTimestamp).toBeUndefined()
    expect((await getJob(b, RESTRICTED))?.metadata.deletionTimestamp).toBeUndefined()
  })
})
