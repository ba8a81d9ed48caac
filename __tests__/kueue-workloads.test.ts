// Which of the namespace's Kueue Workloads belong to the suspended Jobs
// (src/observe/kueue-workloads.ts), and what of them is kept. No server.
import { describe, expect, test } from '@jest/globals'
import { workloadsOf, type WorkloadObject } from '../src/observe/kueue-workloads.js'

describe('workloadsOf', () => {
  const items: WorkloadObject[] = [
    {
      metadata: { name: 'job-build-1', ownerReferences: [{ kind: 'Job', uid: 'uid-1' }] },
      spec: { queueName: 'team-a' },
      status: {
        admission: { clusterQueue: 'cq' },
        conditions: [
          { type: 'QuotaReserved', status: 'True', reason: 'QuotaReserved', message: 'Quota reserved in ClusterQueue cq' },
          { type: 'Admitted', status: 'False', reason: 'NoChecks' },
          { status: 'True' }
        ]
      }
    },
    { metadata: { name: 'job-other-1', ownerReferences: [{ kind: 'Job', uid: 'uid-9' }] } },
    { metadata: { name: 'orphan' } }
  ]

  test('by the owner uid: the queue, the ClusterQueue and the conditions that have a type and a status', () => {
    expect(workloadsOf(items, new Set(['uid-1']))).toEqual([
      {
        jobUid: 'uid-1',
        workload: {
          name: 'job-build-1',
          queueName: 'team-a',
          clusterQueue: 'cq',
          conditions: [
            { type: 'QuotaReserved', status: 'True', reason: 'QuotaReserved', message: 'Quota reserved in ClusterQueue cq' },
            { type: 'Admitted', status: 'False', reason: 'NoChecks' }
          ]
        }
      }
    ])
  })
  test('none owned by the Jobs: none', () => {
    expect(workloadsOf(items, new Set(['uid-5']))).toEqual([])
  })
})
