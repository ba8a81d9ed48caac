// The creation stage's pure parts (src/create/): the manifest read and
// checked before any request, the decision on a Job that already exists, and
// the Job made from a CronJob. No server.
import { describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { jobFromCronJob, planManifest } from '../src/create/create.js'
import { firstDifference, jobsOf, parseDocuments, templateDifference, type JobManifest } from '../src/create/manifest.js'
import { isInline, readManifest } from '../src/create/read.js'
import { decideExisting } from '../src/create/recreate.js'
import { readSettings } from '../src/inputs.js'

const JOB_A = `apiVersion: batch/v1
kind: Job
metadata:
  name: a
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:1.36
`
const JOB_B = JOB_A.replace('name: a', 'name: b')

const messageOf = (r: { ok: boolean; message?: string }) => (r.ok ? undefined : r.message)

describe('the manifest, checked before any request', () => {
  test('two documents: two Jobs in order, the namespace input kept when the documents name none', async () => {
    const plan = await planManifest(`${JOB_A}---\n${JOB_B}---\n`, 'ci', '/nowhere')
    expect(plan.ok && plan.value.namespace).toBe('ci')
    expect(plan.ok && plan.value.jobs.map((j) => [j.where, j.name])).toEqual([
      ['manifest document 1', 'a'],
      ['manifest document 2', 'b']
    ])
  })

  test("a document's metadata.namespace wins over the namespace input", async () => {
    const plan = await planManifest(JOB_A.replace('name: a', 'name: a\n  namespace: team'), 'ci', '/nowhere')
    expect(plan.ok && plan.value.namespace).toBe('team')
  })

  test('mixing namespaces is refused, naming both', async () => {
    const text = `${JOB_A.replace('name: a', 'name: a\n  namespace: x')}---\n${JOB_B.replace('name: b', 'name: b\n  namespace: y')}`
    expect(messageOf(await planManifest(text, 'ci', '/nowhere'))).toBe(
      "the manifest's Jobs are in several namespaces, x (manifest document 1), y (manifest document 2): one step waits in one namespace"
    )
  })

  test('a Deployment among Jobs is refused with one line naming the document and its kind', () => {
    const docs = parseDocuments([{ text: `${JOB_A}---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n` }])
    expect(messageOf(jobsOf(docs.ok ? docs.value : []))).toBe(
      'manifest document 2 is a Deployment: only Jobs (kind: Job, apiVersion: batch/v1) are created, nothing was'
    )
  })

  test('a document without kind, a Job of another apiVersion, a Job without a name', () => {
    const check = (text: string) => {
      const docs = parseDocuments([{ text }])
      return docs.ok ? messageOf(jobsOf(docs.value)) : docs.message
    }
    expect(check('metadata:\n  name: a\n')).toBe('manifest document 1 has no kind: only Jobs (kind: Job, apiVersion: batch/v1) are created')
    expect(check(JOB_A.replace('batch/v1', 'batch/v1beta1'))).toBe(
      'manifest document 1 is a Job of apiVersion batch/v1beta1: expected batch/v1'
    )
    expect(check('apiVersion: batch/v1\nkind: Job\nspec: {}\n')).toBe(
      'manifest document 1: the Job has neither metadata.name nor metadata.generateName'
    )
    expect(check(`${JOB_A}---\n${JOB_A}`)).toBe('manifest document 2: a Job named a comes twice in the manifest')
  })

  test('generateName is a Job without a name yet', () => {
    const docs = parseDocuments([{ text: JOB_A.replace('name: a', 'generateName: migrate-') }])
    const plan = jobsOf(docs.ok ? docs.value : [])
    expect(plan.ok && plan.value.jobs[0]).toMatchObject({ generateName: 'migrate-' })
    expect(plan.ok && plan.value.jobs[0].name).toBeUndefined()
  })

  test('YAML that does not parse, and a manifest of nothing, each get one line', () => {
    expect(messageOf(parseDocuments([{ text: 'kind: Job\nspec: [\n' }]))).toMatch(/^Input 'manifest' is not valid YAML: [^\n]+$/)
    expect(messageOf(parseDocuments([{ file: 'jobs/x.yaml', text: 'a: [' }]))).toMatch(/^manifest file jobs\/x.yaml is not valid YAML: /)
    expect(messageOf(parseDocuments([{ text: '---\n---\n' }]))).toBe(
      "Input 'manifest' holds no document: give one or more Jobs (kind: Job, apiVersion: batch/v1)"
    )
  })
})

describe('the manifest input: inline YAML, a file, or a glob in the workspace', () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-manifest-'))
  fs.mkdirSync(path.join(workspace, 'jobs'))
  fs.writeFileSync(path.join(workspace, 'jobs', 'b.yaml'), JOB_B)
  fs.writeFileSync(path.join(workspace, 'jobs', 'a.yaml'), JOB_A)

  test('inline YAML is told from a path by its line breaks or a "key:"', () => {
    expect(isInline(JOB_A)).toBe(true)
    expect(isInline('kind: Job')).toBe(true)
    expect(isInline('{"apiVersion": "batch/v1", "kind": "Job"}')).toBe(true)
    expect(isInline('jobs/a.yaml')).toBe(false)
    expect(isInline('jobs/*.yaml')).toBe(false)
  })

  test('a glob reads every file it matches, sorted, each document named by its file', async () => {
    const plan = await planManifest('jobs/*.yaml', 'ci', workspace)
    expect(plan.ok && plan.value.jobs.map((j) => j.where)).toEqual(['jobs/a.yaml document 1', 'jobs/b.yaml document 1'])
  })

  test('a missing file and a glob that matches nothing each get one line', async () => {
    expect(messageOf(await readManifest('jobs/none.yaml', workspace))).toBe(
      `Input 'manifest': cannot read jobs/none.yaml in the workspace ${workspace}: no such file`
    )
    expect(messageOf(await readManifest('jobs/*.json', workspace))).toBe(
      `Input 'manifest' ('jobs/*.json') matches no file in the workspace ${workspace}`
    )
  })
})

