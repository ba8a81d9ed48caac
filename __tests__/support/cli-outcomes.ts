// Outcomes for the CLI's reporters (JUnit, terminal), built as main.ts
// builds them: API objects through the model, then decide/decideJobs. A
// release: a migration and a seed that complete, a smoke test whose two pods
// exit 3 (one with a hostile log), and one Job with a pod stuck pulling.
import type { V1Job, V1Pod } from '@kubernetes/client-node'
import { podCause } from '../../src/decide/explain.js'
import { decideJobs, type Wanted } from '../../src/decide/jobs.js'
import { decide, type Ending } from '../../src/decide/verdict.js'
import type { Diagnosis } from '../../src/diagnose/collect.js'
import type { Snapshot, Target } from '../../src/model.js'
import { jobInfo, podInfo } from '../../src/observe/convert.js'
import type { JobReport, Outcome } from '../../src/report/outcome.js'

export const T0 = Date.parse('2026-11-30T10:00:00Z')
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z') as unknown as Date
export const NOW = T0 + 40_000
export const complete: Target = { kind: 'condition', condition: 'Complete' }

type Fate =
  | { phase: 'Succeeded' | 'Failed'; start: number; end: number; exitCode: number }
  | { phase: 'Running'; start: number }
  | { phase: 'Pending'; start: number; pulling: string }

export function pod(jobName: string, name: string, f: Fate): V1Pod {
  const image = f.phase === 'Pending' ? f.pulling : `registry.example/${jobName}:2.1`
  const state =
    f.phase === 'Running'
      ? { running: { startedAt: at(f.start) } }
      : f.phase === 'Pending'
        ? { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${f.pulling}"` } }
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
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image }] },
    status: {
      phase: f.phase,
      startTime: at(f.start - 1),
      containerStatuses: [{ name: 'main', image, imageID: '', ready: f.phase === 'Running', restartCount: 0, state }]
    }
  }
}

export function job(name: string, status: V1Job['status'], start: number): V1Job {
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

export const snapshot = (j: V1Job, pods: V1Pod[]): Snapshot => ({
  namespace: 'prod',
  name: j.metadata!.name!,
  job: jobInfo(j),
  jobDeleted: false,
  synced: true,
  podsListed: true,
  pods: pods.map(podInfo)
})

export const byName = (...names: string[]): Wanted => ({ names, expectedJobs: 1, failFast: false })

export function severalOutcome(
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
    requests: 5
  }
}

export const migrate = snapshot(completeJob('migrate', 1, 9), [
  pod('migrate', 'migrate-7kq2x', { phase: 'Succeeded', start: 2, end: 9, exitCode: 0 })
])
export const seed = snapshot(completeJob('seed', 1, 14), [
  pod('seed', 'seed-m4t8c', { phase: 'Succeeded', start: 2, end: 14, exitCode: 0 })
])
const smokePods = [
  pod('smoke', 'smoke-r2d9v', { phase: 'Failed', start: 2, end: 6, exitCode: 3 }),
  pod('smoke', 'smoke-hx5wq', { phase: 'Failed', start: 17, end: 21, exitCode: 3 })
]
const backoff = {
  status: 'True',
  reason: 'BackoffLimitExceeded',
  message: 'Job has reached the specified backoff limit',
  lastTransitionTime: at(22)
}
export const smoke = snapshot(
  job(
    'smoke',
    {
      failed: 2,
      conditions: [
        { type: 'FailureTarget', ...backoff },
        { type: 'Failed', ...backoff }
      ]
    },
    1
  ),
  smokePods
)

/** What a hostile or careless pod prints: colours, a title change, a clipboard write, XML that tries to break out. */
export const HOSTILE_LINE = '\x1b[31mFAIL\x1b[0m \x1b]0;pwned\x07\x1b]52;c;ZWNobyBoaQ==\x07</system-out>]]><x a="1">&\x00\x08end'

export const smokeDiagnosis = (r: JobReport): Diagnosis | undefined =>
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
                HOSTILE_LINE,
                'smoke: 1 of 12 checks failed'
              ]
            },
            events: [{ object: 'Pod/smoke-r2d9v', reason: 'BackOff', message: 'Back-off restarting failed container main', count: 2 }]
          }
        ],
        jobEvents: [
          { object: 'Job/smoke', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', count: 1 }
        ],
        notes: []
      }

/** Three Jobs by name, one failed (fail-fast false). */
export const severalFailed = (): Outcome =>
  severalOutcome([migrate, seed, smoke], byName('migrate', 'seed', 'smoke'), 23_400, smokeDiagnosis)

/** One Job, a pod stuck pulling its image: failed after the grace. */
export function stuckPull(): Outcome {
  const j = job('build', { active: 1 }, 1)
  const s = snapshot(j, [pod('build', 'build-p3', { phase: 'Pending', start: 2, pulling: 'registry.example/tools:missing' })])
  s.pods[0].containers[0].waitingSince = new Date(T0 + 2000).toISOString()
  const v = decide(s, complete, { podErrorGraceMs: 30_000 }, NOW)
  return {
    result: 'failed',
    message: v.message,
    namespace: 'prod',
    job: 'build',
    target: complete,
    verdict: v,
    snapshot: s,
    diagnosis: {
      evidence: [
        {
          pod: 'build-p3',
          cause: podCause(s.pods[0])!,
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
      jobEvents: [],
      notes: ['no permission to get pods/log in namespace prod: logs not shown (grant get on pods/log)']
    },
    elapsedMs: 40_000
  }
}

/** One Job that completed. */
export function met(): Outcome {
  const v = decide(migrate, complete, { podErrorGraceMs: 60_000 }, NOW)
  return {
    result: 'met',
    message: v.message,
    namespace: 'prod',
    job: 'migrate',
    target: complete,
    verdict: v,
    snapshot: migrate,
    elapsedMs: 9_200
  }
}
