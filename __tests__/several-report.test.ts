// The report of several Jobs in one step: the outputs (jobs, pods naming
// their Job, job null, count summed, the 1 MB cut), the summary of three Jobs
// with one failed (a golden file: UPDATE_GOLDEN=1 rewrites it), and the
// annotations, each named by its Job. Outcomes are built as main.ts builds
// them: API objects through the model, then decideJobs.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from '@jest/globals'
import type { V1Job, V1Pod } from '@kubernetes/client-node'
import { podCause } from '../src/decide/explain.js'
import { decideJobs, type Wanted } from '../src/decide/jobs.js'
import type { Ending } from '../src/decide/verdict.js'
import type { Diagnosis } from '../src/diagnose/collect.js'
import type { Snapshot, Target } from '../src/model.js'
import { jobInfo, podInfo } from '../src/observe/convert.js'
import { annotations } from '../src/report/annotations.js'
import type { JobReport, Outcome } from '../src/report/outcome.js'
import { MAX_OUTPUT, outputs } from '../src/report/render.js'
import { summaryMarkdown } from '../src/report/summary.js'

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden')
const T0 = Date.parse('2026-11-30T10:00:00Z')
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z') as unknown as Date
const NOW = T0 + 40_000
const complete: Target = { kind: 'condition', condition: 'Complete' }

/** The text as the golden file has it. A missing golden fails (a test that writes its own expectation
 * passes whatever it is given); UPDATE_GOLDEN=1 writes it on purpose, to be read before committing. */
function golden(name: string, actual: string, update = process.env.UPDATE_GOLDEN === '1'): void {
  const file = path.join(GOLDEN, name)
  if (update) fs.writeFileSync(file, actual)
  else if (!fs.existsSync(file)) {
    throw new Error(
      `golden file ${path.relative(process.cwd(), file)} is missing: ` +
        'run UPDATE_GOLDEN=1 npm test -- __tests__/several-report.test.ts to write it, then read it and commit it'
    )
  }
  expect(actual).toBe(fs.readFileSync(file, 'utf8'))
}

test('a missing golden file fails the test and is not written', () => {
  const name = `missing-${process.pid}.md`
  expect(() => golden(name, 'anything', false)).toThrow(/golden file .*missing-\d+\.md is missing: run UPDATE_GOLDEN=1/)
  expect(fs.existsSync(path.join(GOLDEN, name))).toBe(false)
})

type Fate = { phase: 'Succeeded' | 'Failed'; start: number; end: number; exitCode: number } | { phase: 'Running'; start: number }

function pod(jobName: string, name: string, f: Fate): V1Pod {
  const state =
    f.phase === 'Running'
      ? { running: { startedAt: at(f.start) } }
      : {
          terminated: {
            exitCode: f.exitCode,
            reason: f.exitCode ? 'Error' : 'Completed',
            startedAt: at(f.start),
            finishedAt: at(f.end)
          }
        }
  return {
    metadata: {
      name,
      namespace: 'prod',
      uid: `uid-${name}`,
      creationTimestamp: at(f.start - 1),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: `uid-${jobName}`, controller: true }]
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image: `registry.example/${jobName}:2.1` }] },
    status: {
      phase: f.phase,
      startTime: at(f.start - 1),
      containerStatuses: [
        { name: 'main', image: `registry.example/${jobName}:2.1`, imageID: '', ready: f.phase === 'Running', restartCount: 0, state }
      ]
    }
  }
}

function job(name: string, status: V1Job['status'], start: number): V1Job {
  return {
    metadata: { name, namespace: 'prod', uid: `uid-${name}`, creationTimestamp: at(start - 1) },
    spec: {
      template: {},
      parallelism: 1,
      completions: 1,
      backoffLimit: 1,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': `uid-${name}` } }
    },
    status: { startTime: at(start), ...status }
  }
}

const completeJob = (name: string, start: number, end: number) =>
  job(
    name,
    {
      succeeded: 1,
      completionTime: at(end),
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', lastTransitionTime: at(end) },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', lastTransitionTime: at(end) }
      ]
    },
    start
  )

const snapshot = (j: V1Job, pods: V1Pod[]): Snapshot => ({
  namespace: 'prod',
  name: j.metadata!.name!,
  job: jobInfo(j),
  jobDeleted: false,
  synced: true,
  podsListed: true,
  pods: pods.map(podInfo)
})

