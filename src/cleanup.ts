// What becomes of the Jobs when the step ends (inputs delete and on-cancel),
// after the report: a failure here is a warning, never the step's result.
// Plain values out (what was deleted, kept, and why): the face says it.
// Deleted with propagationPolicy Background, so that the garbage collector
// removes the pods (a plain API DELETE would orphan them, kubernetes#20902),
// and with the uid as a precondition, so that a Job created again meanwhile
// under the same name is left alone.
import type { Settings } from './inputs.js'
import { KubeError } from './kube/errors.js'
import type { KubeHttp } from './kube/http.js'
import { jobEnd, type JobInfo, type Observed } from './model.js'
import type { Outcome } from './report/outcome.js'
import { gfm, mdCode, mdJoin, mdText, type Markdown } from './text/gate.js'

/** Every request of the clean-up together: on cancel it must fit in the runner's grace (SIGINT to SIGTERM is 7.5 s). */
const CLEANUP_BOUND_MS = 5_000

/** Whether the Jobs go, by the inputs and the result. */
export function shouldDelete(s: Pick<Settings, 'delete' | 'onCancel'>, result: Outcome['result']): boolean {
  if (result === 'cancelled') return s.onCancel === 'delete'
  if (result === 'error') return false
  return s.delete === 'always' || (s.delete === 'on-success' && result === 'met')
}

/** A Job the step waited for and kept, and why, in words for the log and the summary. */
export interface Kept {
  job: JobInfo
  why: string
}

/**
 * The Jobs to delete: those the step counted, as last seen, and still there.
 * Not a Job the selector matched that had finished before the step (an
 * earlier run's, kept perhaps for debugging), nor one already gone. With a
 * selector, only the first expected-jobs by creation time: a Job beyond them
 * may be a concurrent run's with the same labels. With delete: on-success, a
 * Job only once it has ended (a final condition): a wait for some of its pods
 * can be met while it still runs the others.
 */
export function jobsToDelete(
  settings: Pick<Settings, 'delete' | 'selector' | 'expectedJobs'>,
  outcome: Pick<Outcome, 'job' | 'jobs' | 'result'>,
  seen: Observed
): { jobs: JobInfo[]; kept: Kept[] } {
  const waited = new Set(outcome.jobs ? outcome.jobs.map((j) => j.name) : outcome.job ? [outcome.job] : [])
  let candidates = seen.jobs.filter((s) => waited.has(s.name) && s.job && !s.jobDeleted)
  const kept: Kept[] = []
  if (settings.selector !== undefined) {
    candidates = [...candidates].sort((a, b) => created(a.job!) - created(b.job!) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const s of candidates.slice(settings.expectedJobs)) {
      kept.push({
        job: s.job!,
        why: `created after the first ${settings.expectedJobs} (expected-jobs) that matched \`${settings.selector}\`: it may be another run's; put the run's id in the Jobs' labels and in the selector`
      })
    }
    candidates = candidates.slice(0, settings.expectedJobs)
  }
  const jobs: JobInfo[] = []
  for (const s of candidates) {
    if (settings.delete === 'on-success' && outcome.result === 'met' && !jobEnd(s.job!, s.inferred)) {
      kept.push({
        job: s.job!,
        why: 'the wait was met but the Job has not ended (no final condition yet): delete: on-success deletes an ended Job only'
      })
    } else jobs.push(s.job!)
  }
  return { jobs, kept }
}

/** A Job's creation time; one without it sorts last. */
const created = (j: JobInfo): number => {
  const t = Date.parse(j.creationTimestamp ?? '')
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t
}

/** What the clean-up did, for the face to say. */
export interface Cleanup {
  /** namespace/name of each Job deleted, sorted */
  deleted: string[]
  /** Jobs kept on purpose: namespace/name of each, by the one reason that kept them */
  kept: { names: string[]; why: string }[]
  /** one message for each Job (or, without the right, for all of them) not deleted */
  failures: string[]
}

/** `only`: the names the step created (manifest, from-cronjob); a Job it adopted is not its to delete. */
export async function deleteJobs(
  http: KubeHttp,
  settings: Settings,
  outcome: Outcome,
  seen: Observed,
  only?: readonly string[]
): Promise<Cleanup | undefined> {
  if (!shouldDelete(settings, outcome.result)) return undefined
  const signal = AbortSignal.timeout(CLEANUP_BOUND_MS)
  const deleted: string[] = []
  const failures: string[] = []
  // Without the right, every Job fails alike: one warning names them all.
  const forbidden: JobInfo[] = []
  const picked = jobsToDelete(settings, outcome, seen)
  const jobs = only ? picked.jobs.filter((j) => only.includes(j.name)) : picked.jobs
  const kept = [
    ...picked.kept,
    ...picked.jobs
      .filter((j) => !jobs.includes(j))
      .map((job) => ({ job, why: 'the step did not create it (a running Job of the same template, adopted): not its to delete' }))
  ]
  // One line per reason, naming every Job it keeps.
  const keptBy = new Map<string, string[]>()
  for (const k of kept) keptBy.set(k.why, [...(keptBy.get(k.why) ?? []), `${k.job.namespace}/${k.job.name}`])
  await Promise.all(
    jobs.map(async (job) => {
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
        else failures.push(`job ${job.namespace}/${job.name} not deleted: ${e.message}`)
      }
    })
  )
  if (forbidden.length) {
    const names = forbidden.map((j) => `job ${j.name}`).sort()
    failures.push(
      `no permission to delete jobs in namespace ${forbidden[0].namespace}: kept ${names.join(', ')} (grant delete on batch jobs to the credentials, or set delete: never)`
    )
  }
  return { deleted: deleted.sort(), kept: [...keptBy].map(([why, names]) => ({ names, why })), failures }
}

/** The log lines of our own that say what the clean-up did (failures aside: warnings). */
export function cleanupLines(c: Cleanup): { kept: string[]; deleted?: string } {
  return {
    kept: c.kept.map(({ names, why }) => `kept ${names.map((n) => `job ${n}`).join(', ')}: ${why}`),
    deleted: c.deleted.length
      ? `deleted ${c.deleted.map((d) => `job ${d}`).join(', ')} (propagation Background: the garbage collector removes the pods)`
      : undefined
  }
}

/** The summary's lines on the clean-up, or undefined when there is nothing to say. */
export function cleanupMarkdown(c: Cleanup): Markdown | undefined {
  const codes = (names: string[]) =>
    mdJoin(
      names.map((n) => mdCode(n)),
      gfm`, `
    )
  const lines = c.kept.map(({ names, why }) => gfm`\nℹ️ Kept ${codes(names)}: ${mdText(why)}.\n`)
  if (c.deleted.length) lines.unshift(gfm`\n🗑️ Deleted ${codes(c.deleted)} (the garbage collector removes their pods).\n`)
  return lines.length ? mdJoin(lines) : undefined
}
