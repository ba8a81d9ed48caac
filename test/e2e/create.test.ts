// Creating the Job in the step (issue 19) on the real control plane: an
// inline manifest from nothing to deleted, run again with another image;
// two Jobs; generateName; a finished Job re-created (its pods not counted); a
// running Job adopted, or refused for another template; a Deployment refused
// before anything is created; the second Job refused by a ResourceQuota and
// the first deleted again; from-cronjob; and real RBAC without create.
import { afterEach, describe, expect, test } from '@jest/globals'
import { expectResult, runAction } from './support/action.js'
import { NS, RESTRICTED, cleanup, createJob, getJob, kubectl, listPods, uniqueName, until } from './support/cluster.js'

const made: { name: string; namespace: string }[] = []
afterEach(async () => {
  for (const { name, namespace } of made.splice(0))
    await kubectl(['delete', 'job', name, '-n', namespace, '--cascade=background', '--wait=false', '--ignore-not-found']).catch(
      () => undefined
    )
})

/** A Job as a user writes it in the workflow; the kubelet simulator's annotations set how its pod behaves. */
function manifest(name: string, o: { image?: string; runMs?: number; meta?: string; namespace?: string; exitCode?: number } = {}): string {
  if (!o.meta) made.push({ name, namespace: o.namespace ?? NS })
  return `apiVersion: batch/v1
kind: Job
metadata:
  ${o.meta ?? `name: ${name}`}
  labels:
    kjw.dev/e2e: "true"
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
        sim.kjw.dev/run-ms: "${o.runMs ?? 500}"
        sim.kjw.dev/exit-code: "${o.exitCode ?? 0}"
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      containers:
        - name: main
          image: ${o.image ?? 'busybox:1.36'}
          command: ["sh", "-c", "echo migrating"]
`
}

const step = (extra: Record<string, string>) => ({ namespace: NS, condition: 'Complete', timeout: '60s', ...extra })
const createdOf = (run: { outputs: Record<string, string> }): string[] => JSON.parse(run.outputs.created ?? '[]')
const podsOfUid = (uid: string) => listPods(NS, `batch.kubernetes.io/controller-uid=${uid}`)

describe('one step: create, follow the logs, delete on success', () => {
  test('from nothing to deleted; the same step again with another image: created again and waited for anew', async () => {
    const name = uniqueName('migrate')
    const first = await runAction({ inputs: step({ manifest: manifest(name), logs: 'follow', delete: 'on-success' }) })
    expectResult(first, 'met')
    expect(createdOf(first)).toEqual([`${NS}/${name}`])
    expect(first.deleted).toEqual([`${NS}/${name}`])
    expect(first.stdout).toContain('line 1: ')
    const firstUid = first.job!.uid
    await until(`job ${name} gone`, async () => !(await getJob(name)))

    const second = await runAction({
      inputs: step({ manifest: manifest(name, { image: 'busybox:1.37' }), logs: 'follow', delete: 'on-success' })
    })
    expectResult(second, 'met')
    expect(createdOf(second)).toEqual([`${NS}/${name}`])
    expect(second.job!.uid).not.toBe(firstUid)
    expect(second.deleted).toEqual([`${NS}/${name}`])
  })
})

