// The combined verdict of several Jobs: which count, when the step is over,
// and the one message that says so.
import { describe, expect, test } from '@jest/globals'
import { decideJobs, type Wanted } from '../src/decide/jobs.js'
import { decide } from '../src/decide/verdict.js'
import type { JobCondition, JobInfo, Observed, PodInfo, Snapshot, Target } from '../src/model.js'

const NOW = Date.parse('2026-11-30T12:00:00Z')
const ago = (s: number) => new Date(NOW - s * 1000).toISOString()
const rules = { podErrorGraceMs: 60_000, stepStartedAt: NOW - 10_000 }
const complete: Target = { kind: 'condition', condition: 'Complete' }
const cond = (type: string, reason?: string, at = ago(5)): JobCondition => ({ type, status: 'True', reason, lastTransitionTime: at })

function job(name: string, o: Partial<JobInfo> = {}): JobInfo {
  return {
    name,
    namespace: 'ci',
    uid: `uid-${name}`,
    suspend: false,
    active: 1,
    ready: 0,
    succeeded: 0,
    failed: 0,
    terminating: 0,
    conditions: [],
    completions: 1,
    ...o
  }
}
const pod = (name: string, phase: PodInfo['phase']): PodInfo => ({
  name,
  uid: `p-${name}`,
  phase,
  ready: false,
  restarts: 0,
  containers: []
})
const snap = (j: JobInfo | undefined, name = j?.name ?? 'x', pods: PodInfo[] = []): Snapshot => ({
  namespace: 'ci',
  name,
  job: j,
  jobDeleted: false,
  synced: true,
  podsListed: true,
  pods
})
const seen = (...jobs: Snapshot[]): Observed => ({ synced: true, jobs })
const done = (name: string) =>
  snap(job(name, { active: 0, succeeded: 1, conditions: [cond('Complete')] }), name, [pod(`${name}-1`, 'Succeeded')])
