// The pure renderings of an Outcome (outputs, progress line, job summary) and
// the pod reasons they show, from realistic API objects run through the model.
import * as fs from 'node:fs'
import { describe, expect, test } from '@jest/globals'
import type { V1Job, V1Pod } from '@kubernetes/client-node'
import { podStatus as podReason } from '../src/decide/explain.js'
import type { Verdict } from '../src/decide/verdict.js'
import type { Snapshot } from '../src/model.js'
import { jobInfo, podInfo } from '../src/observe/convert.js'
import type { Outcome, Result } from '../src/report/outcome.js'
import { outputs, podRow, progressLine, sortedPods } from '../src/report/render.js'
import { summaryMarkdown } from '../src/report/summary.js'

// The API server sends timestamps as strings and the action parses JSON itself,
// so at run time these "Date" fields are strings.
const t = (s: string) => s as unknown as Date

const JOB_UID = '6f1c2a4e-0000-4000-8000-000000000001'

function pod(name: string, o: { status: V1Pod['status']; node?: string; created?: string; deleted?: string; index?: string }): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ci',
      uid: `uid-${name}`,
      resourceVersion: '4242',
      creationTimestamp: t(o.created ?? '2024-05-01T10:00:00Z'),
      ...(o.deleted ? { deletionTimestamp: t(o.deleted), deletionGracePeriodSeconds: 30 } : {}),
      labels: { 'batch.kubernetes.io/job-name': 'build', 'job-name': 'build', 'batch.kubernetes.io/controller-uid': JOB_UID },
      ...(o.index !== undefined ? { annotations: { 'batch.kubernetes.io/job-completion-index': o.index } } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'build', uid: JOB_UID, controller: true, blockOwnerDeletion: true }]
    },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'ghcr.io/acme/build:1.2.3' }]
    },
    status: o.status
  }
}

const scheduled = { type: 'PodScheduled', status: 'True', lastTransitionTime: t('2024-05-01T10:00:00Z') }

// ---------------------------------------------------------------- realistic pods

const running = pod('build-run01', {
  node: 'node-1',
  status: {
    phase: 'Running',
    startTime: t('2024-05-01T10:00:01Z'),
    conditions: [scheduled, { type: 'Ready', status: 'True' }],
    containerStatuses: [
      {
        name: 'main',
        image: 'ghcr.io/acme/build:1.2.3',
        imageID: '',
        ready: true,
        restartCount: 0,
        state: { running: { startedAt: t('2024-05-01T10:00:05Z') } }
      }
    ]
  }
})

const imagePull = pod('build-pull1', {
  node: 'node-2',
  created: '2024-05-01T10:00:02Z',
  status: {
    phase: 'Pending',
    startTime: t('2024-05-01T10:00:02Z'),
    conditions: [scheduled, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
    containerStatuses: [
      {
        name: 'main',
        image: 'ghcr.io/acme/build:nope',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "ghcr.io/acme/build:nope"' } }
      }
    ]
  }
})

const containerCreating = pod('build-new01', {
  node: 'node-1',
  status: {
    phase: 'Pending',
    startTime: t('2024-05-01T10:00:01Z'),
    conditions: [scheduled],
    containerStatuses: [
      { name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }
    ]
  }
})

const initFailing = pod('build-init1', {
  node: 'node-3',
  status: {
    phase: 'Pending',
    startTime: t('2024-05-01T10:00:01Z'),
    conditions: [scheduled, { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized' }],
    initContainerStatuses: [
      {
        name: 'fetch-sources',
        image: 'alpine/git',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: {
          terminated: { exitCode: 128, reason: 'Error', startedAt: t('2024-05-01T10:00:02Z'), finishedAt: t('2024-05-01T10:00:03Z') }
        }
      }
    ],
    containerStatuses: [
      { name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }
    ]
  }
})

const initCrashLoop = pod('build-init2', {
  node: 'node-3',
  status: {
    phase: 'Pending',
    conditions: [scheduled],
    initContainerStatuses: [
      {
        name: 'migrate',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
        lastState: { terminated: { exitCode: 2, reason: 'Error', finishedAt: t('2024-05-01T10:01:00Z') } }
      }
    ],
    containerStatuses: [
      { name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }
    ]
  }
})

const oomKilled = pod('build-oom01', {
  node: 'node-2',
  status: {
    phase: 'Failed',
    startTime: t('2024-05-01T10:00:01Z'),
    conditions: [scheduled],
    containerStatuses: [
      {
        name: 'main',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: {
          terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: t('2024-05-01T10:00:05Z'), finishedAt: t('2024-05-01T10:02:00Z') }
        }
      }
    ]
  }
})

const exit3 = pod('build-err01', {
  node: 'node-1',
  status: {
    phase: 'Failed',
    startTime: t('2024-05-01T10:00:01Z'),
    containerStatuses: [
      {
        name: 'sidecar',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed' } }
      },
      {
        name: 'main',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 3, reason: 'Error', message: 'tests failed | 3 of 10' } }
      }
    ]
  }
})

