// The action's progress lines (src/engine.ts progressLog): a line when the
// picture changes, but a Job of thousands of pods changes it on nearly every
// batch of events, and a line each time filled the step's log.
import { describe, expect, test } from '@jest/globals'
import { progressLog } from '../src/engine.js'

function log(heartbeatMs = 30_000) {
  let now = 1_000_000
  const lines: string[] = []
  const progress = progressLog(heartbeatMs, now, { untrusted: (t) => lines.push(String(t)) }, () => now)
  return { lines, progress, advance: (ms: number) => (now += ms) }
}

describe('progress lines', () => {
  test('a few changes are each written at once', () => {
    const { lines, progress, advance } = log()
    progress({ state: 'waiting', message: '0 of 2 pods Running' })
    advance(40)
    progress({ state: 'waiting', message: '1 of 2 pods Running' })
    advance(40)
    progress({ state: 'met', message: '2 of 2 pods Running' })
    expect(lines).toEqual(['[0ms] 0 of 2 pods Running', '[40ms] 1 of 2 pods Running', '[80ms] 2 of 2 pods Running'])
  })

  test('a burst of changes: a few lines, then one a second, the latest picture; the verdict always', () => {
    const { lines, progress, advance } = log()
    // 5,000 pods succeeding over 10 s, one picture every 2 ms
    for (let i = 0; i < 5_000; i++) {
      progress({ state: 'waiting', message: `${i} of 5000 pods Succeeded` })
      advance(2)
    }
    progress({ state: 'met', message: '5000 of 5000 pods Succeeded' })
    expect(lines.length).toBeLessThanOrEqual(5 + 10 + 1)
    expect(lines.length).toBeGreaterThanOrEqual(10)
    expect(lines.at(-1)).toBe('[10s] 5000 of 5000 pods Succeeded')
    // one a second: the picture written a second after the last one, not an old one held
    expect(lines.at(-2)).toMatch(/^\[9\.\ds\] 4\d{3} of 5000 pods Succeeded$/)
  })

  test('the same picture again only at the heartbeat', () => {
    const { lines, progress, advance } = log(30_000)
    progress({ state: 'waiting', message: '0 of 1 pods Succeeded' })
    advance(29_000)
    progress({ state: 'waiting', message: '0 of 1 pods Succeeded' })
    advance(1_000)
    progress({ state: 'waiting', message: '0 of 1 pods Succeeded' })
    expect(lines).toEqual(['[0ms] 0 of 1 pods Succeeded', '[30s] 0 of 1 pods Succeeded'])
  })
})
