// What becomes of the Jobs when the step ends (src/cleanup.ts): whether they
// go (inputs delete and on-cancel, by the result), which ones, and how a
// refusal is said. The API is a stand-in that records each DELETE.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
import type { Settings } from '../src/inputs.js'
import { KubeError } from '../src/kube/errors.js'
import type { KubeHttp } from '../src/kube/http.js'
import type { JobInfo, Observed, Snapshot } from '../src/model.js'
import type { Outcome, Result } from '../src/report/outcome.js'
import { parse } from './support/gfm-page.js'

jest.unstable_mockModule('@actions/core', () => core)
const { cleanUp, jobsToDelete, shouldDelete } = await import('../src/cleanup.js')

const job = (name: string): JobInfo => ({
  name,
  namespace: 'ci',
  uid: `uid-${name}`,
  suspend: false,
  active: 0,
  ready: 0,
  succeeded: 1,
  failed: 0,
  terminating: 0,
  conditions: [{ type: 'Complete', status: 'True' }]
})
const snap = (name: string, o: Partial<Snapshot> = {}): Snapshot => ({
  namespace: 'ci',
  name,
  job: job(name),
  jobDeleted: false,
  pods: [],
  ...o
})
const seen = (...jobs: Snapshot[]): Observed => ({ synced: true, jobs })

describe('shouldDelete: by the inputs and the result', () => {
  const results: Result[] = ['met', 'failed', 'timeout', 'cancelled', 'error']
  const table = (s: Pick<Settings, 'delete' | 'onCancel'>) => Object.fromEntries(results.map((r) => [r, shouldDelete(s, r)]))

  test('delete: never (the default) deletes nothing, whatever the end', () => {
    expect(table({ delete: 'never', onCancel: 'keep' })).toEqual({
      met: false,
      failed: false,
      timeout: false,
      cancelled: false,
      error: false
    })
  })
  test('delete: on-success deletes on met only: a failed Job stays for debugging', () => {
    expect(table({ delete: 'on-success', onCancel: 'keep' })).toEqual({
      met: true,
      failed: false,
      timeout: false,
      cancelled: false,
      error: false
    })
  })
  test('delete: always deletes on met, failed and timeout; a cancel is for on-cancel to say', () => {
    expect(table({ delete: 'always', onCancel: 'keep' })).toEqual({
      met: true,
      failed: true,
      timeout: true,
      cancelled: false,
      error: false
    })
  })
  test('on-cancel: delete deletes on cancel, and only then', () => {
    expect(table({ delete: 'never', onCancel: 'delete' })).toEqual({
      met: false,
      failed: false,
      timeout: false,
      cancelled: true,
      error: false
    })
  })
  test('an error (bad input, credentials, an API error) never deletes: what was waited for may not be known', () => {
    expect(shouldDelete({ delete: 'always', onCancel: 'delete' }, 'error')).toBe(false)
  })
})