const succeeded = pod('build-ok001', {
  node: 'node-1',
  status: {
    phase: 'Succeeded',
    startTime: t('2024-05-01T10:00:01Z'),
    containerStatuses: [
      { name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }
    ]
  }
})

const terminating = pod('build-del01', {
  node: 'node-1',
  deleted: '2024-05-01T10:05:00Z',
  status: {
    phase: 'Running',
    startTime: t('2024-05-01T10:00:01Z'),
    containerStatuses: [{ name: 'main', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: {} } }]
  }
})

const unschedulable = pod('build-sch01', {
  status: {
    phase: 'Pending',
    conditions: [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message:
          '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
        lastTransitionTime: t('2024-05-01T10:00:00Z')
      }
    ]
  }
})

const crashLoop = pod('build-crash', {
  node: 'node-2',
  status: {
    phase: 'Running',
    startTime: t('2024-05-01T10:00:01Z'),
    containerStatuses: [
      {
        name: 'main',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 4,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container=main' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: t('2024-05-01T10:03:00Z') } }
      }
    ]
  }
})

const evicted = pod('build-evict', {
  node: 'node-4',
  status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: ephemeral-storage.' }
})

const deadline = pod('build-dead1', {
  node: 'node-1',
  status: {
    phase: 'Failed',
    reason: 'DeadlineExceeded',
    message: 'Pod was active on the node longer than the specified deadline',
    containerStatuses: [
      { name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, reason: 'Error' } } }
    ]
  }
})

const noStatus = pod('build-fresh', { status: undefined })

// ---------------------------------------------------------------- podReason via the model

