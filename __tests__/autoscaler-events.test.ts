// Autoscalers' Events as the source reads them, and their words as the
// progress line shows them: pure, without a server.
import { describe, expect, test } from '@jest/globals'
import { autoscalerText } from '../src/decide/explain.js'
import { autoscalerWords, type CoreEvent } from '../src/observe/autoscaler-events.js'

const pods = new Map([
  ['pod-a', 'job-1'],
  ['pod-b', 'job-1']
])
const event = (o: Partial<CoreEvent>): CoreEvent => ({
  involvedObject: { kind: 'Pod', uid: 'pod-a' },
  reason: 'TriggeredScaleUp',
  message: 'pod triggered scale-up: [{pool-a 3->4 (max: 10)}]',
  source: { component: 'cluster-autoscaler' },
  lastTimestamp: '2026-12-01T10:00:00Z',
  ...o
})

describe('autoscalerWords', () => {
  test('only the pods asked about, only autoscalers reasons', () => {
    const words = autoscalerWords(
      [
        event({}),
        event({ involvedObject: { kind: 'Pod', uid: 'pod-other' } }),
        event({ reason: 'FailedScheduling', source: { component: 'default-scheduler' } }),
        event({ involvedObject: { kind: 'Pod', uid: 'pod-b' }, reason: 'NotTriggerScaleUp', message: "pod didn't trigger scale-up:" })
      ],
      pods
    )
    expect(words.map((w) => `${w.podUid}/${w.jobUid}/${w.word.reason}`)).toEqual([
      'pod-a/job-1/TriggeredScaleUp',
      'pod-b/job-1/NotTriggerScaleUp'
    ])
  })
  test('when: a series last observed, else lastTimestamp, else eventTime (events.k8s.io recorders); who: source, else reportingComponent', () => {
    const [a, b, c] = autoscalerWords(
      [
        event({ series: { lastObservedTime: '2026-12-01T10:05:00.123456Z' } }),
        event({
          lastTimestamp: null,
          eventTime: '2026-12-01T10:01:00.000000Z',
          source: {},
          reportingComponent: 'karpenter',
          reason: 'Nominated'
        }),
        event({ lastTimestamp: null, metadata: { creationTimestamp: '2026-12-01T09:59:00Z' } })
      ],
      pods
    )
    expect(a.word).toMatchObject({ at: '2026-12-01T10:05:00.123456Z', component: 'cluster-autoscaler' })
    expect(b.word).toMatchObject({ at: '2026-12-01T10:01:00.000000Z', component: 'karpenter' })
    expect(c.word.at).toBe('2026-12-01T09:59:00Z')
  })
})

describe('autoscalerText: the word, short, for the progress line', () => {
  test.each([
    ['pod triggered scale-up: [{pool-a 3->4 (max: 10)}]', 'cluster-autoscaler', 'cluster-autoscaler: pool-a 3->4'],
    [
      'pod triggered scale-up: [{pool-a 3->4 (max: 10)} {pool-b 1->2 (max: 5)}]',
      'cluster-autoscaler',
      'cluster-autoscaler: pool-a 3->4, pool-b 1->2'
    ],
    ['Pod should schedule on: nodeclaim/default-x7k2p', 'karpenter', 'karpenter: nodeclaim/default-x7k2p'],
    ['something else entirely', 'eks-auto-mode/compute', 'eks-auto-mode/compute: something else entirely']
  ])('%s', (message, component, text) => {
    expect(autoscalerText({ reason: 'TriggeredScaleUp', message, component })).toBe(text)
  })
  test('no component: named by its reason', () => {
    expect(autoscalerText({ reason: 'Nominated', message: 'Pod should schedule on: nodeclaim/x' })).toBe('karpenter: nodeclaim/x')
  })
})
