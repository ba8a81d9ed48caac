// Golden tests of what a person reads: the job summary's markdown and the
// annotations, for success, failure, timeout and a 1,000-pod Job.
// A golden file is written only when asked to:
//   UPDATE_GOLDEN=1 npm test -- __tests__/summary.test.ts
// rewrites every golden this file checks (and creates missing ones); read
// the diff before committing it. Without it a missing golden fails the test,
// so that a renamed or deleted file cannot turn a check into a write.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from '@jest/globals'
import type { V1Job, V1Pod } from '@kubernetes/client-node'
import { podCause } from '../src/decide/explain.js'
import { decide } from '../src/decide/verdict.js'
import type { Diagnosis } from '../src/diagnose/collect.js'
import type { Snapshot, Target } from '../src/model.js'
import { jobInfo, podInfo } from '../src/observe/convert.js'
import { annotations } from '../src/report/annotations.js'
import type { Outcome } from '../src/report/outcome.js'
import { MAX_POD_ROWS, summaryMarkdown, timeline } from '../src/report/summary.js'

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden')
const T0 = Date.parse('2026-11-28T10:00:00Z')
const at = (s: number) => new Date(T0 + s * 1000).toISOString() as unknown as Date

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name)
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, actual)
  else if (!fs.existsSync(file)) {
    throw new Error(
      `golden file ${path.relative(process.cwd(), file)} is missing: ` +
        'run UPDATE_GOLDEN=1 npm test -- __tests__/summary.test.ts to write it, then read it and commit it'
    )
  }
  expect(actual).toBe(fs.readFileSync(file, 'utf8'))
}