describe('podReason (through podInfo on API objects)', () => {
  test.each([
    ['running', undefined, running],
    ['image pull back-off', 'ImagePullBackOff', imagePull],
    ['container creating', 'ContainerCreating', containerCreating],
    ['failed init container', 'Init:Error, exit code 128', initFailing],
    ['init container in a crash loop', 'CrashLoopBackOff', initCrashLoop],
    ['OOM-killed', 'OOMKilled, exit code 137', oomKilled],
    ['non-zero exit after a sidecar exited 0', 'Error, exit code 3', exit3],
    ['succeeded', undefined, succeeded],
    ['terminating', 'Terminating', terminating],
    ['unschedulable', 'Unschedulable', unschedulable],
    ['crash loop', 'CrashLoopBackOff', crashLoop],
    ['evicted', 'Evicted', evicted],
    ['deadline exceeded (the pod reason wins over the exit code)', 'DeadlineExceeded', deadline],
    ['no status yet', undefined, noStatus]
  ] as const)('%s → %s', (_name, reason, p) => {
    expect(podReason(podInfo(p))).toBe(reason)
  })

  test('a terminated container without a reason or exit code', () => {
    const p = podInfo(
      pod('x', {
        status: {
          phase: 'Pending',
          initContainerStatuses: [
            { name: 'i', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1 } } }
          ]
        }
      })
    )
    expect(podReason(p)).toBe('Init:Terminated, exit code 1')
  })

  test('a Failed pod with an init container that failed names the exit code', () => {
    const p = podInfo(
      pod('x', {
        status: {
          phase: 'Failed',
          initContainerStatuses: [
            { name: 'i', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }
          ],
          containerStatuses: [
            { name: 'main', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }
          ]
        }
      })
    )
    // kubectl would say "Init:Error"; the action says at least the reason and exit code.
    expect(podReason(p)).toContain('Error, exit code 1')
  })

  test('a Terminating pod that already Succeeded is not "Terminating"', () => {
    const p = podInfo(pod('x', { deleted: '2024-05-01T10:05:00Z', status: { phase: 'Succeeded' } }))
    expect(podReason(p)).toBeUndefined()
    expect(podRow(p).phase).toBe('Succeeded')
  })

  test('a scheduling condition without a reason still counts as Unschedulable', () => {
    const p = podInfo(pod('x', { status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } }))
    expect(p.unschedulable).toEqual({ reason: 'Unschedulable', message: undefined, since: undefined })
    expect(podReason(p)).toBe('Unschedulable')
  })

  test('podInfo keeps what the report needs', () => {
    const p = podInfo(crashLoop)
    expect(p).toMatchObject({
      name: 'build-crash',
      uid: 'uid-build-crash',
      phase: 'Running',
      node: 'node-2',
      ownerUid: JOB_UID,
      ready: false,
      restarts: 4,
      startTime: '2024-05-01T10:00:01Z',
      creationTimestamp: '2024-05-01T10:00:00Z'
    })
    expect(p.containers[0]).toMatchObject({
      name: 'main',
      init: false,
      state: 'waiting',
      reason: 'CrashLoopBackOff',
      lastFinishedAt: '2024-05-01T10:03:00Z'
    })
    // What no rule or report reads is not kept: the last instance's reason (its exit code is the output exit-code's).
    expect(p.containers[0]).not.toHaveProperty('lastReason')
    expect(podInfo(noStatus).phase).toBe('Pending')
  })

  test('Date timestamps (client-node deserialized objects) become ISO strings', () => {
    const p = podInfo({
      metadata: { name: 'd', creationTimestamp: new Date('2024-05-01T10:00:00Z') },
      status: { phase: 'Running', startTime: new Date('2024-05-01T10:00:01Z') }
    })
    expect(p.creationTimestamp).toBe('2024-05-01T10:00:00.000Z')
    expect(p.startTime).toBe('2024-05-01T10:00:01.000Z')
  })
})

// ---------------------------------------------------------------- outcomes

const failedJob: V1Job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'build', namespace: 'ci', uid: JOB_UID, resourceVersion: '5000', creationTimestamp: t('2024-05-01T09:59:59Z') },
  spec: {
    parallelism: 3,
    completions: 3,
    backoffLimit: 0,
    selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': JOB_UID } },
    template: {}
  },
  status: {
    active: 1,
    ready: 1,
    succeeded: 1,
    failed: 1,
    terminating: 0,
    startTime: t('2024-05-01T10:00:00Z'),
    conditions: [
      {
        type: 'FailureTarget',
        status: 'True',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
        lastProbeTime: t('2024-05-01T10:02:00Z'),
        lastTransitionTime: t('2024-05-01T10:02:00Z')
      },
      {
        type: 'Failed',
        status: 'True',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached | the specified\nbackoff limit',
        lastProbeTime: t('2024-05-01T10:02:01Z'),
        lastTransitionTime: t('2024-05-01T10:02:01Z')
      }
    ]
  }
}

const runningJob: V1Job = {
  ...failedJob,
  status: { active: 2, ready: 1, succeeded: 0, failed: 0, terminating: 0, startTime: t('2024-05-01T10:00:00Z') }
}

function snapshot(job: V1Job | undefined, pods: V1Pod[], jobDeleted = false): Snapshot {
  return { namespace: 'ci', name: 'build', job: job ? jobInfo(job) : undefined, jobDeleted, pods: pods.map(podInfo) }
}

function verdict(state: Verdict['state'], summary: string, count: number, detail?: string): Verdict {
  return { state, summary, detail, message: `${summary}${detail ? `: ${detail}` : ''}`, count, expected: 3, problems: [], notes: [] }
}

const target = { kind: 'phase', phase: 'Running', expectedCount: 3, match: 'at-least' } as const

