// How a wait ended, as the report needs it: the verdict (which has the
// final message and the problems), the snapshot it judged, and the diagnosis
// that enriches it. Built by main.ts on every path; nothing here decides.
import type { Verdict } from '../decide/verdict.js'
import type { Diagnosis } from '../diagnose/collect.js'
import type { Snapshot, Target } from '../model.js'

export type Result = 'met' | 'failed' | 'timeout' | 'cancelled' | 'error'

/** One of several Jobs, as the report shows it. */
export interface JobReport {
  name: string
  verdict: Verdict
  snapshot: Snapshot
  diagnosis?: Diagnosis
}

export interface Outcome {
  result: Result
  /** The one line that says what happened. */
  message: string
  namespace?: string
  /** one Job: its name, verdict, snapshot and diagnosis */
  job?: string
  target?: Target
  verdict?: Verdict
  snapshot?: Snapshot
  /** several Jobs (names or a selector): each with its own verdict; job, verdict and snapshot are then unset */
  jobs?: JobReport[]
  /** several Jobs: the pods in the target phase, summed */
  count?: number
  /** several Jobs: warnings of the whole step */
  notes?: Verdict['notes']
  /** the Jobs the step created before the wait (manifest, from-cronjob), namespace/name */
  created?: string[]
  /** the Jobs deleted after the report (input delete / on-cancel) */
  deleted?: string[]
  elapsedMs: number
  /** watch or poll, as it ended up */
  mode?: string
  /** API requests made */
  requests?: number
  /** logs, events and causes of the failing pods (failed and timeout only) */
  diagnosis?: Diagnosis
  /** link to the workflow run */
  runUrl?: string
}

export function targetText(t: Target | undefined): string {
  if (!t) return 'the Job'
  if (t.kind === 'condition') return `condition ${t.condition}`
  const n = t.expectedCount === undefined ? '' : `${t.match === 'exact' ? 'exactly ' : ''}${t.expectedCount} `
  return `${n}pods ${t.phase}`
}
