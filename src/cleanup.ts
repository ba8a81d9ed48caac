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
import type { Observed } from './model.js'
import type { Outcome } from './report/outcome.js'

/** Every request of the clean-up together: on cancel it must fit in the runner's grace (SIGINT to SIGTERM is 7.5 s). */
const CLEANUP_BOUND_MS = 5_000

/** Whether the Jobs go, by the inputs and the result. */
export function shouldDelete(s: Pick<Settings, 'delete' | 'onCancel'>, result: Outcome['result']): boolean {
  if (result === 'cancelled') return s.onCancel === 'delete'
  if (result === 'error') return false
  return s.delete === 'always' || (s.delete === 'on-success' && result === 'met')
}

export async function cleanUp(http: KubeHttp, settings: Settings, outcome: Outcome, seen: Observed): Promise<void> {
  if (!shouldDelete(settings, outcome.result)) return
  const signal = AbortSignal.timeout(CLEANUP_BOUND_MS)
  const deleted: string[] = []
  const jobs = seen.jobs.filter((s) => s.job && !s.jobDeleted)
  await Promise.all(
    jobs.map(async (s) => {
      const job = s.job!
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
        const why =
          e instanceof KubeError && e.code === 403
            ? `no permission to delete jobs in namespace ${job.namespace}: the job was kept (grant delete on batch jobs)`
            : e.message
        core.warning(`job ${job.namespace}/${job.name} not deleted: ${why}`, { title: 'kube-job-wait: clean-up' })
      }
    })
  )
  if (!deleted.length) return
  deleted.sort()
  outcome.deleted = deleted
  core.setOutput('deleted', JSON.stringify(deleted))
  core.info(`deleted ${deleted.map((d) => `job ${d}`).join(', ')} (propagation Background: the garbage collector removes the pods)`)
  try {
    if (process.env.GITHUB_STEP_SUMMARY) {
      await core.summary
        .addRaw(`\n🗑️ Deleted ${deleted.map((d) => `\`${d}\``).join(', ')} (the garbage collector removes their pods).\n`)
        .write()
    }
  } catch (err) {
    core.warning(`could not write the job summary: ${(err as Error).message}`)
  }
}
