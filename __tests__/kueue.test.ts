// Kueue in the start-timeout message, in-process against the fake API server
// through the real HTTP client: the LocalQueue of a suspended Job (its
// queue-name label) and its Workload's admission state when Kueue's
// Workloads are served and readable; the LocalQueue alone when they are not
// (404: no Kueue; 403: no right to list them). Only @actions/core is replaced.
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'

jest.unstable_mockModule('@actions/core', () => core)
const { run } = await import('../src/github/main.js')

const TIMING = { requestTimeoutMs: 5_000, idleTimeoutMs: 3_000, unreachableGraceMs: 1_000, tickMs: 100, heartbeatMs: 60_000 }
const NS = 'ci'
const QUOTA = "couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor default-flavor, 3 more needed"
let server: FakeApiServer

beforeEach(async () => {
  server = new FakeApiServer({
    namespaces: ['default', NS],
    users: { waiter: { allow: ['get,list,watch jobs', 'get,list,watch pods', 'list events'] } }
  })
  await server.start()
})
afterEach(async () => {
  await server.stop()
})

function start(user = 'admin') {
  core.reset({ namespace: NS, kubeconfig: server.kubeconfig(user), timeout: '20s', job: 'build', 'start-timeout': '1s' })
  return run(TIMING)
}
const lines = () => core.state.log.map((l) => l.message)
const workloadReads = () => server.requests.filter((r) => r.path.startsWith('/apis/kueue.x-k8s.io/'))

/** A Job as Kueue's webhook leaves it: suspended, in LocalQueue team-a. */
const queuedJob = (labels: Record<string, string> = { 'kueue.x-k8s.io/queue-name': 'team-a' }) =>
  server.createJob(NS, { metadata: { name: 'build', labels }, spec: { suspend: true } })

/** The Workload Kueue makes for a Job, as its scheduler leaves it when the quota is short. */
const workloadFor = (job: KubeObject, name = `job-build-${String(job.metadata.uid).slice(0, 5)}`) =>
  server.createWorkload(NS, {
    metadata: {
      name,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true }]
    },
    spec: { queueName: 'team-a', podSets: [{ name: 'main', count: 1 }] },
    status: {
      conditions: [
        { type: 'QuotaReserved', status: 'False', reason: 'Pending', message: QUOTA, lastTransitionTime: new Date().toISOString() }
      ]
    }
  })

describe('a suspended Job in Kueue', () => {
  test('Kueue installed: the start-timeout message names the LocalQueue and the Workload admission state, and so does the progress line', async () => {
    server.installKueue()
    const j = queuedJob()
    workloadFor(j)
    // Another Job's Workload in the namespace says nothing about this one.
    server.createWorkload(NS, {
      metadata: { name: 'job-other', ownerReferences: [{ kind: 'Job', name: 'other', uid: 'not-this-job' }] },
      status: {
        conditions: [{ type: 'Admitted', status: 'True', reason: 'Admitted', message: 'elsewhere' }],
        admission: { clusterQueue: 'cq-b' }
      }
    })
    const o = await start()
    expect(o.result).toBe('timeout')
    expect(o.message).toBe(
      `timed out waiting for the pods to start (start-timeout 1.0s): job build is suspended: queued in LocalQueue team-a (Kueue: QuotaReserved False (Pending): ${QUOTA})`
    )
    expect(
      lines().some((l) =>
        l.includes(`(job ci/build is suspended: queued in LocalQueue team-a (Kueue: QuotaReserved False (Pending): ${QUOTA}))`)
      )
    ).toBe(true)
    expect(workloadReads()[0]).toMatchObject({ verb: 'list', resource: 'workloads', namespace: NS })
  })

  test('cluster text from the Workload goes through the gate: one line, no control characters', async () => {
    server.installKueue()
    const j = queuedJob({ 'kueue.x-k8s.io/queue-name': 'team-a' })
    server.createWorkload(NS, {
      metadata: { name: 'wl', ownerReferences: [{ kind: 'Job', uid: j.metadata.uid }] },
      status: {
        conditions: [{ type: 'QuotaReserved', status: 'False', reason: 'Pending', message: 'no quota\u001b[31m red\nsecond line' }]
      }
    })
    const o = await start()
    expect(o.message).toBe(
      'timed out waiting for the pods to start (start-timeout 1.0s): job build is suspended: queued in LocalQueue team-a (Kueue: QuotaReserved False (Pending): no quota red …)'
    )
  })

  test('Kueue not installed (404): the LocalQueue alone, read once, a debug line', async () => {
    queuedJob()
    const o = await start()
    expect(o.message).toBe(
      'timed out waiting for the pods to start (start-timeout 1.0s): job build is suspended: queued in LocalQueue team-a'
    )
    expect(workloadReads().map((r) => r.status)).toEqual([404])
    expect(core.state.log.some((l) => l.level === 'debug' && l.message.includes("Kueue's Workloads are not served here"))).toBe(true)
  })

  test('Kueue not installed and no queue label: the message as before', async () => {
    queuedJob({})
    const o = await start()
    expect(o.message).toBe(
      'timed out waiting for the pods to start (start-timeout 1.0s): job build is suspended (spec.suspend: true; a queue such as Kueue starts it by setting it to false when it admits it)'
    )
  })

  test('no right to list Workloads (403): the LocalQueue alone, read once', async () => {
    server.installKueue()
    workloadFor(queuedJob())
    const o = await start('waiter')
    expect(o.message).toBe(
      'timed out waiting for the pods to start (start-timeout 1.0s): job build is suspended: queued in LocalQueue team-a'
    )
    expect(workloadReads().map((r) => r.status)).toEqual([403])
  })

  test('a Job that is not suspended: no Workload read', async () => {
    server.installKueue()
    const j = server.createJob(NS, { metadata: { name: 'build', labels: { 'kueue.x-k8s.io/queue-name': 'team-a' } } })
    server.createPodForJob(j)
    const o = await start()
    expect(o.message).toMatch(/^timed out waiting for the pods to start \(start-timeout 1\.0s\): 0 of 1 pod of job build started/)
    expect(workloadReads()).toEqual([])
  })
})
