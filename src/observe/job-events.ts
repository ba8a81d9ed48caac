// A Job deleted before its end was seen (ttlSecondsAfterFinished between two
// polls, or while a watch was down) leaves its events behind: the Job
// controller records "Completed", or a Warning named by the failure reason.
import type { JobCondition } from '../model.js'

/** The reasons of the Job controller's Failed condition, which it repeats as Warning events. */
export const JOB_FAILURE_REASONS = new Set([
  'BackoffLimitExceeded',
  'DeadlineExceeded',
  'PodFailurePolicy',
  'MaxFailedIndexesExceeded',
  'FailedIndexes'
])

export interface JobEvent {
  type?: string
  reason?: string
  message?: string
  source?: { component?: string }
  reportingComponent?: string
}

/** The finished condition the Job had, as its events tell; undefined when they do not say. */
export function finishedFromEvents(events: JobEvent[]): JobCondition | undefined {
  for (const e of events) {
    if (e.type === 'Normal' && e.reason === 'Completed') {
      return {
        type: 'Complete',
        status: 'True',
        reason: 'Completed',
        message: 'the Job was deleted; its "Completed" event says it completed'
      }
    }
    if (e.type === 'Warning' && e.reason && JOB_FAILURE_REASONS.has(e.reason)) {
      return { type: 'Failed', status: 'True', reason: e.reason, message: e.message }
    }
  }
  return undefined
}
