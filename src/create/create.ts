// The creation stage: the inputs manifest or from-cronjob → the Jobs created
// (or adopted) for the wait to follow. Plain values in, a Result out: no
// @actions/* here, so that the engine can run outside GitHub.
import { KubeError } from '../kube/errors.js'
import type { KubeHttp } from '../kube/http.js'
import { applyJobs, type Applied } from './apply.js'
import { jobsOf, parseDocuments, refused, type JobManifest, type KubeObject, type Result } from './manifest.js'
import { readManifest } from './read.js'
import type { CreateRequest } from '../inputs.js'

export type { Applied } from './apply.js'

export interface CreateContext {
  http: KubeHttp
  /** the namespace input, else the kubeconfig's: a manifest's own namespace wins */
  namespace: string
  /** where a manifest path is read from (GITHUB_WORKSPACE) */
  workspace: string
  signal: AbortSignal
}

/** The manifest read and checked, before any request: its Jobs and the namespace they go in. */
export async function planManifest(
  manifest: string,
  namespace: string,
  workspace: string
): Promise<Result<{ namespace: string; jobs: JobManifest[] }>> {
  const sources = await readManifest(manifest, workspace)
  if (!sources.ok) return sources
  const docs = parseDocuments(sources.value)
  if (!docs.ok) return docs
  const plan = jobsOf(docs.value)
  if (!plan.ok) return plan
  return { ok: true, value: { namespace: plan.value.namespace ?? namespace, jobs: plan.value.jobs } }
}

export async function createJobs(req: CreateRequest, c: CreateContext): Promise<Result<Applied>> {
  if (req.kind === 'manifest') {
    const plan = await planManifest(req.manifest, c.namespace, c.workspace)
    if (!plan.ok) return plan
    return applyJobs(c.http, plan.value.namespace, plan.value.jobs, { recreate: req.recreate, signal: c.signal })
  }
  let cronjob: KubeObject
  try {
    cronjob = await c.http.getJSON<KubeObject>(
      `/apis/batch/v1/namespaces/${encodeURIComponent(c.namespace)}/cronjobs/${encodeURIComponent(req.cronjob)}`,
      {},
      `get cronjob ${req.cronjob}`
    )
  } catch (err) {
    if (!(err instanceof KubeError)) throw err
    if (err.code === 404) return refused(`Input 'from-cronjob': no CronJob ${req.cronjob} in namespace ${c.namespace}`)
    if (err.code === 403)
      return refused(
        `no permission to get cronjobs in namespace ${c.namespace}: grant get on batch cronjobs to the credentials (see RBAC in the README)`
      )
    return refused(err.message)
  }
  const job = jobFromCronJob(cronjob, req.name)
  if (!job.ok) return job
  return applyJobs(c.http, c.namespace, [job.value], { recreate: req.recreate, signal: c.signal })
}

// CronJob names are at most 52 characters; "-manual-" and the server's 5-letter suffix must fit in 63.
const MANUAL = '-manual-'

/**
 * A Job from the CronJob's jobTemplate, as `kubectl create job --from=cronjob/NAME`
 * makes it: the template's labels and annotations, the annotation
 * cronjob.kubernetes.io/instantiate: manual, a controller ownerReference to
 * the CronJob. Named `name`, else NAME-manual-<suffix> by generateName.
 */
export function jobFromCronJob(cronjob: KubeObject, name?: string): Result<JobManifest> {
  const meta = (cronjob.metadata ?? {}) as { name?: string; uid?: string }
  const spec = (cronjob.spec ?? {}) as { jobTemplate?: { metadata?: { labels?: object; annotations?: object }; spec?: object } }
  const template = spec.jobTemplate
  if (!meta.name || !template?.spec) return refused(`cronjob ${meta.name ?? '(unnamed)'} has no jobTemplate.spec`)
  const generateName = `${meta.name.slice(0, 63 - 5 - MANUAL.length)}${MANUAL}`
  const object: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      ...(name ? { name } : { generateName }),
      ...(template.metadata?.labels ? { labels: template.metadata.labels } : {}),
      annotations: { ...(template.metadata?.annotations ?? {}), 'cronjob.kubernetes.io/instantiate': 'manual' },
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true }
      ]
    },
    spec: template.spec
  }
  return { ok: true, value: { where: `cronjob ${meta.name}`, object, ...(name ? { name } : { generateName }) } }
}
