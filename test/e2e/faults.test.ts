// Faults of the real control plane in the middle of a wait: kube-apiserver
// killed with SIGKILL and started again while the pods move on, an API
// server that ends every watch after a few seconds (--min-request-timeout),
// and a proxy that freezes the open connection (open, no byte either way).
// The verdicts must be the same as without the fault.
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { ROOT } from '../../__tests__/support/run-dist.js'
import { expectResult, runAction, type ActionRun } from './support/action.js'
import {
  APISERVER_PORT,
  NS,
  STATE,
  auditOffset,
  auditRequests,
  cleanup,
  createJob,
  podPhases,
  sleep,
  uniqueName,
  until
} from './support/cluster.js'
import { startProxy, type Proxy } from './support/proxy.js'

afterEach(cleanup)

function restartApiserver(mode: 'stop' | 'start' | 'restart'): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('bash', [path.join(ROOT, 'test/cluster/restart-apiserver.sh'), mode], { timeout: 120_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`restart-apiserver.sh ${mode}: ${stderr || err.message}`)) : resolve()
    )
  )
}

/** Resolves when the action's stdout has a line matching re. */
function lineSeen(lines: { line: string }[], re: RegExp, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const check = () => {
      if (lines.some((l) => re.test(l.line))) return resolve()
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`no line matching ${re}`))
      setTimeout(check, 50)
    }
    check()
  })
}

describe('kube-apiserver killed (SIGKILL) in the middle of a wait', () => {
  test('the pod finishes while the API server is down: the wait still ends met, with the right count', async () => {
    const name = uniqueName('kill9')
    // The pods run 6 s: they finish while the API server is down; the kubelet
    // simulator's writes land when it is back, before the action's watch is.
    await createJob({ name, parallelism: 2, completions: 2, sim: { 'run-ms': '6000' } })
    const lines: { t: number; line: string }[] = []
    let started: () => void = () => undefined
    const onStart = new Promise<void>((r) => (started = r))
    const running = runAction({
      // The Job controller's informers can take over a minute to catch up after the restart (seen on a
      // loaded machine: the Job still said 2 active 80 s after its pods' Succeeded writes): room for that.
      inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '180s' },
      onStart: () => started(),
      lines
    })
    await onStart
    await lineSeen(lines, /0 active|2 active|not Complete yet/)
    await restartApiserver('stop')
    await sleep(8_000)
    await restartApiserver('start')
    const run = await running
    expectResult(run, 'met')
    expect(run.job).toMatchObject({ name, succeeded: 2 })
    expect(Object.values(run.phases)).toEqual(['Succeeded', 'Succeeded'])
    // it said that the API server went away, and did not start over
    expect(run.stdout).toMatch(/retrying in/)
  }, 240_000)

  test('the Job fails while the API server is down: failed with the reason after it is back', async () => {
    const name = uniqueName('kill9f')
    await createJob({ name, backoffLimit: 0, sim: { 'run-ms': '4000', 'exit-code': '3' } })
    const lines: { t: number; line: string }[] = []
    const running = runAction({ inputs: { job: name, namespace: NS, phase: 'Succeeded', timeout: '90s' }, lines })
    await lineSeen(lines, /0 of 1 pod Succeeded/)
    await restartApiserver('stop')
    await sleep(7_000)
    await restartApiserver('start')
    const run = await running
    expectResult(run, 'failed')
    expect(run.message).toMatch(/BackoffLimitExceeded/)
    expect(run.message).toMatch(/Error, exit code 3/)
  })
})

