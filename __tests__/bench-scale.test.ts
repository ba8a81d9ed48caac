// Figure 5 of the benchmark (bench/lib/scale.ts): which write a wait ended
// on, the latency from it, and the figure's rows.
import { describe, expect, test } from '@jest/globals'
import { lastSucceededWrite, lastWriteToExit, scaleLayout, sizesNotRun, SCALE_KINDS } from '../bench/lib/scale.js'

describe('last write → exit', () => {
  // A smoke run on a loaded machine: the API server received the last two
  // Succeeded writes at -347 ms and answered them at 0; the simulator noted
  // 0; the waiter, which saw them on its watch, exited at -102.
  const audit = [
    { pod: 'j-a', received: -3000, completed: -2990 }, // Running
    { pod: 'j-a', received: -500, completed: -480 }, // Succeeded
    { pod: 'j-b', received: -2900, completed: -2880 },
    { pod: 'j-b', received: -347, completed: 0 }
  ]
  const sim = [
    { pod: 'j-a', t: -479 },
    { pod: 'j-b', t: 0 }
  ]

  test('counts from the API server receipt of the last Succeeded write, not the simulator time', () => {
    const last = lastSucceededWrite(audit, sim)
    expect(last).toEqual({ received: -347, completed: 0 })
    expect(lastWriteToExit(-102, last)).toEqual({ ms: 245 })
  })

  test('refuses an exit before the API server received the last write', () => {
    const r = lastWriteToExit(-400, lastSucceededWrite(audit, sim))
    expect(r).toEqual({ refused: 'exited 53 ms before the API server received the last write' })
  })

  test('refuses when a Succeeded write has no audit record', () => {
    expect(lastSucceededWrite(audit, [...sim, { pod: 'j-c', t: 5 }])).toBeUndefined()
    expect(lastWriteToExit(100, undefined)).toEqual({ refused: 'no audit record of every Succeeded write' })
  })

  test("a pod's later write (after the simulator's Succeeded) is not taken for it", () => {
    const later = [...audit, { pod: 'j-a', received: 900, completed: 910 }]
    expect(lastSucceededWrite(later, sim)).toEqual({ received: -347, completed: 0 })
  })
})

describe("figure 5's rows", () => {
  test('each size, measure and contender once; no latency for the watchers the harness ends', () => {
    const cells = scaleLayout([1000, 100, 1000], [...SCALE_KINDS])
    const keys = cells.map((c) => `${c.size}/${c.measure}/${c.kind}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(cells.filter((c) => c.size === 100 && c.measure === 'cpu').map((c) => c.kind)).toEqual(SCALE_KINDS)
    expect(cells.filter((c) => c.size === 1000 && c.measure === 'latency').map((c) => c.kind)).toEqual(['phase', 'condition', 'kubectl'])
    expect(cells.length).toBe(2 * (5 * 3 + 3))
    expect(cells[0]).toEqual({ size: 100, measure: 'cpu', kind: 'phase' })
  })

  test('the target sizes not run are named once', () => {
    expect(sizesNotRun([100])).toEqual([1000, 5000, 10000])
    expect(sizesNotRun([1000, 10000])).toEqual([5000])
  })
})
