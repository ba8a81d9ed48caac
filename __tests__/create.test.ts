// manifest, from-cronjob and recreate in-process against the fake API server,
// through the real HTTP client: what is created, re-created, adopted or
// refused, the rollback when the API server refuses a Job, and the clean-up
// of the Jobs the step created. Only @actions/core is replaced.
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
import { FakeApiServer, statusObject, type KubeObject } from './support/fake-apiserver.js'

jest.unstable_mockModule('@actions/core', () => core)
const { run } = await import('../src/github/main.js')

const TIMING = { requestTimeoutMs: 5_000, idleTimeoutMs: 3_000, unreachableGraceMs: 1_000, tickMs: 100, heartbeatMs: 60_000 }
const NS = 'ci'
let server: FakeApiServer

beforeEach(async () => {
  server = new FakeApiServer({
    namespaces: ['default', NS],
    users: { waiter: { allow: ['get,list,watch jobs', 'get,list,watch pods', 'list events', 'get pods/log'] } }
  })
  await server.start()
})
afterEach(async () => {
  await server.stop()
})

const job = (name: string, image = 'busybox:1.36', meta = `name: ${name}`) => `apiVersion: batch/v1
kind: Job
metadata:
  ${meta}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: ${image}
`

function start(extra: Record<string, string>, user = 'admin') {
  core.reset({ namespace: NS, kubeconfig: server.kubeconfig(user), timeout: '20s', condition: 'Complete', ...extra })
  return run(TIMING)
}
const lines = () => core.state.log.map((l) => l.message)
const writes = () =>
  server.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.name ?? ''}${r.query.dryRun ? ' dry' : ''}`)

/** Completes every Job of the namespace as the Job controller would, once it exists. */
async function completeWhenCreated(...names: string[]): Promise<void> {
  for (const name of names) {
    for (let i = 0; i < 100 && !server.getJob(NS, name); i++) await new Promise((r) => setTimeout(r, 20))
    const j = server.getJob(NS, name)!
    const pod = server.createPodForJob(j)
    server.finishPod(NS, pod.metadata.name)
    server.finishJob(NS, name, { outcome: 'Complete' })
  }
}

describe('manifest: create, then wait', () => {
  test('two Jobs inline: both created (after a dry run of each), waited for, reported in created and jobs', async () => {
    const done = start({ manifest: `${job('a')}---\n${job('b')}` })
    await completeWhenCreated('a', 'b')
    const o = await done
    expect(o.result).toBe('met')
    expect(writes()).toEqual(['POST  dry', 'POST  dry', 'POST ', 'POST '])
    expect(JSON.parse(core.state.outputs.created)).toEqual(['ci/a', 'ci/b'])
    expect(Object.keys(JSON.parse(core.state.outputs.jobs))).toEqual(['a', 'b'])
    const posted = server.requests.find((r) => r.method === 'POST' && !r.query.dryRun)!
    expect(posted.query.fieldManager).toBe('kube-job-wait')
  })

  test('generateName: the name the server gave is what the wait follows', async () => {
    const done = start({ manifest: job('', 'busybox:1.36', 'generateName: migrate-') })
    for (let i = 0; i < 100 && !server.list('jobs', NS).length; i++) await new Promise((r) => setTimeout(r, 20))
    const name: string = server.list('jobs', NS)[0].metadata.name
    expect(name).toMatch(/^migrate-[a-z0-9]{5}$/)
    await completeWhenCreated(name)
    const o = await done
    expect(o.result).toBe('met')
    expect(o.job).toBe(name)
    expect(JSON.parse(core.state.outputs.created)).toEqual([`ci/${name}`])
  })

  test('a Deployment in the manifest: refused with one line before any request that changes anything', async () => {
    const o = await start({ manifest: `${job('a')}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n` })
    expect(o.result).toBe('error')
    expect(o.message).toBe('manifest document 2 is a Deployment: only Jobs (kind: Job, apiVersion: batch/v1) are created, nothing was')
    expect(writes()).toEqual([])
  })

  test('the second Job refused by the API server (a quota): the step fails with its message, the first is deleted again', async () => {
    const quota = statusObject(
      403,
      'Forbidden',
      'jobs.batch "b" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1'
    )
    server.admitJob = (j: KubeObject, dryRun: boolean) => (!dryRun && j.metadata.name === 'b' ? quota : undefined)
    const o = await start({ manifest: `${job('a')}---\n${job('b')}` })
    expect(o.result).toBe('error')
    expect(o.message).toBe(
      `${quota.message}`.replace(/^/, 'manifest document 2: create job b: ') + '; deleted again the jobs created before it: a'
    )
    expect(writes()).toEqual(['POST  dry', 'POST  dry', 'POST ', 'POST ', 'DELETE a'])
    const del = server.requests.find((r) => r.method === 'DELETE')!
    expect(del.body).toMatchObject({ propagationPolicy: 'Background' })
    expect(server.getJob(NS, 'a')).toBeUndefined()
    expect(core.state.outputs.created).toBe('[]')
  })

  test('without create on jobs: one line before anything else happens', async () => {
    const o = await start({ manifest: job('a') }, 'waiter')
    expect(o.result).toBe('error')
    expect(o.message).toBe(
      'no permission to create jobs in namespace ci: grant create on batch jobs to the credentials (see RBAC in the README); nothing was created'
    )
    expect(writes()).toEqual(['POST  dry'])
  })
})

describe('recreate', () => {
  const finished = (name: string, image: string) => {
    const j = server.createJob(NS, {
      metadata: { name },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image }] } } }
    })
    const pod = server.createPodForJob(j)
    server.finishPod(NS, pod.metadata.name)
    server.finishJob(NS, name, { outcome: 'Complete' })
    return j
  }

  test('if-finished: a finished Job with another image is deleted (Foreground), created again, and waited for anew', async () => {
    const old = finished('db-migrate', 'app:1')
    const done = start({ manifest: job('db-migrate', 'app:2') })
    for (let i = 0; i < 100 && server.getJob(NS, 'db-migrate')?.metadata.uid === old.metadata.uid; i++)
      await new Promise((r) => setTimeout(r, 20))
    for (let i = 0; i < 100 && !server.getJob(NS, 'db-migrate'); i++) await new Promise((r) => setTimeout(r, 20))
    const fresh = server.getJob(NS, 'db-migrate')!
    expect(fresh.metadata.uid).not.toBe(old.metadata.uid)
    expect(fresh.spec.template.spec.containers[0].image).toBe('app:2')
    await completeWhenCreated('db-migrate')
    const o = await done
    expect(o.result).toBe('met')
    expect(writes()).toEqual(['POST  dry', 'DELETE db-migrate', 'POST '])
    expect(server.requests.find((r) => r.method === 'DELETE')!.body).toMatchObject({
      propagationPolicy: 'Foreground',
      preconditions: { uid: old.metadata.uid }
    })
    expect(lines()).toContainEqual(
      expect.stringMatching(/^re-created db-migrate: the earlier run finished \d+(ms|\.\ds) ago \(Complete\)$/)
    )
    expect(core.state.summary).toMatch(/🆕 re-created db-migrate: the earlier run finished .* ago \(Complete\); created `ci\/db-migrate`\./)
  })

  test('if-finished: a running Job of the same template is adopted, not created, and not deleted by delete: on-success', async () => {
    const j = server.createJob(NS, {
      metadata: { name: 'db-migrate' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'app:1' }] } } }
    })
    const done = start({ manifest: job('db-migrate', 'app:1'), delete: 'on-success' })
    await server.waitForRequest({ resource: 'pods', watch: true })
    const pod = server.createPodForJob(j)
    server.finishPod(NS, pod.metadata.name)
    server.finishJob(NS, 'db-migrate', { outcome: 'Complete' })
    const o = await done
    expect(o.result).toBe('met')
    expect(writes()).toEqual([])
    expect(JSON.parse(core.state.outputs.created)).toEqual([])
    expect(lines()).toContain("adopted the running job db-migrate (same pod template, an earlier run's): waiting for it")
    expect(lines()).toContain(
      'kept job ci/db-migrate: the step did not create it (a running Job of the same template, adopted): not its to delete'
    )
  })

  test('if-finished: a running Job of another template is refused, naming the field; nothing changes', async () => {
    server.createJob(NS, {
      metadata: { name: 'db-migrate' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'app:1' }] } } }
    })
    const o = await start({ manifest: job('db-migrate', 'app:2') })
    expect(o.result).toBe('error')
    expect(o.message).toBe(
      'job ci/db-migrate is still running with another pod template (spec.template.spec.containers[0].image: "app:1" in the cluster, "app:2" in the manifest): wait for it to finish, delete it, or set recreate: always'
    )
    expect(writes()).toEqual([])
  })

  test('never: an existing Job is refused', async () => {
    finished('db-migrate', 'app:1')
    const o = await start({ manifest: job('db-migrate', 'app:1'), recreate: 'never' })
    expect(o.message).toBe(
      'job ci/db-migrate already exists and recreate is never: delete it first, or set recreate: if-finished or always'
    )
    expect(writes()).toEqual([])
  })
})

describe('delete: on-success with a manifest', () => {
  test('the created Job goes when the wait is met: from nothing to deleted in one step', async () => {
    const done = start({ manifest: job('a'), delete: 'on-success' })
    await completeWhenCreated('a')
    const o = await done
    expect(o.result).toBe('met')
    expect(o.deleted).toEqual(['ci/a'])
    expect(server.getJob(NS, 'a')).toBeUndefined()
  })
})

describe('from-cronjob', () => {
  test("one Job from the CronJob's template, as kubectl create job --from does, then waited for", async () => {
    const cj = server.createCronJob(NS, {
      metadata: { name: 'nightly' },
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: {
          metadata: { labels: { app: 'nightly' } },
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'app:1' }] } } }
        }
      }
    })
    const done = start({ 'from-cronjob': 'nightly' })
    for (let i = 0; i < 100 && !server.list('jobs', NS).length; i++) await new Promise((r) => setTimeout(r, 20))
    const made = server.list('jobs', NS)[0]
    expect(made.metadata.name).toMatch(/^nightly-manual-[a-z0-9]{5}$/)
    expect(made.metadata.annotations).toEqual({ 'cronjob.kubernetes.io/instantiate': 'manual' })
    expect(made.metadata.labels).toEqual({ app: 'nightly' })
    expect(made.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }
    ])
    await completeWhenCreated(made.metadata.name)
    expect((await done).result).toBe('met')
  })

  test('a CronJob that does not exist: one line', async () => {
    const o = await start({ 'from-cronjob': 'nightly' })
    expect(o.message).toBe("Input 'from-cronjob': no CronJob nightly in namespace ci")
  })
})

describe('start-timeout', () => {
  test('a pod never scheduled: timeout at the start-timeout, long before timeout, saying it was the start and why', async () => {
    const j = server.createJob(NS, { metadata: { name: 'build' } })
    const p = server.createPodForJob(j)
    server.updatePodStatus(NS, p.metadata.name, {
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }
      ]
    })
    const t0 = Date.now()
    const o = await start({ job: 'build', 'start-timeout': '1s' })
    expect(o.result).toBe('timeout')
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(o.message).toBe(
      `timed out waiting for the pods to start (start-timeout 1.0s): 0 of 1 pod of job build started: ${p.metadata.name} unschedulable: 0/1 nodes are available: 1 Insufficient cpu.`
    )
  })

  test('pods that start in time: the run goes on to its end under timeout', async () => {
    const j = server.createJob(NS, { metadata: { name: 'build' } })
    const p = server.createPodForJob(j)
    const done = start({ job: 'build', 'start-timeout': '1s' })
    await server.waitForRequest({ resource: 'pods', watch: true })
    server.startPod(NS, p.metadata.name)
    await new Promise((r) => setTimeout(r, 1500))
    server.finishPod(NS, p.metadata.name)
    server.finishJob(NS, 'build', { outcome: 'Complete' })
    expect((await done).result).toBe('met')
  })
})
