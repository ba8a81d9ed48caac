// The young generation kept at its first size (src/heap.ts): a V8 flag set at
// run time, which V8 may rename or stop reading without any error of ours. A
// child process allocates as a long wait does (most objects die young, a few
// survive each collection, for many collections) and reports the largest size
// its young generation reached, with the flag and without it.
import { execFileSync } from 'node:child_process'
import { describe, expect, test } from '@jest/globals'
import { YOUNG_GENERATION_FLAG } from '../src/heap.js'

const WORKLOAD = `
const v8 = require('node:v8')
if (process.env.FLAG) v8.setFlagsFromString(process.env.FLAG)
const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size
const kept = []
let max = 0
for (let round = 0; round < 300; round++) {
  for (let i = 0; i < 20000; i++) {
    const o = { name: 'pod-' + i, phase: [i, round], status: { i } }
    if (i % 10 === 0) kept.push(o)
  }
  if (kept.length > 50000) kept.splice(0, 25000)
  max = Math.max(max, young())
}
process.stdout.write(String(max / 1048576))
`

const largestYoungMiB = (flag: string): number =>
  Number(
    execFileSync(process.execPath, ['-e', WORKLOAD], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, FLAG: flag },
      stdio: ['ignore', 'pipe', 'pipe']
    })
  )

describe('young generation', () => {
  test('the flag keeps it small where V8 alone grows it', () => {
    const alone = largestYoungMiB('')
    const kept = largestYoungMiB(YOUNG_GENERATION_FLAG)
    // Without the flag this workload doubles it several times (to 64 MB or more).
    expect(alone).toBeGreaterThanOrEqual(32)
    expect(kept).toBeLessThanOrEqual(16)
  }, 30_000)
})