describe('manifest', () => {
  test('two Jobs in one manifest: both created and waited for', async () => {
    const [a, b] = ['two-a', 'two-b'].map(uniqueName)
    const run = await runAction({ inputs: step({ manifest: `${manifest(a)}---\n${manifest(b)}` }) })
    expectResult(run, 'met')
    expect(createdOf(run)).toEqual([`${NS}/${a}`, `${NS}/${b}`])
    expect(Object.keys(run.jobs).sort()).toEqual([a, b].sort())
  })

  test('generateName: the server names the Job, and that name is waited for', async () => {
    const prefix = `${uniqueName('gen')}-`
    const run = await runAction({ inputs: step({ manifest: manifest('', { meta: `generateName: ${prefix}` }) }) })
    expectResult(run, 'met')
    const [created] = createdOf(run)
    expect(created).toMatch(new RegExp(`^${NS}/${prefix}[a-z0-9]{5}$`))
    made.push({ name: created.split('/')[1], namespace: NS })
    expect(run.job!.name).toBe(created.split('/')[1])
  })

  test('a Deployment in the manifest: refused with one line, nothing created', async () => {
    const a = uniqueName('nodeploy')
    const run = await runAction({
      inputs: step({ manifest: `${manifest(a)}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n` })
    })
    expectResult(run, 'error')
    expect(run.message).toBe('manifest document 2 is a Deployment: only Jobs (kind: Job, apiVersion: batch/v1) are created, nothing was')
    expect(await getJob(a)).toBeUndefined()
  })

  test('the second Job refused by a ResourceQuota on count/jobs.batch: the step fails with its message, the first is deleted', async () => {
    const quota = uniqueName('jobs-quota')
    const [a, b] = ['quota-a', 'quota-b'].map(uniqueName)
    // No quota controller runs here: its status is written by hand, as the controller would (used 0), and the
    // admission plugin counts from there.
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: quota, namespace: NS },
        spec: { hard: { 'count/jobs.batch': '1' } }
      })
    )
    try {
      await kubectl([
        'patch',
        'resourcequota',
        quota,
        '-n',
        NS,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { hard: { 'count/jobs.batch': '1' }, used: { 'count/jobs.batch': '0' } } })
      ])
      const run = await runAction({ inputs: step({ manifest: `${manifest(a)}---\n${manifest(b)}` }) })
      expectResult(run, 'error')
      expect(run.message).toMatch(
        new RegExp(
          `^manifest document 2: create job ${b}: jobs.batch "${b}" is forbidden: exceeded quota: ${quota}, .*; deleted again the jobs created before it: ${a}$`
        )
      )
      await until(`job ${a} gone`, async () => !(await getJob(a)))
      expect(await getJob(b)).toBeUndefined()
    } finally {
      await kubectl(['delete', 'resourcequota', quota, '-n', NS, '--ignore-not-found'])
    }
  })

  test('a missing file, a glob that matches nothing: one line each', async () => {
    const missing = await runAction({ inputs: step({ manifest: 'jobs/none.yaml' }) })
    expectResult(missing, 'error')
    expect(missing.message).toMatch(/^Input 'manifest': cannot read jobs\/none.yaml in the workspace .*: no such file$/)
    const nothing = await runAction({ inputs: step({ manifest: 'jobs/*.yaml' }) })
    expect(nothing.message).toMatch(/^Input 'manifest' \('jobs\/\*.yaml'\) matches no file in the workspace /)
  })
})

describe('recreate', () => {
  test('a finished Job run again with another image: re-created, its earlier pods gone and not counted', async () => {
    const name = uniqueName('rerun')
    const first = await runAction({ inputs: step({ manifest: manifest(name) }) })
    expectResult(first, 'met')
    const oldUid = first.job!.uid
    const oldPods = Object.keys(first.phases)
    const second = await runAction({ inputs: step({ manifest: manifest(name, { image: 'busybox:1.37' }) }) })
    expectResult(second, 'met')
    expect(second.job!.uid).not.toBe(oldUid)
    expect(second.stdout).toMatch(new RegExp(`re-created ${name}: the earlier run finished [0-9.hms]+ ago \\(Complete\\)`))
    expect(second.summary).toContain(`re-created ${name}`)
    expect(Object.keys(second.phases).some((p) => oldPods.includes(p))).toBe(false)
    expect(await podsOfUid(oldUid)).toEqual([])
    expect((await getJob(name)).spec.template.spec.containers[0].image).toBe('busybox:1.37')
  })

  test('a running Job of the same template is adopted (a re-run after a cancel); of another template, refused', async () => {
    const name = uniqueName('adopt')
    await kubectl(['create', '-n', NS, '-f', '-'], manifest(name, { runMs: 8000 }))
    await until(`job ${name} active`, async () => (await getJob(name))?.status?.active === 1)
    const other = await runAction({ inputs: step({ manifest: manifest(name, { runMs: 8000, image: 'busybox:1.37' }) }) })
    expectResult(other, 'error')
    expect(other.message).toBe(
      `job ${NS}/${name} is still running with another pod template (spec.template.spec.containers[0].image: "busybox:1.36" in the cluster, "busybox:1.37" in the manifest): wait for it to finish, delete it, or set recreate: always`
    )
    const uid = (await getJob(name)).metadata.uid
    const same = await runAction({ inputs: step({ manifest: manifest(name, { runMs: 8000 }) }) })
    expectResult(same, 'met')
    expect(same.job!.uid).toBe(uid)
    expect(createdOf(same)).toEqual([])
    expect(same.stdout).toContain(`adopted the running job ${name}`)
  })
})