const failed = (name: string) =>
  snap(job(name, { active: 0, failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded')] }), name, [pod(`${name}-1`, 'Failed')])
const running = (name: string) => snap(job(name), name, [pod(`${name}-1`, 'Running')])
const names = (...n: string[]): Wanted => ({ names: n, expectedJobs: 1, failFast: true })

describe('one Job by name is that Job’s verdict, word for word', () => {
  test('same state, message and count as decide()', () => {
    for (const s of [done('a'), failed('a'), running('a')]) {
      const v = decide(s, complete, rules, NOW)
      const o = decideJobs(seen(s), names('a'), complete, rules, NOW)
      expect(o).toMatchObject({ state: v.state, message: v.message, count: v.count })
      expect(o.jobs).toHaveLength(1)
    }
  })
})

describe('several Jobs by name', () => {
  test('met when every Job meets the target', () => {
    const o = decideJobs(seen(done('a'), done('b'), done('c')), names('a', 'b', 'c'), complete, rules, NOW)
    expect(o.state).toBe('met')
    expect(o.message).toMatch(/^3 jobs met: ci\/a \(completed/)
  })
  test('waiting while one is short, saying which and what it lacks', () => {
    const o = decideJobs(seen(done('a'), running('b'), snap(undefined, 'c')), names('a', 'b', 'c'), complete, rules, NOW)
    expect(o.state).toBe('waiting')
    expect(o.message).toBe(
      '1 of 3 jobs met; ci/b: job ci/b not Complete yet: 1 active, 0 of 1 succeeded, 0 failed; ci/c: job ci/c not found yet'
    )
  })
  test('fail-fast: the first failure ends the step, naming that Job; the others as they stand', () => {
    const o = decideJobs(seen(done('a'), failed('b'), running('c')), names('a', 'b', 'c'), complete, rules, NOW)
    expect(o.state).toBe('failed')
    expect(o.message).toMatch(
      /^job ci\/b failed: BackoffLimitExceeded \(b-1 Failed\); ci\/a met, ci\/c waiting \(job ci\/c not Complete yet/
    )
    expect(o.jobs.map((j) => j.verdict.state)).toEqual(['met', 'failed', 'waiting'])
  })
  test('fail-fast false (test shards): wait for every Job, then report all', () => {
    const wanted = { ...names('a', 'b', 'c'), failFast: false }
    expect(decideJobs(seen(done('a'), failed('b'), running('c')), wanted, complete, rules, NOW).state).toBe('waiting')
    const o = decideJobs(seen(done('a'), failed('b'), done('c')), wanted, complete, rules, NOW)
    expect(o.state).toBe('failed')
    expect(o.jobs.map((j) => j.verdict.state)).toEqual(['met', 'failed', 'met'])
  })
  test('a stuck pod names its Job in the step’s message', () => {
    const stuck = snap(job('b'), 'b', [
      {
        ...pod('b-1', 'Pending'),
        creationTimestamp: ago(120),
        containers: [{ name: 'main', init: false, state: 'waiting', reason: 'ImagePullBackOff', restartCount: 0, waitingSince: ago(120) }]
      }
    ])
    expect(decideJobs(seen(done('a'), stuck), names('a', 'b'), complete, rules, NOW).message).toMatch(
      /^job ci\/b: pod b-1 stuck in ImagePullBackOff/
    )
  })
  test('the timeout names each Job still short, each with its own final verdict', () => {
    const o = decideJobs(seen(done('a'), running('b')), names('a', 'b'), complete, rules, NOW, { kind: 'timeout', afterMs: 300_000 })
    expect(o.state).toBe('timeout')
    expect(o.message).toBe('timed out after 5m: 1 of 2 jobs met; ci/b: job ci/b not Complete yet: 1 active, 0 of 1 succeeded, 0 failed')
    expect(o.jobs.map((j) => j.verdict.state)).toEqual(['met', 'timeout'])
  })
  test('count is the sum over the Jobs', () => {
    const target: Target = { kind: 'phase', phase: 'Running', match: 'at-least' }
    expect(decideJobs(seen(running('a'), running('b')), names('a', 'b'), target, rules, NOW).count).toBe(2)
  })
  test('a server that never answered: the timeout says so', () => {
    const o = decideJobs({ synced: false, jobs: [snap(undefined, 'a'), snap(undefined, 'b')] }, names('a', 'b'), complete, rules, NOW, {
      kind: 'timeout',
      afterMs: 60_000,
      fault: 'list jobs: HTTP 503'
    })
    expect(o.message).toBe('timed out: the API server kept failing for 1m: list jobs: HTTP 503')
  })
})

describe('a selector', () => {
  const sel = (expectedJobs: number): Wanted => ({ names: [], selector: 'app=x', expectedJobs, failFast: true })
  test('waits until expected-jobs Jobs exist', () => {
    const o = decideJobs(seen(done('a')), sel(2), complete, rules, NOW)
    expect(o.state).toBe('waiting')
    expect(o.message).toBe('1 of 2 jobs met; 1 of 2 jobs matching app=x found')
    expect(decideJobs(seen(done('a'), done('b')), sel(2), complete, rules, NOW).state).toBe('met')
  })
  test('a Job that finished before the step started (an earlier run’s) is not counted, and is named', () => {
    const old = snap(
      job('old', { active: 0, succeeded: 1, completionTime: ago(3600), conditions: [cond('Complete', undefined, ago(3600))] }),
      'old'
    )
    const o = decideJobs(seen(old, running('new')), sel(1), complete, rules, NOW)
    expect(o.ignored).toEqual(['old'])
    expect(o.jobs.map((j) => j.name)).toEqual(['new'])
    expect(o.state).toBe('waiting')
  })
  test('a counted Job that is deleted afterwards (TTL) stays counted, judged by its last state', () => {
    const ttl = { ...done('a'), jobDeleted: true }
    expect(decideJobs(seen(ttl), sel(1), complete, rules, NOW).state).toBe('met')
  })
  test('nothing matched until the timeout: a clear message', () => {
    const o = decideJobs(seen(), sel(1), complete, rules, NOW, { kind: 'timeout', afterMs: 30_000 })
    expect(o.state).toBe('timeout')
    expect(o.message).toBe('timed out after 30s: 0 of 1 jobs met; 0 of 1 jobs matching app=x found')
  })
})

describe('the progress line of many Jobs', () => {
  const five = ['a', 'b', 'c', 'd', 'e']
  test('names three Jobs still short and counts the others: it is printed on every change', () => {
    const o = decideJobs(seen(...five.map(running)), names(...five), complete, rules, NOW)
    expect(o.state).toBe('waiting')
    expect(o.message).toBe(
      '0 of 5 jobs met; ' +
        ['a', 'b', 'c'].map((n) => `ci/${n}: job ci/${n} not Complete yet: 1 active, 0 of 1 succeeded, 0 failed`).join('; ') +
        '; 2 more waiting'
    )
  })
  test('the timeout names every one of them', () => {
    const o = decideJobs(seen(...five.map(running)), names(...five), complete, rules, NOW, { kind: 'timeout', afterMs: 60_000 })
    for (const n of five) expect(o.message).toContain(`ci/${n}: job ci/${n} not Complete yet`)
    expect(o.message).not.toContain('more waiting')
  })
})
