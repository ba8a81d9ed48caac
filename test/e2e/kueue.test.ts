// Kueue's part of the start-timeout message on the real control plane. Kueue
// itself is not installed: a minimal Workload CRD (kueue.x-k8s.io/v1beta1,
// fields not checked) stands in for its API, and the test writes the Workload
// Kueue would make for a suspended Job. Without the CRD the Workloads answer
// 404, as on a cluster without Kueue.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { expectResult, runAction } from './support/action.js'
import { NS, cleanup, createJob, kubectl, uniqueName } from './support/cluster.js'

const CRD = 'workloads.kueue.x-k8s.io'
const QUOTA = "couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor default-flavor, 3 more needed"
const step = (extra: Record<string, string>) => ({ namespace: NS, condition: 'Complete', timeout: '60s', ...extra })

describe('a suspended Job in a Kueue LocalQueue', () => {
  afterEach(cleanup)

  test('no Kueue (404): the start-timeout message names the LocalQueue alone', async () => {
    const name = uniqueName('queued')
    await createJob({ name, suspend: true, labels: { 'kueue.x-k8s.io/queue-name': 'team-a' } })
    const run = await runAction({ inputs: step({ job: name, 'start-timeout': '3s' }) })
    expectResult(run, 'timeout')
    expect(run.message).toBe(
      `timed out waiting for the pods to start (start-timeout 3.0s): job ${name} is suspended: queued in LocalQueue team-a`
    )
  })

  describe('with a Workload CRD', () => {
    beforeAll(async () => {
      const crd = {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: CRD },
        spec: {
          group: 'kueue.x-k8s.io',
          scope: 'Namespaced',
          names: { plural: 'workloads', singular: 'workload', kind: 'Workload', listKind: 'WorkloadList' },
          versions: [
            {
              name: 'v1beta1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }
            }
          ]
        }
      }
      await kubectl(['apply', '-f', '-'], JSON.stringify(crd))
      await kubectl(['wait', '--for=condition=Established', `crd/${CRD}`, '--timeout=60s'])
    }, 90_000)
    afterAll(async () => {
      await kubectl(['delete', 'crd', CRD, '--ignore-not-found', '--wait=false'])
    })

    test("its Workload's admission state, in Kueue's words", async () => {
      const name = uniqueName('queued')
      const job = await createJob({ name, suspend: true, labels: { 'kueue.x-k8s.io/queue-name': 'team-a' } })
      const workload = {
        apiVersion: 'kueue.x-k8s.io/v1beta1',
        kind: 'Workload',
        metadata: {
          name: `job-${name}`,
          namespace: NS,
          ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.uid, controller: true, blockOwnerDeletion: true }]
        },
        spec: { queueName: 'team-a' },
        status: {
          conditions: [
            { type: 'QuotaReserved', status: 'False', reason: 'Pending', message: QUOTA, lastTransitionTime: new Date().toISOString() }
          ]
        }
      }
      await kubectl(['create', '-f', '-'], JSON.stringify(workload))
      const run = await runAction({ inputs: step({ job: name, 'start-timeout': '3s' }) })
      expectResult(run, 'timeout')
      expect(run.message).toBe(
        `timed out waiting for the pods to start (start-timeout 3.0s): job ${name} is suspended: queued in LocalQueue team-a (Kueue: QuotaReserved False (Pending): ${QUOTA})`
      )
    })
  })
})
