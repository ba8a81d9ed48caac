// Job semantics the verdict knows, on the real control plane: a Job completed
// by its successPolicy with fewer succeeded pods than completions, and a Job
// that another controller manages (spec.managedBy), which the Job controller
// leaves alone.
import { afterEach, describe, expect, test } from '@jest/globals'
import { expectResult, runAction } from './support/action.js'
import { NS, cleanup, createJob, uniqueName } from './support/cluster.js'

afterEach(cleanup)

describe('successPolicy', () => {
  test('an Indexed Job completed by its successPolicy after 1 of 3 indexes meets a wait for Succeeded with the default count', async () => {
    const name = uniqueName('policy')
    // parallelism 1: index 0 runs first; once it succeeds the policy holds and the Job completes.
    await createJob({
      name,
      completionMode: 'Indexed',
      completions: 3,
      parallelism: 1,
      successPolicy: { rules: [{ succeededIndexes: '0' }] },
      sim: { 'run-ms': '1000' }
    })
    const run = await runAction({ inputs: { job: name, namespace: NS, phase: 'Succeeded', timeout: '60s' } })
    expectResult(run, 'met')
    expect(run.message).toMatch(new RegExp(`^job ${NS}/${name} completed \\(SuccessPolicy\\) with 1 of 3 pods Succeeded$`))
    expect(run.job?.conditions.filter((c) => c.status === 'True').map((c) => c.type)).toContain('SuccessCriteriaMet')
  })
})

describe('spec.managedBy', () => {
  test('a Job managed by another controller gets no pods here: the timeout says so', async () => {
    const name = uniqueName('managed')
    await createJob({ name, managedBy: 'example.com/other-controller', sim: { 'run-ms': '1000' } })
    const run = await runAction({ inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '5s' } })
    expectResult(run, 'timeout')
    expect(run.message).toContain(
      `job ${NS}/${name} is managed by example.com/other-controller, not the Job controller: its pods may run in another cluster`
    )
    expect(run.pods).toEqual([])
  })
})