const OUTCOMES: Record<Result, { with: Outcome; without: Outcome }> = {
  met: {
    with: {
      result: 'met',
      message: '3 of 3 pods Running',
      namespace: 'ci',
      job: 'build',
      target,
      verdict: verdict('met', '3 of 3 pods Running', 3),
      snapshot: snapshot(runningJob, [running, crashLoop, terminating]),
      elapsedMs: 72_345,
      mode: 'watch',
      requests: 4
    },
    without: { result: 'met', message: 'met', elapsedMs: 1_000 }
  },
  failed: {
    with: {
      result: 'failed',
      message:
        'job ci/build failed: BackoffLimitExceeded: Job has reached the specified backoff limit (build-err01 Failed (Error, exit code 3))',
      namespace: 'ci',
      job: 'build',
      target: { kind: 'condition', condition: 'Complete' },
      verdict: verdict('failed', 'job ci/build failed', 0),
      snapshot: snapshot(failedJob, [exit3, succeeded, imagePull]),
      elapsedMs: 125_000,
      mode: 'poll',
      requests: 60
    },
    without: { result: 'failed', message: 'pod build-pull1 stuck in ImagePullBackOff for 1m0s', elapsedMs: 60_000 }
  },
  timeout: {
    with: {
      result: 'timeout',
      message: 'timed out: 1 of 3 pods Running after 15m: build-sch01 Pending (Unschedulable)',
      namespace: 'ci',
      job: 'build',
      target,
      verdict: verdict('waiting', '1 of 3 pods Running', 1, 'build-sch01 Pending (Unschedulable)'),
      snapshot: snapshot(runningJob, [running, unschedulable]),
      elapsedMs: 900_050,
      mode: 'watch',
      requests: 3
    },
    without: {
      result: 'timeout',
      message: 'timed out: no answer from the API server in 15m',
      namespace: 'ci',
      job: 'build',
      target,
      elapsedMs: 900_000
    }
  },
  cancelled: {
    with: {
      result: 'cancelled',
      message: 'cancelled after 10s: job ci/build not found yet',
      namespace: 'ci',
      job: 'build',
      target,
      verdict: {
        state: 'waiting',
        summary: 'job ci/build not found yet',
        message: 'job ci/build not found yet',
        count: 0,
        expected: 0,
        problems: [],
        notes: []
      },
      snapshot: snapshot(undefined, []),
      elapsedMs: 10_000
    },
    without: { result: 'cancelled', message: 'cancelled after 2.0s', elapsedMs: 2_000 }
  },
  error: {
    with: {
      result: 'error',
      message: 'list pods: pods is forbidden: User "system:serviceaccount:ci:runner" cannot list resource "pods"',
      namespace: 'ci',
      job: 'build',
      target,
      snapshot: snapshot(runningJob, [running], true),
      elapsedMs: 1_500
    },
    without: { result: 'error', message: "Input 'job' is required: the name of the Job to wait for", elapsedMs: 3 }
  }
}

// Every output action.yml declares, read from the file itself.
const ACTION_YML = fs.readFileSync(new URL('../action.yml', import.meta.url), 'utf8')
const OUTPUT_KEYS = ACTION_YML.slice(ACTION_YML.indexOf('\noutputs:'), ACTION_YML.indexOf('\nruns:'))
  .match(/^ {2}([a-z-]+):$/gm)!
  .map((l) => l.trim().slice(0, -1))

