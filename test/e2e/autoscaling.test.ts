// Pods Unschedulable while the cluster grows, on the real control plane
// (issue 17). The scheduler does not run: the kubelet simulator writes
// PodScheduled=False/Unschedulable as it would, records the autoscaler's
// Event about the pod (cluster-autoscaler's TriggeredScaleUp or
// NotTriggerScaleUp), and binds the pod when "the node" comes
// (sim.kjw.dev/unschedulable-ms, autoscaler: test/cluster/README.md).
import { afterEach, describe, expect, test } from '@jest/globals'
import { expectResult, runAction } from './support/action.js'
import { NS, RESTRICTED, auditOffset, auditRequests, cleanup, createJob, uniqueName } from './support/cluster.js'

afterEach(cleanup)

const SCHEDULER = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
// The grace the pod must outlast: before issue 17, pod-error-grace was Unschedulable's grace too.
const GRACE = { 'unschedulable-grace': '3s', 'pod-error-grace': '3s' }

describe('Unschedulable while an autoscaler adds a node', () => {
  test('TriggeredScaleUp, Unschedulable three times the grace, then scheduled: met, the progress line saying why it waited', async () => {
    const name = uniqueName('scaleup')
    await createJob({
      name,
      namespace: RESTRICTED,
      sim: { 'unschedulable-ms': '9000', autoscaler: 'TriggeredScaleUp', 'autoscaler-ms': '300', 'run-ms': '-1' }
    })
    const offset = auditOffset()
    // the Role of README (list on events is all it needs)
    const run = await runAction({
      inputs: { job: name, namespace: RESTRICTED, phase: 'Running', timeout: '60s', ...GRACE },
      creds: { user: 'role' }
    })
    expectResult(run, 'met')
    expect(run.message).toBe('1 of 1 pod Running')
    expect(run.elapsed).toBeGreaterThanOrEqual(7)
    expect(run.stdout).toContain(
      `0 of 1 pod Running: ${Object.keys(run.phases)[0]} Pending (Unschedulable); waiting for a new node (cluster-autoscaler: kjw-pool 1->2)`
    )
    // the events read by reason, a few LISTs a read, never one per pod
    const { byKind } = auditRequests(offset, 'kjw-role')
    expect(byKind['list events']).toBeGreaterThanOrEqual(4)
    expect(byKind['list events']).toBeLessThanOrEqual(4 * (run.elapsed + 2))
    expect(byKind['get events']).toBeUndefined()
  })

  test('NotTriggerScaleUp: failed once the grace is over, the annotation quoting the scheduler and the autoscaler', async () => {
    const name = uniqueName('noscaleup')
    await createJob({ name, sim: { autoscaler: 'NotTriggerScaleUp', 'autoscaler-ms': '300' } })
    const run = await runAction({ inputs: { job: name, namespace: NS, phase: 'Running', timeout: '60s', ...GRACE } })
    expectResult(run, 'failed')
    const pod = Object.keys(run.phases)[0]
    expect(run.message).toMatch(
      new RegExp(
        `^pod ${pod} stuck in Unschedulable for \\d+(\\.\\d)?s; cluster-autoscaler NotTriggerScaleUp: pod didn't trigger scale-up: 1 max node group size reached`
      )
    )
    expect(run.elapsed).toBeGreaterThanOrEqual(2)
    expect(run.elapsed).toBeLessThan(10)
    const annotation = run.stdout.split('\n').find((l) => l.startsWith('::error title=Unschedulable (1 pod)::'))
    expect(annotation).toBeDefined()
    expect(annotation).toContain(SCHEDULER)
    expect(annotation).toContain("cluster-autoscaler NotTriggerScaleUp: pod didn't trigger scale-up: 1 max node group size reached")
  })
})
