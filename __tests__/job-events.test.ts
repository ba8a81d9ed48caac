import { describe, expect, test } from '@jest/globals'
import { finishedFromEvents } from '../src/observe/job-events.js'
import { jobInfo } from '../src/observe/convert.js'

describe('a deleted Job told by its events', () => {
  test('"Completed" (Normal) is a completion', () => {
    expect(
      finishedFromEvents([
        { type: 'Normal', reason: 'SuccessfulCreate' },
        { type: 'Normal', reason: 'Completed', message: 'Job completed' }
      ])
    ).toMatchObject({ type: 'Complete', status: 'True' })
  })
  test.each(['BackoffLimitExceeded', 'DeadlineExceeded', 'PodFailurePolicy', 'MaxFailedIndexesExceeded', 'FailedIndexes'])(
    'Warning %s is a failure with its message',
    (reason) => {
      expect(finishedFromEvents([{ type: 'Warning', reason, message: 'why' }])).toEqual({
        type: 'Failed',
        status: 'True',
        reason,
        message: 'why'
      })
    }
  )
  test('other events say nothing', () => {
    expect(
      finishedFromEvents([
        { type: 'Warning', reason: 'FailedCreate' },
        { type: 'Normal', reason: 'SuccessfulCreate' }
      ])
    ).toBeUndefined()
  })
})

describe('counters', () => {
  test('pods the controller has not counted yet (uncountedTerminatedPods) are counted', () => {
    const j = jobInfo({
      metadata: { name: 'b', namespace: 'ci', uid: 'u' },
      status: { succeeded: 1, failed: 0, uncountedTerminatedPods: { succeeded: ['p2', 'p3'], failed: ['p4'] } }
    })
    expect(j).toMatchObject({ succeeded: 3, failed: 1 })
  })
})