describe('outputs', () => {
  const all = Object.entries(OUTCOMES).flatMap(([r, o]) => [
    [`${r} with a snapshot`, o.with] as const,
    [`${r} without a snapshot`, o.without] as const
  ])

  test.each(all)('%s: every output of action.yml, all strings, JSON that parses', (_name, o) => {
    const out = outputs(o)
    expect(Object.keys(out).sort()).toEqual([...OUTPUT_KEYS].sort())
    for (const v of Object.values(out)) expect(typeof v).toBe('string')
    expect(out.result).toBe(o.result)
    expect(out.message).toBe(o.message)
    expect(out.count).toBe(String(o.verdict?.count ?? 0))
    expect(typeof JSON.parse(out.phases)).toBe('object')
    expect(Array.isArray(JSON.parse(out.pods))).toBe(true)
    expect(out.elapsed).toMatch(/^\d+\.\d$/)
    const job = JSON.parse(out.job)
    if (o.snapshot?.job) expect(job).toMatchObject({ name: 'build', namespace: 'ci', uid: JOB_UID })
    else expect(job).toBeNull()
  })

  test('without a snapshot: empty phases and pods, job null, count 0', () => {
    const out = outputs(OUTCOMES.error.without)
    expect(out).toEqual({
      result: 'error',
      message: "Input 'job' is required: the name of the Job to wait for",
      count: '0',
      phases: '{}',
      pods: '[]',
      job: 'null',
      jobs: '{}',
      created: '[]',
      deleted: '[]',
      'exit-code': '',
      elapsed: '0.0'
    })
  })

  test('met: phases map pod → phase, a Terminating pod shown as Terminating', () => {
    const out = outputs(OUTCOMES.met.with)
    expect(out.count).toBe('3')
    expect(JSON.parse(out.phases)).toEqual({ 'build-crash': 'Running', 'build-del01': 'Terminating', 'build-run01': 'Running' })
    expect(out.elapsed).toBe('72.3')
  })

  test('pods: name, phase, node, startTime, restarts, reason; nulls where unknown', () => {
    const pods = JSON.parse(outputs(OUTCOMES.timeout.with).pods)
    expect(pods).toEqual([
      { name: 'build-run01', phase: 'Running', node: 'node-1', startTime: '2024-05-01T10:00:01Z', restarts: 0, reason: null },
      { name: 'build-sch01', phase: 'Pending', node: null, startTime: null, restarts: 0, reason: 'Unschedulable' }
    ])
  })

  test('pods: exit codes and waiting reasons', () => {
    const pods = JSON.parse(outputs(OUTCOMES.failed.with).pods) as { name: string; reason: string | null; phase: string }[]
    expect(pods.map((p) => [p.name, p.phase, p.reason])).toEqual([
      ['build-err01', 'Failed', 'Error, exit code 3'],
      ['build-ok001', 'Succeeded', null],
      ['build-pull1', 'Pending', 'ImagePullBackOff']
    ])
  })

  test('pods of an Indexed Job carry their index and are in index order (numeric, not text)', () => {
    const pods = [
      pod('idx-10', { index: '10', created: '2024-05-01T10:00:00Z', status: { phase: 'Running' } }),
      pod('idx-2', { index: '2', created: '2024-05-01T10:00:05Z', status: { phase: 'Succeeded' } }),
      pod('idx-0', { index: '0', created: '2024-05-01T10:00:09Z', status: { phase: 'Pending' } })
    ]
    const out = outputs({ ...OUTCOMES.met.with, snapshot: snapshot(runningJob, pods) })
    const rows = JSON.parse(out.pods) as { name: string; index?: string }[]
    expect(rows.map((r) => [r.name, r.index])).toEqual([
      ['idx-0', '0'],
      ['idx-2', '2'],
      ['idx-10', '10']
    ])
    expect(Object.keys(JSON.parse(out.phases))).toEqual(['idx-0', 'idx-2', 'idx-10'])
  })

  test('pods of a NonIndexed Job have no index and are ordered by creation, then name', () => {
    const a = pod('b-pod', { created: '2024-05-01T10:00:01Z', status: { phase: 'Running' } })
    const b = pod('a-pod', { created: '2024-05-01T10:00:01Z', status: { phase: 'Running' } })
    const c = pod('z-pod', { created: '2024-05-01T09:00:00Z', status: { phase: 'Running' } })
    const s = snapshot(runningJob, [a, b, c])
    expect(sortedPods(s).map((p) => p.name)).toEqual(['z-pod', 'a-pod', 'b-pod'])
    expect(JSON.parse(outputs({ ...OUTCOMES.met.with, snapshot: s }).pods)[0]).not.toHaveProperty('index')
    // the snapshot itself is not reordered
    expect(s.pods.map((p) => p.name)).toEqual(['b-pod', 'a-pod', 'z-pod'])
  })

  test('job: counters, deleted flag and conditions with nulls', () => {
    expect(JSON.parse(outputs(OUTCOMES.failed.with).job)).toEqual({
      name: 'build',
      namespace: 'ci',
      uid: JOB_UID,
      active: 1,
      ready: 1,
      succeeded: 1,
      failed: 1,
      terminating: 0,
      deleted: false,
      conditions: [
        { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
        { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached | the specified\nbackoff limit' }
      ],
      inferred: null
    })
    const deleted = JSON.parse(outputs(OUTCOMES.error.with).job)
    expect(deleted.deleted).toBe(true)
    expect(deleted.conditions).toEqual([])
    const bare: V1Job = {
      metadata: { name: 'build', namespace: 'ci', uid: 'u' },
      status: { conditions: [{ type: 'Suspended', status: 'True' }] }
    }
    expect(JSON.parse(outputs({ ...OUTCOMES.met.with, snapshot: snapshot(bare, []) }).job)).toMatchObject({
      active: 0,
      ready: 0,
      succeeded: 0,
      failed: 0,
      terminating: 0,
      conditions: [{ type: 'Suspended', status: 'True', reason: null, message: null }]
    })
  })

  test.each([
    [0, '0.0'],
    [3, '0.0'],
    [49, '0.0'],
    [50, '0.1'],
    [1_000, '1.0'],
    [72_345, '72.3'],
    [900_050, '900.0'],
    [3_600_000, '3600.0']
  ])('elapsed for %d ms is %j seconds', (ms, text) => {
    expect(outputs({ result: 'met', message: '', elapsedMs: ms }).elapsed).toBe(text)
  })

  test('count comes from the verdict', () => {
    expect(outputs(OUTCOMES.timeout.with).count).toBe('1')
    expect(outputs(OUTCOMES.cancelled.with).count).toBe('0')
  })
})

// ---------------------------------------------------------------- progress line

describe('progressLine', () => {
  test('elapsed, summary and detail', () => {
    expect(progressLine(verdict('waiting', '2 of 3 pods Running', 2, 'build-x7k Pending (ContainerCreating)').message, 72_000)).toBe(
      '[1m12s] 2 of 3 pods Running: build-x7k Pending (ContainerCreating)'
    )
  })

  test('without detail there is no trailing colon', () => {
    expect(progressLine(verdict('met', '3 of 3 pods Running', 3).message, 4_250)).toBe('[4.2s] 3 of 3 pods Running')
    expect(progressLine(verdict('waiting', 'job ci/build not found yet', 0).message, 350)).toBe('[350ms] job ci/build not found yet')
    expect(progressLine(verdict('waiting', 'x', 0, '').message, 3_723_000)).toBe('[1h2m3s] x')
  })
})

// ---------------------------------------------------------------- job summary

describe('summaryMarkdown', () => {
  test.each([
    ['met', '## ✅ job `ci/build`: met after 1m12s'],
    ['failed', '## ❌ job `ci/build`: failed after 2m5s'],
    ['timeout', '## ⏱️ job `ci/build`: timeout after 15m'],
    ['cancelled', '## 🚫 job `ci/build`: cancelled after 10s'],
    ['error', '## ⚠️ job `ci/build`: error after 1.5s']
  ] as const)('%s: the verdict heading', (result, heading) => {
    const md = summaryMarkdown(OUTCOMES[result].with)
    expect(md.split('\n')[0]).toBe(heading)
    expect(md.endsWith('\n')).toBe(true)
  })

  test('no job (bad input): the action name in the heading and "the Job" as the target', () => {
    const md = summaryMarkdown(OUTCOMES.error.without)
    expect(md).toBe(
      "## ⚠️ kube-job-wait: error after 3ms\n\nWaited for the Job. Input 'job' is required: the name of the Job to wait for\n\n"
    )
  })

  test('the target line', () => {
    expect(summaryMarkdown(OUTCOMES.met.with)).toContain('\nWaited for 3 pods Running. 3 of 3 pods Running\n')
    expect(summaryMarkdown(OUTCOMES.failed.with)).toContain('\nWaited for condition Complete. job ci/build failed')
    expect(
      summaryMarkdown({ ...OUTCOMES.met.with, target: { kind: 'phase', phase: 'Succeeded', expectedCount: 2, match: 'exact' } })
    ).toContain('Waited for exactly 2 pods Succeeded.')
    expect(summaryMarkdown({ ...OUTCOMES.met.with, target: { kind: 'phase', phase: 'Failed', match: 'at-least' } })).toContain(
      'Waited for pods Failed.'
    )
  })

  test('a table with a row per pod, in order', () => {
    const md = summaryMarkdown(OUTCOMES.met.with, Date.parse('2024-05-01T10:01:01Z'))
    const rows = md.split('\n').filter((l) => l.startsWith('|'))
    expect(rows).toEqual([
      '| Pod | Phase | Node | Started | Duration | Restarts | Reason |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      '| build-crash | Running | node-2 | 2024-05-01T10:00:01Z | 1m | 4 | CrashLoopBackOff |',
      '| build-del01 | Terminating | node-1 | 2024-05-01T10:00:01Z | 1m | 0 | Terminating |',
      '| build-run01 | Running | node-1 | 2024-05-01T10:00:01Z | 56s | 0 |  |'
    ])
  })

  test('an unscheduled pod has empty node and start cells', () => {
    const md = summaryMarkdown(OUTCOMES.timeout.with)
    expect(md).toContain('| build-sch01 | Pending |  |  |  | 0 | Unschedulable |')
  })

  test('no pods: no table', () => {
    const md = summaryMarkdown(OUTCOMES.cancelled.with)
    expect(md).not.toContain('| Pod |')
    expect(md).not.toContain('**Job**')
  })

  test("'|' is escaped and newlines flattened in the message, reasons and condition messages", () => {
    const weird = pod('build-weird', { status: { phase: 'Failed', reason: 'Custom|Reason', message: 'a\nb' } })
    const o: Outcome = {
      ...OUTCOMES.failed.with,
      message: 'step failed: a | b\nsecond line',
      snapshot: snapshot(failedJob, [weird])
    }
    const md = summaryMarkdown(o)
    expect(md).toContain('Waited for condition Complete. step failed: a \\| b second line\n')
    expect(md).toContain('| build-weird | Failed |  |  |  | 0 | Custom\\|Reason |')
    expect(md).toContain('- Failed=True BackoffLimitExceeded: Job has reached \\| the specified backoff limit\n')
    // every table row has exactly 8 unescaped pipes (7 columns)
    for (const row of md.split('\n').filter((l) => l.startsWith('| build-'))) expect(row.match(/(?<!\\)\|/g)).toHaveLength(8)
  })

  test('Job counters and conditions', () => {
    const md = summaryMarkdown(OUTCOMES.failed.with)
    expect(md).toContain('\n**Job** ci/build: 1 active, 1 ready, 1 succeeded, 1 failed\n')
    expect(md).toContain('\n- FailureTarget=True BackoffLimitExceeded: Job has reached the specified backoff limit\n')
    expect(md).toContain('\n- Failed=True BackoffLimitExceeded: ')
  })

  test('a deleted Job is marked, a condition without reason or message is bare', () => {
    const bare: V1Job = {
      metadata: { name: 'build', namespace: 'ci', uid: 'u' },
      status: { active: 0, conditions: [{ type: 'Suspended', status: 'True' }] }
    }
    const md = summaryMarkdown({ ...OUTCOMES.error.with, snapshot: snapshot(bare, [], true) })
    expect(md).toContain('**Job** ci/build: 0 active, 0 ready, 0 succeeded, 0 failed (deleted)\n- Suspended=True\n')
  })

  test('mode and API requests in the footer, when known', () => {
    expect(summaryMarkdown(OUTCOMES.met.with)).toMatch(/<sub>watch mode, 4 API requests<\/sub>\n$/)
    expect(summaryMarkdown(OUTCOMES.failed.with)).toMatch(/<sub>poll mode, 60 API requests<\/sub>\n$/)
    expect(summaryMarkdown({ ...OUTCOMES.met.with, requests: undefined })).toContain('<sub>watch mode, 0 API requests</sub>')
    expect(summaryMarkdown(OUTCOMES.timeout.without)).not.toContain('<sub>')
  })

  test('an Outcome with a job but no namespace does not print "undefined/" in the heading', () => {
    const md = summaryMarkdown({ result: 'error', message: 'no cluster credentials: ...', job: 'build', elapsedMs: 5 })
    expect(md.split('\n')[0]).not.toContain('undefined')
  })
})