describe('inputs: manifest and from-cronjob', () => {
  const get = (i: Record<string, string>) => (name: string) => i[name] ?? ''
  test('job or selector with manifest: one clear line', () => {
    expect(() => readSettings(get({ manifest: JOB_A, job: 'a' }))).toThrow(
      "Input 'job' cannot be given with 'manifest': the step waits for the Jobs the manifest creates"
    )
    expect(() => readSettings(get({ manifest: JOB_A, selector: 'app=x' }))).toThrow(
      "Input 'selector' cannot be given with 'manifest': the step waits for the Jobs the manifest creates"
    )
  })
  test('manifest alone is enough; recreate defaults to if-finished', () => {
    const s = readSettings(get({ manifest: JOB_A }))
    expect(s.create).toEqual({ kind: 'manifest', manifest: JOB_A.trim(), recreate: 'if-finished' })
    expect(s.jobs).toEqual([])
  })
  test('from-cronjob takes job as the name of the Job to create', () => {
    expect(readSettings(get({ 'from-cronjob': 'nightly', job: 'nightly-now' })).create).toEqual({
      kind: 'cronjob',
      cronjob: 'nightly',
      name: 'nightly-now',
      recreate: 'if-finished'
    })
    expect(() => readSettings(get({ 'from-cronjob': 'nightly', recreate: 'sometimes' }))).toThrow(
      "Input 'recreate' has an invalid value 'sometimes': expected one of if-finished, always, never"
    )
  })
})

describe('a Job of the same name exists (recreate)', () => {
  const NOW = Date.parse('2026-12-05T03:00:00Z')
  const wanted = (image: string): JobManifest => ({
    where: 'manifest document 1',
    name: 'db-migrate',
    object: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'db-migrate' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image }] } } }
    }
  })
  // As the API server keeps it: defaults and its own labels added.
  const existing = (image: string, conditions: object[] = []) => ({
    metadata: { name: 'db-migrate', namespace: 'ci', uid: 'u1' },
    spec: {
      backoffLimit: 6,
      template: {
        metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'u1', 'job-name': 'db-migrate' } },
        spec: {
          restartPolicy: 'Never',
          dnsPolicy: 'ClusterFirst',
          containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' }]
        }
      }
    },
    status: { conditions }
  })
  const complete = [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-12-05T00:00:00Z' }]

  test('if-finished, a finished Job: re-created, and the summary line says when the earlier run finished', () => {
    expect(decideExisting(existing('app:1', complete), wanted('app:2'), 'if-finished', NOW)).toEqual({
      ok: true,
      value: { action: 'replace', note: 're-created db-migrate: the earlier run finished 3h0m ago (Complete)' }
    })
  })
  test('if-finished, a running Job of the same template (server defaults aside): adopted', () => {
    const d = decideExisting(existing('app:1'), wanted('app:1'), 'if-finished', NOW)
    expect(d.ok && d.value.action).toBe('adopt')
  })
  test('if-finished, a running Job of another template: refused, naming the first differing field', () => {
    expect(messageOf(decideExisting(existing('app:1'), wanted('app:2'), 'if-finished', NOW))).toBe(
      'job ci/db-migrate is still running with another pod template (spec.template.spec.containers[0].image: "app:1" in the cluster, "app:2" in the manifest): wait for it to finish, delete it, or set recreate: always'
    )
  })
  test('always replaces a running Job; never refuses any', () => {
    const d = decideExisting(existing('app:1'), wanted('app:1'), 'always', NOW)
    expect(d.ok && d.value).toEqual({ action: 'replace', note: 're-created db-migrate: the earlier run was still running' })
    expect(messageOf(decideExisting(existing('app:1', complete), wanted('app:1'), 'never', NOW))).toBe(
      'job ci/db-migrate already exists and recreate is never: delete it first, or set recreate: if-finished or always'
    )
  })
  test('firstDifference: arrays of another length, and numbers the server writes as they were given', () => {
    expect(firstDifference({ a: [1, 2] }, { a: [1] }, '')).toBe('a: [1] in the cluster, [1,2] in the manifest')
    expect(firstDifference({ cpu: 1 }, { cpu: '1' }, 'r')).toBeUndefined()
    expect(templateDifference({ spec: {} }, { spec: {} })).toBeUndefined()
  })
})

describe('a Job from a CronJob, as kubectl create job --from=cronjob/NAME', () => {
  const cronjob = {
    metadata: { name: 'nightly', namespace: 'ci', uid: 'cj-uid' },
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: {
        metadata: { labels: { app: 'nightly' }, annotations: { team: 'data' } },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'app:1' }] } } }
      }
    }
  }
  test('the template, the annotation instantiate: manual, a controller ownerReference; named NAME-manual-<suffix>', () => {
    const j = jobFromCronJob(cronjob)
    expect(j.ok && j.value).toEqual({
      where: 'cronjob nightly',
      generateName: 'nightly-manual-',
      object: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          generateName: 'nightly-manual-',
          labels: { app: 'nightly' },
          annotations: { team: 'data', 'cronjob.kubernetes.io/instantiate': 'manual' },
          ownerReferences: [
            { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'cj-uid', controller: true, blockOwnerDeletion: true }
          ]
        },
        spec: cronjob.spec.jobTemplate.spec
      }
    })
  })
  test('the job input names it', () => {
    const j = jobFromCronJob(cronjob, 'nightly-now')
    expect(j.ok && j.value.name).toBe('nightly-now')
  })
})
