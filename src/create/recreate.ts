// What becomes of a Job of the manifest's name that already exists (input
// recreate): a pure decision over the existing object and the manifest. A
// Job's pod template is immutable, so a new run is a delete and a create.
import { formatDuration } from '../duration.js'
import type { Recreate } from '../inputs.js'
import { refused, ok, templateDifference, type JobManifest, type KubeObject, type Result } from './manifest.js'

export type Existing =
  /** delete the existing Job (and await its pods' deletion), then create */
  | { action: 'replace'; note: string }
  /** a running Job of the same template: wait for it, create nothing */
  | { action: 'adopt'; note: string }

// Complete and Failed first: SuccessCriteriaMet and FailureTarget come before them, while the last pods end.
const FINAL = ['Complete', 'Failed', 'SuccessCriteriaMet', 'FailureTarget']

interface Condition {
  type?: string
  status?: string
  lastTransitionTime?: string
}

/** When the Job finished (its first final condition), or undefined while it runs. */
export function finishedAt(job: KubeObject): { at?: string; type: string } | undefined {
  const status = (job.status ?? {}) as { conditions?: Condition[]; completionTime?: string }
  const c = FINAL.map((type) => (status.conditions ?? []).find((x) => x.status === 'True' && x.type === type)).find((x) => x)
  if (!c) return undefined
  return { at: c.lastTransitionTime ?? status.completionTime, type: c.type! }
}

const ago = (at: string | undefined, now: number): string => {
  const t = Date.parse(at ?? '')
  return Number.isNaN(t) ? '' : ` ${formatDuration(Math.max(0, now - t))} ago`
}

export function decideExisting(existing: KubeObject, wanted: JobManifest, recreate: Recreate, now: number): Result<Existing> {
  const name = wanted.name!
  const ns = ((existing.metadata ?? {}) as { namespace?: string; deletionTimestamp?: string }).namespace
  const deleting = ((existing.metadata ?? {}) as { deletionTimestamp?: string }).deletionTimestamp
  const finished = finishedAt(existing)
  const was = deleting
    ? 'the earlier Job was being deleted'
    : finished
      ? `the earlier run finished${ago(finished.at, now)} (${finished.type})`
      : 'the earlier run was still running'
  if (recreate === 'never')
    return refused(`job ${ns}/${name} already exists and recreate is never: delete it first, or set recreate: if-finished or always`)
  if (recreate === 'always' || deleting || finished) return ok({ action: 'replace', note: `re-created ${name}: ${was}` })
  const differs = templateDifference(wanted.object, existing)
  if (differs)
    return refused(
      `job ${ns}/${name} is still running with another pod template (${differs}): wait for it to finish, delete it, or set recreate: always`
    )
  return ok({ action: 'adopt', note: `adopted the running job ${name} (same pod template, an earlier run's): waiting for it` })
}