describe('jobsToDelete: the Jobs the step counted, still there', () => {
  const byName: Pick<Settings, 'delete' | 'selector' | 'expectedJobs'> = { delete: 'always', expectedJobs: 1 }
  const names = (r: { jobs: JobInfo[] }) => r.jobs.map((j) => j.name)
  test('one Job by name', () => {
    expect(names(jobsToDelete(byName, { job: 'a', result: 'met' }, seen(snap('a'))))).toEqual(['a'])
  })
  test('not an earlier run’s Job that the selector matched but did not count', () => {
    const outcome = { result: 'met', jobs: [{ name: 'new' }, { name: 'also-new' }] } as Pick<Outcome, 'jobs' | 'result'>
    const r = jobsToDelete({ ...byName, selector: 'app=x', expectedJobs: 2 }, outcome, seen(snap('old'), snap('new'), snap('also-new')))
    expect(names(r)).toEqual(['also-new', 'new'])
    expect(r.kept).toEqual([])
  })
  test('not a Job already gone (TTL), nor one never found', () => {
    const outcome = { result: 'met', jobs: [{ name: 'gone' }, { name: 'never' }, { name: 'here' }] } as Pick<Outcome, 'jobs' | 'result'>
    const observed = seen(snap('gone', { jobDeleted: true }), snap('never', { job: undefined }), snap('here'))
    expect(names(jobsToDelete(byName, outcome, observed))).toEqual(['here'])
  })
  test('a selector: only the first expected-jobs by creation time; a later match (a concurrent run’s) is kept, and why', () => {
    const at = (name: string, t: string) => snap(name, { job: { ...job(name), creationTimestamp: t } })
    const outcome = { result: 'met', jobs: [{ name: 'theirs' }, { name: 'mine-b' }, { name: 'mine-a' }] } as Pick<
      Outcome,
      'jobs' | 'result'
    >
    const observed = seen(at('theirs', '2026-12-05T00:00:09Z'), at('mine-b', '2026-12-05T00:00:01Z'), at('mine-a', '2026-12-05T00:00:01Z'))
    const r = jobsToDelete({ delete: 'always', selector: 'app=migrate', expectedJobs: 2 }, outcome, observed)
    expect(names(r)).toEqual(['mine-a', 'mine-b'])
    expect(r.kept.map((k) => [k.job.name, k.why])).toEqual([
      [
        'theirs',
        "created after the first 2 (expected-jobs) that matched `app=migrate`: it may be another run's; put the run's id in the Jobs' labels and in the selector"
      ]
    ])
  })
  test('delete: on-success, met: a Job that has not ended (a wait for some of its pods) is kept; an ended one goes', () => {
    const running = snap('running', { job: { ...job('running'), active: 2, succeeded: 1, conditions: [] } })
    const ended = snap('ended')
    const outcome = { result: 'met', jobs: [{ name: 'running' }, { name: 'ended' }] } as Pick<Outcome, 'jobs' | 'result'>
    const r = jobsToDelete({ delete: 'on-success', expectedJobs: 1 }, outcome, seen(running, ended))
    expect(names(r)).toEqual(['ended'])
    expect(r.kept.map((k) => [k.job.name, k.why])).toEqual([
      ['running', 'the wait was met but the Job has not ended (no final condition yet): delete: on-success deletes an ended Job only']
    ])
  })
  test('delete: always, and on-cancel: delete, take a Job that still runs (a timeout, a cancel: the user asked for it gone)', () => {
    const running = snap('running', { job: { ...job('running'), active: 1, conditions: [] } })
    for (const result of ['met', 'timeout', 'cancelled'] as const)
      expect(names(jobsToDelete({ delete: 'always', expectedJobs: 1 }, { job: 'running', result }, seen(running)))).toEqual(['running'])
  })
})

