// The API calls that create the manifest's Jobs, atomic in intent: every
// existing Job is judged (recreate) and every Job is created in dry run
// before anything changes; then earlier runs are deleted (their pods' deletion
// awaited), and the Jobs are created in order. If the API server refuses one,
// those created before it are deleted again, and the step fails with the
// server's message.
//
// A create (POST), not a server-side apply: generateName works only with a
// create, and a Job's template is immutable, so applying a changed manifest
// over an existing Job would fail anyway; recreate says what to do instead.
import { KubeError } from '../kube/errors.js'
import type { KubeHttp } from '../kube/http.js'
import { forNamespace, ok, refused, type JobManifest, type KubeObject, type Result } from './manifest.js'
import type { Recreate } from '../inputs.js'
import { decideExisting } from './recreate.js'

export const FIELD_MANAGER = 'kube-job-wait'

/** Each create or delete: as long as any request may take, and no longer than the step. */
const REQUEST_MS = 30_000
const bounded = (signal: AbortSignal) => AbortSignal.any([signal, AbortSignal.timeout(REQUEST_MS)])

export interface Applied {
  namespace: string
  /** the Jobs to wait for, in the manifest's order (generateName: the server's names) */
  names: string[]
  /** the Jobs this step created, namespace/name */
  created: string[]
  /** one line for each Job that already existed: re-created or adopted */
  notes: string[]
}

export interface ApplyOptions {
  recreate: Recreate
  /** ends the wait for an earlier run's deletion (the step's timeout, a cancel) */
  signal: AbortSignal
  /** how often an earlier run's Job is looked for while it is deleted */
  pollMs?: number
  now?: () => number
}

interface Meta {
  name?: string
  generateName?: string
  uid?: string
  namespace?: string
}

const metaOf = (o: KubeObject): Meta => (o.metadata ?? {}) as Meta
const jobsPath = (ns: string) => `/apis/batch/v1/namespaces/${encodeURIComponent(ns)}/jobs`
const jobPath = (ns: string, name: string) => `${jobsPath(ns)}/${encodeURIComponent(name)}`

type Step = { job: JobManifest; existing?: KubeObject; adopt?: boolean }

/**
 * The one line for a refusal: a missing permission says which, anything else is the server's message. A quota
 * or an admission webhook also answers 403 Forbidden: only the authorizer's "cannot <verb> resource" is RBAC.
 */
function apiRefusal(where: string, err: unknown, ns: string, verb: string): string {
  if (err instanceof KubeError && err.code === 403 && / cannot \S+ resource /.test(err.message))
    return `no permission to ${verb} jobs in namespace ${ns}: grant ${verb} on batch jobs to the credentials (see RBAC in the README)`
  if (err instanceof KubeError) return `${where}: ${err.message}`
  throw err
}