const job = (name: string, status: V1Job['status'], spec: V1Job['spec'] = { template: {}, parallelism: 1, completions: 1 }): V1Job => ({
  metadata: { name, namespace: 'ci', uid: `uid-${name}`, creationTimestamp: at(0) },
  spec: { selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': `uid-${name}` } }, ...spec },
  status
})

type PodFate =
  | { phase: 'Running'; start: number }
  | { phase: 'Succeeded' | 'Failed'; start: number; end: number; exitCode: number; reason?: string }
  | { phase: 'Pending'; waiting: string; message?: string; image?: string }
  | { phase: 'Running'; start: number; crashLoop: { restarts: number; lastEnd: number } }

function pod(name: string, f: PodFate, index?: number): V1Pod {
  const image = 'registry.example/build:1.4'
  let state: NonNullable<V1Pod['status']>['containerStatuses']
  if (f.phase === 'Pending') {
    state = [
      {
        name: 'main',
        image: f.image ?? image,
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: f.waiting, message: f.message } }
      }
    ]
  } else if ('crashLoop' in f) {
    state = [
      {
        name: 'main',
        image,
        imageID: '',
        ready: false,
        restartCount: f.crashLoop.restarts,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=main pod=${name}` } },
        lastState: {
          terminated: { exitCode: 1, reason: 'Error', startedAt: at(f.crashLoop.lastEnd - 2), finishedAt: at(f.crashLoop.lastEnd) }
        }
      }
    ]
  } else if (f.phase === 'Running') {
    state = [{ name: 'main', image, imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: at(f.start) } } }]
  } else {
    state = [
      {
        name: 'main',
        image,
        imageID: '',
        ready: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode: f.exitCode,
            reason: f.reason ?? (f.exitCode ? 'Error' : 'Completed'),
            startedAt: at(f.start),
            finishedAt: at(f.end)
          }
        }
      }
    ]
  }
  return {
    metadata: {
      name,
      namespace: 'ci',
      uid: `uid-${name}`,
      creationTimestamp: at(0),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'build', uid: 'uid-build', controller: true }],
      annotations: index === undefined ? {} : { 'batch.kubernetes.io/job-completion-index': String(index) }
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image }] },
    status: { phase: f.phase, startTime: at(0.5), containerStatuses: state }
  }
}

function outcome(result: Outcome['result'], target: Target, j: V1Job, pods: V1Pod[], elapsedMs: number, diagnosis?: Diagnosis): Outcome {
  const snapshot: Snapshot = { namespace: 'ci', name: j.metadata!.name!, job: jobInfo(j), jobDeleted: false, pods: pods.map(podInfo) }
  // A timeout is what happens when no rule ended the wait earlier: no stuck-pod rule here.
  const ending = result === 'timeout' ? ({ kind: 'timeout', afterMs: 300_000 } as const) : undefined
  const v = decide(snapshot, target, { podErrorGraceMs: result === 'timeout' ? 0 : 60_000 }, T0 + elapsedMs, ending)
  expect(v.state).toBe(result)
  return {
    result,
    message: v.message,
    namespace: 'ci',
    job: j.metadata!.name,
    target,
    verdict: v,
    snapshot,
    elapsedMs,
    mode: 'watch',
    requests: 4,
    runUrl: 'https://github.com/acme/app/actions/runs/42',
    diagnosis
  }
}

const NOW = T0 + 125_000

describe('golden summaries and annotations', () => {
  test('success: three pods Running', () => {
    const o = outcome(
      'met',
      { kind: 'phase', phase: 'Running', match: 'at-least' },
      job('build', { active: 3, ready: 3 }, { template: {}, parallelism: 3, completions: 3 }),
      [
        pod('build-a1', { phase: 'Running', start: 2 }),
        pod('build-b2', { phase: 'Running', start: 3 }),
        pod('build-c3', { phase: 'Succeeded', start: 2, end: 4, exitCode: 0 })
      ],
      4_200
    )
    golden('success.md', summaryMarkdown(o, NOW))
    golden('success.annotations.json', JSON.stringify(annotations(o), null, 2) + '\n')
  })

  test('failure: backoff limit, exit code 3 with its log, events, and an image that never pulls', () => {
    const j = job(
      'build',
      {
        active: 1,
        failed: 2,
        conditions: [
          {
            type: 'FailureTarget',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
            lastTransitionTime: at(30)
          },
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
            lastTransitionTime: at(31)
          }
        ]
      },
      { template: {}, parallelism: 2, completions: 2, backoffLimit: 1 }
    )
    const pods = [
      pod('build-x1', { phase: 'Failed', start: 2, end: 9, exitCode: 3 }),
      pod('build-x2', { phase: 'Failed', start: 20, end: 28, exitCode: 3 }),
      pod('build-p3', {
        phase: 'Pending',
        waiting: 'ImagePullBackOff',
        message: 'Back-off pulling image "registry.example/tools:missing"',
        image: 'registry.example/tools:missing'
      })
    ]
    const snapshotPods = pods.map(podInfo)
    const diagnosis: Diagnosis = {
      evidence: [
        {
          pod: 'build-x1',
          cause: podCause(snapshotPods[0])!,
          log: {
            container: 'main',
            previous: false,
            lines: ['compiling 214 files', 'error: cannot find module `db` | see below', 'make: *** [build] Error 3']
          },
          events: []
        },
        {
          pod: 'build-p3',
          cause: podCause(snapshotPods[2])!,
          events: [
            {
              object: 'Pod/build-p3',
              reason: 'Failed',
              message: 'Failed to pull image "registry.example/tools:missing": not found',
              count: 4
            }
          ]
        }
      ],
      jobEvents: [
        { object: 'Job/build', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', count: 1 }
      ],
      notes: []
    }
    const o = outcome('failed', { kind: 'condition', condition: 'Complete' }, j, pods, 31_000, diagnosis)
    golden('failure.md', summaryMarkdown(o, NOW))
    golden('failure.annotations.json', JSON.stringify(annotations(o), null, 2) + '\n')
  })

  test('timeout: a crash loop and a pod that cannot be scheduled; no permission to read logs', () => {
    const stuck = pod('build-s2', { phase: 'Pending', waiting: 'ContainerCreating' })
    stuck.spec!.nodeName = undefined
    stuck.status!.conditions = [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: '0/1 nodes are available: 1 Insufficient cpu.',
        lastTransitionTime: at(1)
      }
    ]
    stuck.status!.containerStatuses = []
    const pods = [pod('build-c1', { phase: 'Running', start: 1, crashLoop: { restarts: 5, lastEnd: 290 } }), stuck]
    const snapshotPods = pods.map(podInfo)
    const diagnosis: Diagnosis = {
      evidence: [{ pod: 'build-c1', cause: podCause(snapshotPods[0])!, events: [] }],
      jobEvents: [],
      notes: ['no permission to get pods/log in namespace ci: logs not shown (grant get on pods/log)']
    }
    const o = outcome(
      'timeout',
      { kind: 'phase', phase: 'Succeeded', match: 'at-least' },
      job('build', { active: 2 }, { template: {}, parallelism: 2, completions: 2 }),
      pods,
      300_000,
      diagnosis
    )
    golden('timeout.md', summaryMarkdown(o, T0 + 300_000))
    golden('timeout.annotations.json', JSON.stringify(annotations(o), null, 2) + '\n')
  })

  test('a 1,000-pod Job is aggregated, lists its problem pods, and stays far under 1 MiB', () => {
    const pods: V1Pod[] = []
    for (let i = 0; i < 1000; i++) {
      const name = `big-${String(i).padStart(4, '0')}`
      if (i % 100 === 7) pods.push(pod(name, { phase: 'Failed', start: 3, end: 40, exitCode: 137, reason: 'OOMKilled' }, i))
      else if (i % 250 === 3)
        pods.push(
          pod(
            name,
            {
              phase: 'Pending',
              waiting: 'ImagePullBackOff',
              message: 'Back-off pulling image "registry.example/big:2"',
              image: 'registry.example/big:2'
            },
            i
          )
        )
      else if (i % 2) pods.push(pod(name, { phase: 'Succeeded', start: 2, end: 50, exitCode: 0 }, i))
      else pods.push(pod(name, { phase: 'Running', start: 2 }, i))
    }
    const j = job(
      'big',
      { active: 494, succeeded: 496, failed: 10 },
      { template: {}, parallelism: 1000, completions: 1000, completionMode: 'Indexed' }
    )
    const o = outcome('timeout', { kind: 'condition', condition: 'Complete' }, j, pods, 300_000)
    const md = summaryMarkdown(o, T0 + 300_000)
    expect(Buffer.byteLength(md)).toBeLessThan(64 * 1024)
    expect(md.split('\n').filter((l) => l.startsWith('| big-')).length).toBeLessThanOrEqual(MAX_POD_ROWS)
    expect(md).not.toContain('```mermaid')
    golden('large.md', md)
    golden('large.annotations.json', JSON.stringify(annotations(o), null, 2) + '\n')
  })
})

describe('the timeline', () => {
  test('Pending from creation, then Running until the end; failures marked crit', () => {
    const pods = [
      pod('t-1', { phase: 'Succeeded', start: 2, end: 5, exitCode: 0 }),
      pod('t-2', { phase: 'Failed', start: 1, end: 3, exitCode: 1 }),
      pod('t-3', { phase: 'Running', start: 4 })
    ].map(podInfo)
    expect(timeline(pods, T0 + 10_000)?.split('\n')).toEqual([
      '```mermaid',
      'gantt',
      '  dateFormat x',
      '  axisFormat %H:%M:%S',
      '  section t-1',
      `  Pending :p0, ${T0}, ${T0 + 2000}`,
      `  Running → Succeeded :done, r0, ${T0 + 2000}, ${T0 + 5000}`,
      '  section t-2',
      `  Pending :p1, ${T0}, ${T0 + 1000}`,
      `  Running → Failed :crit, r1, ${T0 + 1000}, ${T0 + 3000}`,
      '  section t-3',
      `  Pending :p2, ${T0}, ${T0 + 4000}`,
      `  Running :active, r2, ${T0 + 4000}, ${T0 + 10000}`,
      '```'
    ])
  })
})