describe('from-cronjob', () => {
  test("one Job from the CronJob's jobTemplate, as kubectl create job --from=cronjob does, then waited for", async () => {
    const cron = uniqueName('nightly')
    const job = JSON.parse(await kubectl(['create', '--dry-run=client', '-o', 'json', '-f', '-'], manifest(cron)))
    made.pop()
    await kubectl(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: cron, namespace: NS },
        spec: { schedule: '0 0 31 2 *', suspend: true, jobTemplate: { metadata: { labels: { app: cron } }, spec: job.spec } }
      })
    )
    try {
      const run = await runAction({ inputs: step({ 'from-cronjob': cron }) })
      expectResult(run, 'met')
      const [created] = createdOf(run)
      made.push({ name: created.split('/')[1], namespace: NS })
      expect(created).toMatch(new RegExp(`^${NS}/${cron}-manual-[a-z0-9]{5}$`))
      const j = await getJob(created.split('/')[1])
      expect(j.metadata.annotations['cronjob.kubernetes.io/instantiate']).toBe('manual')
      expect(j.metadata.labels.app).toBe(cron)
      expect(j.metadata.ownerReferences[0]).toMatchObject({ kind: 'CronJob', name: cron, controller: true })
    } finally {
      await kubectl(['delete', 'cronjob', cron, '-n', NS, '--ignore-not-found'])
    }
  })
})

describe('start-timeout', () => {
  afterEach(cleanup)

  test('a suspended Job: timeout at start-timeout, saying it is suspended', async () => {
    const name = uniqueName('queued')
    await createJob({ name, suspend: true })
    const run = await runAction({ inputs: step({ job: name, 'start-timeout': '3s' }) })
    expectResult(run, 'timeout')
    expect(run.elapsed).toBeLessThan(20)
    expect(run.message).toBe(
      `timed out waiting for the pods to start (start-timeout 3.0s): job ${name} is suspended (spec.suspend: true; a queue such as Kueue starts it by setting it to false when it admits it)`
    )
  })

  test("an unschedulable pod: timeout at start-timeout, in the scheduler's and the autoscaler's words", async () => {
    const name = uniqueName('nonode')
    await createJob({ name, sim: { stuck: 'Unschedulable', autoscaler: 'NotTriggerScaleUp', 'autoscaler-ms': '300' } })
    const run = await runAction({ inputs: step({ job: name, 'start-timeout': '3s' }) })
    expectResult(run, 'timeout')
    expect(run.message).toMatch(
      new RegExp(
        `^timed out waiting for the pods to start \\(start-timeout 3.0s\\): 0 of 1 pod of job ${name} started: ${name}-[a-z0-9]{5} unschedulable: .+`
      )
    )
    expect(run.message).toContain("; cluster-autoscaler: NotTriggerScaleUp: pod didn't trigger scale-up: 1 max node group size reached")
  })
})