describe('cleanUp', () => {
  const settings = { delete: 'on-success', onCancel: 'keep' } as Settings
  const several = (names: string[]): Outcome =>
    ({ result: 'met', message: 'ok', namespace: 'ci', jobs: names.map((name) => ({ name })), elapsedMs: 1000 }) as unknown as Outcome
  type Answer = number | KubeError
  function api(answer: (name: string) => Answer) {
    const calls: { path: string; body: unknown }[] = []
    const http = {
      delete: async (path: string, body: unknown) => {
        calls.push({ path, body })
        const a = answer(path.split('/').pop()!)
        if (a instanceof KubeError) throw a
        return a
      }
    } as unknown as KubeHttp
    return { http, calls }
  }
  const forbidden = (name: string) =>
    new KubeError(`delete job ${name}: jobs.batch "${name}" is forbidden: User "u" cannot delete resource "jobs"`, {
      code: 403,
      reason: 'Forbidden',
      transient: false
    })

  beforeEach(() => core.reset())

  test('each Job waited for is deleted with propagation Background and its uid as a precondition; output deleted', async () => {
    const { http, calls } = api(() => 200)
    const o = several(['b', 'a'])
    await cleanUp(http, settings, o, seen(snap('old'), snap('a'), snap('b')))
    expect(calls.map((c) => c.path).sort()).toEqual(['/apis/batch/v1/namespaces/ci/jobs/a', '/apis/batch/v1/namespaces/ci/jobs/b'])
    expect(calls.find((c) => c.path.endsWith('/a'))!.body).toEqual({
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Background',
      preconditions: { uid: 'uid-a' }
    })
    expect(core.state.outputs.deleted).toBe('["ci/a","ci/b"]')
    expect(o.deleted).toEqual(['ci/a', 'ci/b'])
    expect(core.state.log.filter((l) => l.level === 'warning')).toEqual([])
  })

  test('without the delete right: one warning naming the right and every Job kept; no deleted output', async () => {
    const { http } = api((name) => forbidden(name))
    const o = several(['a', 'b', 'c'])
    await cleanUp(http, settings, o, seen(snap('a'), snap('b'), snap('c')))
    const warnings = core.state.log.filter((l) => l.level === 'warning')
    expect(warnings.map((w) => w.message)).toEqual([
      'no permission to delete jobs in namespace ci: kept job a, job b, job c (grant delete on batch jobs to the credentials, or set delete: never)'
    ])
    expect(core.state.outputs.deleted).toBeUndefined()
    expect(o.deleted).toBeUndefined()
  })

  test('a Job gone meanwhile (404) is not listed as deleted; another error is a warning of its own', async () => {
    const { http } = api((name) =>
      name === 'gone' ? 404 : name === 'busy' ? new KubeError('delete job busy: no answer in time', { transient: true }) : 200
    )
    await cleanUp(http, settings, several(['gone', 'busy', 'ok']), seen(snap('gone'), snap('busy'), snap('ok')))
    expect(core.state.outputs.deleted).toBe('["ci/ok"]')
    expect(core.state.log.filter((l) => l.level === 'warning').map((w) => w.message)).toEqual([
      'job ci/busy not deleted: delete job busy: no answer in time'
    ])
  })

  test('a Job kept is named, with why, in one log line per reason and in the summary; the others are deleted', async () => {
    const { http, calls } = api(() => 200)
    const running = (name: string) => snap(name, { job: { ...job(name), active: 1, conditions: [] } })
    await cleanUp(http, settings, several(['a', 'b', 'c']), seen(snap('a'), running('b'), running('c')))
    expect(calls.map((c) => c.path)).toEqual(['/apis/batch/v1/namespaces/ci/jobs/a'])
    const why = 'the wait was met but the Job has not ended (no final condition yet): delete: on-success deletes an ended Job only'
    expect(core.state.log.filter((l) => l.message.startsWith('kept ')).map((l) => l.message)).toEqual([`kept job ci/b, job ci/c: ${why}`])
    expect(core.state.summary).toContain('🗑️ Deleted `ci/a`')
    expect(core.state.summary).toContain(`ℹ️ Kept \`ci/b\`, \`ci/c\`: ${why}.`)
  })

  test('the summary line names the Jobs deleted in code, whatever their names', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-cleanup-'))
    const file = path.join(dir, 'summary.md')
    fs.writeFileSync(file, '')
    const before = process.env.GITHUB_STEP_SUMMARY
    process.env.GITHUB_STEP_SUMMARY = file
    try {
      const hostile = 'x`<img src=x>`@octocat'
      const { http } = api(() => 200)
      await cleanUp(http, settings, several(['a', hostile]), seen(snap('a'), snap(hostile)))
      const tree = parse(fs.readFileSync(file, 'utf8'))
      expect(tree.children.map((n) => n.type)).toEqual(['paragraph'])
      const line = tree.children[0]!.type === 'paragraph' ? tree.children[0].children : []
      expect(line.filter((n) => n.type === 'inlineCode').map((n) => n.type === 'inlineCode' && n.value)).toEqual(['ci/a', `ci/${hostile}`])
      expect(line.every((n) => n.type === 'text' || n.type === 'inlineCode')).toBe(true)
    } finally {
      if (before === undefined) delete process.env.GITHUB_STEP_SUMMARY
      else process.env.GITHUB_STEP_SUMMARY = before
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a result the inputs keep: no request at all', async () => {
    const { http, calls } = api(() => 200)
    await cleanUp(http, settings, { ...several(['a']), result: 'failed' }, seen(snap('a')))
    expect(calls).toEqual([])
  })
})