export async function applyJobs(http: KubeHttp, namespace: string, jobs: JobManifest[], o: ApplyOptions): Promise<Result<Applied>> {
  const now = o.now ?? Date.now
  const notes: string[] = []
  // 1. Judge every existing Job before anything changes.
  const steps: Step[] = []
  for (const job of jobs) {
    if (!job.name) {
      steps.push({ job })
      continue
    }
    let existing: KubeObject | undefined
    try {
      existing = await http.getJSON<KubeObject>(jobPath(namespace, job.name), {}, `get job ${job.name}`)
    } catch (err) {
      if (!(err instanceof KubeError && err.code === 404)) return refused(apiRefusal(job.where, err, namespace, 'get'))
    }
    if (!existing) {
      steps.push({ job })
      continue
    }
    const decided = decideExisting(existing, job, o.recreate, now())
    if (!decided.ok) return decided
    notes.push(decided.value.note)
    steps.push({ job, existing, adopt: decided.value.action === 'adopt' })
  }
  // 2. Every Job to create, in dry run: a missing permission, a webhook's or the schema's refusal is said before any change.
  for (const s of steps) {
    if (s.adopt) continue
    const body = forNamespace(s.job, namespace)
    // A name still taken by the earlier run would answer AlreadyExists: the dry run asks for a generated one.
    const trial = s.existing
      ? { ...body, metadata: { ...metaOf(body), name: undefined, generateName: `${s.job.name!.slice(0, 57)}-` } }
      : body
    try {
      await http.post(
        jobsPath(namespace),
        { dryRun: 'All', fieldManager: FIELD_MANAGER },
        trial,
        `create job ${jobLabel(s.job)}`,
        bounded(o.signal)
      )
    } catch (err) {
      return refused(`${apiRefusal(s.job.where, err, namespace, 'create')}; nothing was created`)
    }
  }
  // 3. Earlier runs go, and their pods with them (Foreground: the Job object stays until its pods are gone).
  for (const s of steps) {
    if (!s.existing || s.adopt) continue
    const gone = await deleteAndAwait(http, namespace, s.existing, o)
    if (!gone.ok) return gone
  }
  // 4. Create, in order; a refusal deletes what this step created before it.
  const names: string[] = []
  const created: { name: string; uid?: string }[] = []
  for (const s of steps) {
    if (s.adopt) {
      names.push(s.job.name!)
      continue
    }
    try {
      const made = await http.post<KubeObject>(
        jobsPath(namespace),
        { fieldManager: FIELD_MANAGER },
        forNamespace(s.job, namespace),
        `create job ${jobLabel(s.job)}`,
        bounded(o.signal)
      )
      const m = metaOf(made)
      created.push({ name: m.name!, uid: m.uid })
      names.push(m.name!)
    } catch (err) {
      const why = apiRefusal(s.job.where, err, namespace, 'create')
      const undone = await rollBack(http, namespace, created)
      return refused(`${why}; ${undone}`)
    }
  }
  return ok({ namespace, names, created: created.map((c) => `${namespace}/${c.name}`), notes })
}

const jobLabel = (j: JobManifest) => j.name ?? `${j.generateName}*`

/** Deletes the Jobs created so far (Background: the garbage collector removes their pods); says what it did. */
async function rollBack(http: KubeHttp, namespace: string, created: { name: string; uid?: string }[]): Promise<string> {
  if (!created.length) return 'nothing was created before it'
  const kept: string[] = []
  for (const c of created) {
    try {
      await http.delete(
        jobPath(namespace, c.name),
        { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', ...(c.uid ? { preconditions: { uid: c.uid } } : {}) },
        `delete job ${c.name}`
      )
    } catch (err) {
      kept.push(`${c.name} (${(err as Error).message})`)
    }
  }
  const names = created.map((c) => c.name).join(', ')
  return kept.length
    ? `could not delete again what was created before it: ${kept.join(', ')}`
    : `deleted again the jobs created before it: ${names}`
}

/** Deletes an earlier run's Job (Foreground) and waits until the object is gone, which is when its pods are. */
async function deleteAndAwait(http: KubeHttp, namespace: string, existing: KubeObject, o: ApplyOptions): Promise<Result<void>> {
  const { name, uid } = metaOf(existing)
  try {
    await http.delete(
      jobPath(namespace, name!),
      { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', ...(uid ? { preconditions: { uid } } : {}) },
      `delete job ${name}`,
      bounded(o.signal)
    )
  } catch (err) {
    // 409: the precondition failed, the Job was replaced meanwhile; its successor is looked for below.
    if (!(err instanceof KubeError && err.code === 409)) return refused(apiRefusal(`job ${namespace}/${name}`, err, namespace, 'delete'))
  }
  for (;;) {
    try {
      const again = await http.getJSON<KubeObject>(jobPath(namespace, name!), {}, `get job ${name}`)
      if (metaOf(again).uid !== uid)
        return refused(`job ${namespace}/${name} was created again by someone else while this step deleted the earlier run`)
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return ok(undefined)
      if (!(err instanceof KubeError && err.transient)) return refused(apiRefusal(`job ${namespace}/${name}`, err, namespace, 'get'))
    }
    if (o.signal.aborted)
      return refused(
        `job ${namespace}/${name}: the earlier run's Job was still being deleted (its pods still terminating) when the step ended`
      )
    await pause(o.pollMs ?? 500, o.signal)
  }
}

/** setTimeout that a cancel or the step's timeout ends at once. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