describe('an API server that ends every watch after a few seconds', () => {
  const argsFile = path.join(STATE, 'kube-apiserver.args')
  let saved: string | undefined

  afterAll(async () => {
    if (saved !== undefined) {
      fs.writeFileSync(argsFile, saved)
      await restartApiserver('restart')
    }
  })

  test('--min-request-timeout=4: watches close every 4 to 8 s, re-watched; same verdicts', async () => {
    saved = fs.readFileSync(argsFile, 'utf8')
    const args = saved.split('\n').filter((a) => a && !a.startsWith('--min-request-timeout'))
    fs.writeFileSync(argsFile, [...args, '--min-request-timeout=4', ''].join('\n'))
    await restartApiserver('restart')

    const ok = uniqueName('shortw')
    const bad = uniqueName('shortwf')
    const okJob = await createJob({ name: ok, parallelism: 2, completions: 2, sim: { 'run-ms': '15000' } })
    const badJob = await createJob({ name: bad, backoffLimit: 0, sim: { 'run-ms': '15000', 'exit-code': '2' } })
    // After an API server restart the Job controller can take a minute to act again (its own watches come
    // back after their backoff): the waits start once it has made the pods, so that their timeout is theirs.
    await until(
      'the Job controller making the pods after the restart',
      async () => Object.keys(await podPhases(ok)).length === 2 && Object.keys(await podPhases(bad)).length === 1,
      150_000,
      500
    )
    const [met, failed] = await Promise.all([
      runAction({ inputs: { job: ok, namespace: NS, condition: 'Complete', timeout: '90s' } }),
      runAction({ inputs: { job: bad, namespace: NS, condition: 'Finished', timeout: '90s' } })
    ])
    expectResult(met, 'met')
    expect(met.job).toMatchObject({ succeeded: 2 })
    expectResult(failed, 'failed')
    expect(failed.message).toMatch(/BackoffLimitExceeded/)
    // The audit log shows the re-watches: for each wait, more than one
    // finished watch of its Job (field selector metadata.name=<job>) and more
    // than one of its pods (label selector on the Job's uid, which the Job
    // watch's URI does not contain).
    const audit = fs
      .readFileSync(path.join(STATE, 'audit.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
    const watchesOf = (resource: 'jobs' | 'pods', marker: string) =>
      audit.filter(
        (e) =>
          e.verb === 'watch' &&
          e.stage === 'ResponseComplete' &&
          String(e.userAgent).startsWith('kube-job-wait') &&
          e.objectRef?.resource === resource &&
          decodeURIComponent(e.requestURI).includes(marker)
      )
    const counts = [okJob, badJob].flatMap((job) => [
      { watch: `jobs of ${job.name}`, finished: watchesOf('jobs', `metadata.name=${job.name}`).length },
      { watch: `pods of ${job.name}`, finished: watchesOf('pods', job.uid).length }
    ])
    for (const c of counts) expect({ ...c, reWatched: c.finished >= 2 }).toEqual({ ...c, reWatched: true })
  }, 300_000)
})

describe('a proxy that freezes the open connection (a load balancer that lost it): noticed by HTTP/2 PING', () => {
  let proxy: Proxy
  beforeAll(async () => {
    proxy = await startProxy(APISERVER_PORT)
  })
  afterAll(() => proxy.close())

  /** When the API server received the first request of ours after `t` (epoch ms), from the audit log. */
  function firstRequestAfter(offset: number, t: number): number | undefined {
    const text = fs.readFileSync(path.join(STATE, 'audit.log')).subarray(offset).toString('utf8')
    let first: number | undefined
    for (const line of text.split('\n')) {
      if (!line.includes('"kube-job-wait/')) continue
      try {
        const e = JSON.parse(line)
        const at = Date.parse(e.requestReceivedTimestamp)
        if (e.user?.username === 'kjw-admin' && at > t && (first === undefined || at < first)) first = at
      } catch {
        // a line being written
      }
    }
    return first
  }

  /**
   * A 1-pod Job whose pod runs 8 s, waited for (condition Complete) through
   * the proxy from the moment its pod runs (so that it ends while the
   * connection is frozen); freeze() is called once both watches are open.
   */
  async function wait(prefix: string, freeze?: () => void) {
    const name = uniqueName(prefix)
    await createJob({ name, sim: { 'run-ms': '8000' } })
    await until(`the pod of ${name} Running`, async () => Object.values(await podPhases(name)).includes('Running'), 60_000)
    const offset = auditOffset()
    const connections = proxy.connections()
    let endedAt = 0
    const running = runAction({
      inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '90s' },
      server: `https://127.0.0.1:${proxy.port}`
    }).then((r) => ((endedAt = Date.now()), r))
    let frozenAt = 0
    if (freeze) {
      await until(`both watches of ${name} open`, async () => {
        const k = auditRequests(offset, 'kjw-admin').byKind
        return (k['watch jobs'] ?? 0) > 0 && (k['watch pods'] ?? 0) > 0
      })
      freeze()
      frozenAt = Date.now()
    }
    const run: ActionRun = await running
    await sleep(500) // the audit log's last lines
    return {
      name,
      run,
      /** the freeze → the first request that reached the API server after it (on the new connection) */
      resumedMs: (firstRequestAfter(offset, frozenAt) ?? NaN) - frozenAt,
      /** the freeze → the exit */
      recoveredMs: endedAt - frozenAt,
      requests: auditRequests(offset, 'kjw-admin'),
      connections: proxy.connections() - connections
    }
  }

  test('the wait recovers within 40 s of the freeze on a second connection, with only the LIST and WATCH it resumes with, the same verdict', async () => {
    const calm = await wait('calm')
    const frozen = await wait('frozen', () => proxy.freezeOpen())
    // the verdict is unchanged
    for (const w of [calm, frozen]) {
      expectResult(w.run, 'met')
      expect(w.run.job).toMatchObject({ name: w.name, succeeded: 1 })
      expect(Object.values(w.run.phases)).toEqual(['Succeeded'])
    }
    // (after the new LIST the Job may already say Complete besides SuccessCriteriaMet)
    const same = (w: typeof calm) => w.run.message.replaceAll(w.name, 'JOB').replace(/\((SuccessCriteriaMet|Complete)\)/, '(END)')
    expect(same(frozen)).toBe(same(calm))
    // one connection without the fault; one more after it
    expect({ calm: calm.connections, frozen: frozen.connections }).toEqual({ calm: 1, frozen: 2 })
    // noticed by the PING (15 s, then 15 s for the answer), not by anything sooner, and well before the 90 s silence rule
    expect(frozen.resumedMs).toBeGreaterThan(14_000)
    expect(frozen.resumedMs).toBeLessThan(40_000)
    expect(frozen.recoveredMs).toBeLessThan(40_000)
    // No request spent on noticing: beyond the calm wait's, at most a LIST and
    // a WATCH for each of the two watches, opened again on the new connection.
    const extra: Record<string, number> = {}
    for (const [kind, n] of Object.entries(frozen.requests.byKind)) {
      const d = n - (calm.requests.byKind[kind] ?? 0)
      if (d > 0) extra[kind] = d
    }
    const resumed = ['list jobs', 'watch jobs', 'list pods', 'watch pods']
    expect(Object.keys(extra).filter((k) => !resumed.includes(k) || extra[k] > 1)).toEqual([])
    expect(frozen.requests.total - calm.requests.total).toBeLessThanOrEqual(4)
    expect((extra['list jobs'] ?? 0) + (extra['list pods'] ?? 0)).toBeGreaterThan(0) // it did start over on the new connection
  }, 150_000)
})