describe('exit codes', () => {
  test("a failed pod: exit-code is its container's code, and its row in pods has it", async () => {
    const name = uniqueName('exit')
    const run = await runAction({ inputs: step({ manifest: manifest(name, { exitCode: 3 }), condition: 'Finished' }) })
    expectResult(run, 'failed')
    expect(run.outputs['exit-code']).toBe('3')
    expect(run.pods[0]).toMatchObject({ phase: 'Failed', exitCodes: { main: 3 } })
  })

  test('a Job of one pod that succeeded: exit-code 0', async () => {
    const run = await runAction({ inputs: step({ manifest: manifest(uniqueName('exit0')) }) })
    expectResult(run, 'met')
    expect(run.outputs['exit-code']).toBe('0')
  })
})

/** README's Role (Permissions) with the verbs of manifest and from-cronjob, bound for the test to a user that has no other right. */
const README_ROLE = (name: string) => [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace: RESTRICTED },
    rules: [
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'delete'] },
      { apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['get'] }
    ]
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace: RESTRICTED },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kjw-norights' }]
  }
]

describe('RBAC', () => {
  test("README's Role is enough: create, re-create with another image and delete on success, and from-cronjob", async () => {
    const role = uniqueName('kjw-create')
    const objects = README_ROLE(role)
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }))
    const cron = uniqueName('rbac-cron')
    try {
      const name = uniqueName('rbac')
      const inputs = (image: string, extra: Record<string, string> = {}) =>
        step({ namespace: RESTRICTED, manifest: manifest(name, { namespace: RESTRICTED, image }), ...extra })
      // RBAC takes effect within a moment of the binding
      await until(
        'the Role bound',
        async () => (await kubectl(['auth', 'can-i', 'create', 'jobs', '-n', RESTRICTED, '--as', 'kjw-norights'])).trim() === 'yes'
      )
      const first = await runAction({ creds: { user: 'norights' }, inputs: inputs('busybox:1.36') })
      expectResult(first, 'met')
      const second = await runAction({ creds: { user: 'norights' }, inputs: inputs('busybox:1.37', { delete: 'on-success' }) })
      expectResult(second, 'met')
      expect(second.stdout).toContain(`re-created ${name}`)
      expect(second.deleted).toEqual([`${RESTRICTED}/${name}`])

      const job = JSON.parse(await kubectl(['create', '--dry-run=client', '-o', 'json', '-f', '-'], manifest(cron)))
      made.pop()
      await kubectl(
        ['create', '-f', '-'],
        JSON.stringify({
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: { name: cron, namespace: RESTRICTED },
          spec: { schedule: '0 0 31 2 *', suspend: true, jobTemplate: { spec: job.spec } }
        })
      )
      const fromCron = await runAction({
        creds: { user: 'norights' },
        inputs: step({ namespace: RESTRICTED, 'from-cronjob': cron, delete: 'on-success' })
      })
      expectResult(fromCron, 'met')
      expect(JSON.parse(fromCron.outputs.created)).toEqual(fromCron.deleted)
    } finally {
      await kubectl(['delete', 'cronjob', cron, '-n', RESTRICTED, '--ignore-not-found'])
      await kubectl(['delete', 'rolebinding,role', role, '-n', RESTRICTED, '--ignore-not-found'])
    }
  })

  test('without create on jobs (the read-only Role): one line before anything else happens', async () => {
    const name = uniqueName('norbac')
    const run = await runAction({
      creds: { user: 'role' },
      inputs: step({ namespace: RESTRICTED, manifest: manifest(name, { namespace: RESTRICTED }) })
    })
    expectResult(run, 'error')
    expect(run.message).toBe(
      `no permission to create jobs in namespace ${RESTRICTED}: grant create on batch jobs to the credentials (see RBAC in the README); nothing was created`
    )
  })
})