/** An Outcome as main.ts builds it for several Jobs. */
function severalOutcome(
  snaps: Snapshot[],
  wanted: Wanted,
  elapsedMs: number,
  diagnose: (r: JobReport) => Diagnosis | undefined,
  ending?: Ending
): Outcome {
  const overall = decideJobs({ synced: true, jobs: snaps }, wanted, complete, { podErrorGraceMs: 60_000, stepStartedAt: T0 }, NOW, ending)
  return {
    result: overall.state as Outcome['result'],
    message: overall.message,
    namespace: 'prod',
    target: complete,
    jobs: overall.jobs.map((j) => ({ ...j, diagnosis: diagnose(j) })),
    count: overall.count,
    notes: overall.notes,
    elapsedMs,
    mode: 'watch',
    requests: 5,
    runUrl: 'https://github.com/acme/app/actions/runs/42'
  }
}

// A release: a migration and a seed that complete, a smoke test whose two pods exit 3.
const migrate = snapshot(completeJob('migrate', 1, 9), [
  pod('migrate', 'migrate-7kq2x', { phase: 'Succeeded', start: 2, end: 9, exitCode: 0 })
])
const seed = snapshot(completeJob('seed', 1, 14), [pod('seed', 'seed-m4t8c', { phase: 'Succeeded', start: 2, end: 14, exitCode: 0 })])
const smokePods = [
  pod('smoke', 'smoke-r2d9v', { phase: 'Failed', start: 2, end: 6, exitCode: 3 }),
  pod('smoke', 'smoke-hx5wq', { phase: 'Failed', start: 17, end: 21, exitCode: 3 })
]
const smoke = snapshot(
  job(
    'smoke',
    {
      failed: 2,
      conditions: [
        {
          type: 'FailureTarget',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          lastTransitionTime: at(22)
        },
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          lastTransitionTime: at(22)
        }
      ]
    },
    1
  ),
  smokePods
)
const smokeDiagnosis = (r: JobReport): Diagnosis | undefined =>
  r.name !== 'smoke'
    ? undefined
    : {
        evidence: [
          {
            pod: 'smoke-r2d9v',
            cause: podCause(podInfo(smokePods[0]))!,
            log: {
              container: 'main',
              previous: false,
              lines: [
                'GET https://staging.example/health: 200',
                'GET https://staging.example/api/orders: 500',
                'smoke: 1 of 12 checks failed'
              ]
            },
            events: []
          }
        ],
        jobEvents: [
          { object: 'Job/smoke', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', count: 1 }
        ],
        notes: []
      }
const byName = (...names: string[]): Wanted => ({ names, expectedJobs: 1, failFast: false })

describe('three Jobs, one failed (fail-fast false)', () => {
  const o = severalOutcome([migrate, seed, smoke], byName('migrate', 'seed', 'smoke'), 23_400, smokeDiagnosis)

  test('the summary: a line per Job on top, then the failed Job’s details (golden)', () => {
    expect(o.result).toBe('failed')
    golden('several-failed.md', summaryMarkdown(o, NOW))
  })

  test('annotations: the failed Job’s cause, titled by the Job, with its log tail; nothing for the Jobs that met', () => {
    const list = annotations(o)
    golden('several-failed.annotations.json', JSON.stringify(list, null, 2) + '\n')
    expect(list.map((a) => [a.level, a.title])).toEqual([['error', 'prod/smoke: Error, exit code 3: container main (2 pods)']])
    expect(list[0].message).toContain('smoke: 1 of 12 checks failed')
  })

  test('outputs: jobs keyed by name with each result, pods naming their Job, job null, count summed', () => {
    const out = outputs(o)
    expect(out.result).toBe('failed')
    expect(out.job).toBe('null')
    expect(out.count).toBe('0')
    const jobs = JSON.parse(out.jobs)
    expect(Object.keys(jobs)).toEqual(['migrate', 'seed', 'smoke'])
    expect(jobs.migrate).toMatchObject({
      result: 'met',
      count: 0,
      phases: { 'migrate-7kq2x': 'Succeeded' },
      job: { name: 'migrate', succeeded: 1 }
    })
    expect(jobs.smoke).toMatchObject({
      result: 'failed',
      phases: { 'smoke-r2d9v': 'Failed', 'smoke-hx5wq': 'Failed' },
      job: { name: 'smoke', failed: 2, uid: 'uid-smoke' }
    })
    expect(jobs.smoke.message).toMatch(/^job prod\/smoke failed: BackoffLimitExceeded/)
    expect(JSON.parse(out.pods).map((p: { name: string; job: string }) => [p.job, p.name])).toEqual([
      ['migrate', 'migrate-7kq2x'],
      ['seed', 'seed-m4t8c'],
      ['smoke', 'smoke-r2d9v'],
      ['smoke', 'smoke-hx5wq']
    ])
    expect(JSON.parse(out.phases)).toEqual({
      'migrate-7kq2x': 'Succeeded',
      'seed-m4t8c': 'Succeeded',
      'smoke-r2d9v': 'Failed',
      'smoke-hx5wq': 'Failed'
    })
    expect(out.deleted).toBe('[]')
  })
})

describe('outputs of several Jobs', () => {
  const running = (name: string, n: number, from = 0) =>
    snapshot(
      job(name, { active: n }, 1),
      Array.from({ length: n }, (_, i) => pod(name, `${name}-${String(from + i).padStart(5, '0')}`, { phase: 'Running', start: 2 }))
    )
  const phaseRunning: Target = { kind: 'phase', phase: 'Running', match: 'at-least' }
  /** Every Job by name, all Running: met. */
  const runningOutcome = (snaps: Snapshot[]): Outcome => {
    const overall = decideJobs(
      { synced: true, jobs: snaps },
      byName(...snaps.map((s) => s.name)),
      phaseRunning,
      { podErrorGraceMs: 0 },
      NOW
    )
    return { result: 'met', message: overall.message, namespace: 'prod', jobs: overall.jobs, count: overall.count, elapsedMs: 1000 }
  }

  test('count is the sum over the Jobs; each Job’s own count in jobs', () => {
    const out = outputs(runningOutcome([running('a', 2), running('b', 3)]))
    expect(out.count).toBe('5')
    expect(Object.fromEntries(Object.entries(JSON.parse(out.jobs)).map(([k, v]) => [k, (v as { count: number }).count]))).toEqual({
      a: 2,
      b: 3
    })
  })

  test('a Job never found has job null in jobs; Jobs deleted by the step are listed', () => {
    const o = severalOutcome(
      [migrate, { namespace: 'prod', name: 'late', jobDeleted: false, synced: true, pods: [] }],
      byName('migrate', 'late'),
      60_000,
      () => undefined,
      {
        kind: 'timeout',
        afterMs: 60_000
      }
    )
    o.deleted = ['prod/migrate']
    const out = outputs(o)
    expect(o.result).toBe('timeout')
    expect(JSON.parse(out.jobs).late).toEqual({
      result: 'timeout',
      message: 'timed out: job prod/late not found yet after 1m',
      count: 0,
      phases: {},
      job: null
    })
    expect(out.deleted).toBe('["prod/migrate"]')
  })

  test('past 1 MB, pods, phases and jobs are cut to whole entries with a note saying what was left out; every output fits', () => {
    // 40 Jobs of 1,000 pods: 40,000 rows of about 130 bytes (phases alone: 40,000 × 26 bytes), and each Job's phases in jobs
    const snaps = Array.from({ length: 40 }, (_, i) => running(`job-${String(i).padStart(2, '0')}`, 1000))
    const o = runningOutcome(snaps)
    const out = outputs(o)
    expect(out.count).toBe('40000')
    for (const [k, v] of Object.entries(out)) expect({ k, fits: v.length <= MAX_OUTPUT }).toEqual({ k, fits: true })

    const pods = JSON.parse(out.pods) as { name: string; job?: string }[]
    const note = pods.pop()!
    expect(note.name).toBe(`…${40_000 - pods.length} more pods not listed: the output is limited to 1 MB`)
    expect(pods.length).toBeGreaterThan(5_000)
    // whole rows, in order, each naming its Job
    expect(pods.every((p) => p.job && p.name.startsWith(`${p.job}-`))).toBe(true)
    expect(pods[0]).toMatchObject({ name: 'job-00-00000', job: 'job-00', phase: 'Running' })

    const phases = Object.entries(JSON.parse(out.phases) as Record<string, string>)
    const [noteName, notePhase] = phases.pop()!
    expect(noteName).toBe(`…${40_000 - phases.length} more pods not listed: the output is limited to 1 MB`)
    expect(notePhase).toBe('cut')

    const jobs = Object.entries(JSON.parse(out.jobs) as Record<string, unknown>)
    const [jobsNoteKey, jobsNote] = jobs.pop()!
    expect(jobsNoteKey).toBe('…')
    expect(jobsNote).toBe(`${40 - jobs.length} more jobs not listed: the output is limited to 1 MB`)
    expect(jobs.length).toBeGreaterThan(10)
    expect(jobs[0][0]).toBe('job-00')
  })
})
