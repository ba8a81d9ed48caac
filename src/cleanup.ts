// What becomes of the Jobs when the step ends (inputs delete and on-cancel),
// after the report: a failure here is a warning, never the step's result.
// Deleted with propagationPolicy Background, so that the garbage collector
// removes the pods (a plain API DELETE would orphan them, kubernetes#20902),
// and with the uid as a precondition, so that a Job created again meanwhile
// under the same name is left alone.
import * as core from '@actions/core'
import type { Settings } from './inputs.js'
import { KubeError } from './kube/errors.js'
import type { KubeHttp } from './kube/http.js'
import type { JobInfo, Observed } from './model.js'
import type { Outcome } from './report/outcome.js'
import { appendSummary } from './report/report.js'

/** Every request of the clean-up together: on cancel it must fit in the runner's grace (SIGINT to SIGTERM is 7.5 s). */
const CLEANUP_BOUND_MS = 5_000

/** Whether the Jobs go, by the inputs and the result. */
export function shouldDelete(s: Pick<Settings, 'delete' | 'onCancel'>, result: Outcome['result']): boolean {
  if (result === 'cancelled') return s.onCancel === 'delete'
  if (result === 'error') return false
  return s.delete === 'always' || (s.delete === 'on-success' && result === 'met')
}

/**
 * The Jobs to delete: those the step waited for, as last seen, and still
 * there. Not a Job the selector matched that had finished before the step
 * (an earlier run's, kept perhaps for debugging), nor one already gone.
 */
export function jobsToDelete(outcome: Pick<Outcome, 'job' | 'jobs'>, seen: Observed): JobInfo[] {
  const waited = new Set(outcome.jobs ? outcome.jobs.map((j) => j.name) : outcome.job ? [outcome.job] : [])
  return seen.jobs.filter((s) => waited.has(s.name) && s.job && !s.jobDeleted).map((s) => s.job!)
}

/** `only`: the names the step created (manifest, from-cronjob); a Job it adopted is not its to delete. */
export async function cleanUp(
  http: KubeHttp,
  settings: Settings,
  outcome: Outcome,
  seen: Observed,
  only?: readonly string[]
): Promise<void> {
  if (!shouldDelete(settings, outcome.result)) return
  const signal = AbortSignal.timeout(CLEANUP_BOUND_MS)
  const deleted: string[] = []
  // Without the right, every Job fails alike: one warning names them all.
  const forbidden: JobInfo[] = []
  await Promise.all(
    jobsToDelete(outcome, seen)
      .filter((job) => !only || only.includes(job.name))
      .map(async (job) => {
        try {
          const status = await http.delete(
            `/apis/batch/v1/namespaces/${job.namespace}/jobs/${job.name}`,
            { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid: job.uid } },
            `delete job ${job.name}`,
            signal
          )
          if (status !== 404) deleted.push(`${job.namespace}/${job.name}`)
        } catch (err) {
          const e = err as KubeError
          if (e instanceof KubeError && e.code === 403) forbidden.push(job)
          else core.warning(`job ${job.namespace}/${job.name} not deleted: ${e.message}`, { title: 'kube-job-wait: clean-up' })
        }
      })
  )
  if (forbidden.length) {
    const names = forbidden.map((j) => `job ${j.name}`).sort()
    core.warning(
      `no permission to delete jobs in namespace ${forbidden[0].namespace}: kept ${names.join(', ')} (grant delete on batch jobs to the credentials, or set delete: never)`,
      { title: 'kube-job-wait: clean-up' }
    )
  }
  if (!deleted.length) return
  deleted.sort()
  outcome.deleted = deleted
  core.setOutput('deleted', JSON.stringify(deleted))
  core.info(`deleted ${deleted.map((d) => `job ${d}`).join(', ')} (propagation Background: the garbage collector removes the pods)`)
  try {
    appendSummary(`\n🗑️ Deleted ${deleted.map((d) => `\`${d}\``).join(', ')} (the garbage collector removes their pods).\n`)
  } catch (err) {
    core.warning(`could not write the job summary: ${(err as Error).message}`)
  }
}
