// The outputs' 1 MB cut (src/report/render.ts cutJson): the same text as
// rendering the whole list and bisecting over prefixes, the way it was done
// before, with each item rendered once.
import { afterEach, describe, expect, jest, test } from '@jest/globals'
import type { JobInfo, PodInfo, Snapshot } from '../src/model.js'
import type { Outcome } from '../src/report/outcome.js'
import { cutJson, MAX_OUTPUT, outputs, podRow, sortedPods } from '../src/report/render.js'

/** The previous cut, kept here as the reference: one whole render per bisection step. */
function bisectingCut<T>(items: T[], render: (items: T[]) => string, note: (kept: number) => T): string {
  const text = render(items)
  if (text.length <= MAX_OUTPUT) return text
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (render([...items.slice(0, mid), note(mid)]).length <= MAX_OUTPUT) lo = mid
    else hi = mid - 1
  }
  return render([...items.slice(0, lo), note(lo)])
}

const job = (name: string, n: number): JobInfo => ({
  name,
  namespace: 'ci',
  uid: `uid-${name}`,
  suspend: false,
  parallelism: n,
  completions: n,
  active: 0,
  ready: 0,
  succeeded: n,
  failed: 0,
  terminating: 0,
  conditions: [{ type: 'Complete', status: 'True', reason: 'CompletionsReached' }]
})

function pods(jobName: string, n: number, nameOf = (i: number) => `${jobName}-${String(i).padStart(5, '0')}-x7k2q`): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    name: nameOf(i),
    uid: `uid-${jobName}-${i}`,
    phase: i % 7 ? 'Succeeded' : 'Failed',
    ready: false,
    restarts: i % 3,
    node: 'kjw-node',
    startTime: '2026-12-01T10:00:00Z',
    creationTimestamp: '2026-12-01T10:00:00Z',
    completionIndex: String(i),
    containers: [{ name: 'main', init: false, state: 'terminated', restartCount: i % 3, exitCode: i % 7 ? 0 : 1, reason: 'Completed' }]
  }))
}

const snapshot = (name: string, ps: PodInfo[]): Snapshot => ({
  namespace: 'ci',
  name,
  job: job(name, ps.length),
  jobDeleted: false,
  pods: ps
})

function oneJob(ps: PodInfo[]): Outcome {
  const s = snapshot('train', ps)
  return { result: 'met', message: 'done', namespace: 'ci', job: 'train', snapshot: s, elapsedMs: 1000 }
}

/** The outputs phases and pods as the previous code rendered them. */
function reference(o: Outcome): { phases: string; pods: string } {
  const rows = sortedPods(o.snapshot).map(podRow)
  const cutNote = (kept: number) =>
    ({ name: `…${rows.length - kept} more pods not listed: the output is limited to 1 MB` }) as unknown as (typeof rows)[number]
  return {
    phases: bisectingCut(
      rows,
      (rs) => JSON.stringify(Object.fromEntries(rs.map((r) => [r.name, r.phase]))),
      (kept) => ({ ...cutNote(kept), phase: 'cut' })
    ),
    pods: bisectingCut(rows, (rs) => JSON.stringify(rs), cutNote)
  }
}

afterEach(() => {
  jest.restoreAllMocks()
})

describe('the same outputs as before', () => {
  test('uncut: a few pods, and names JSON orders its own way (integer-like keys first)', () => {
    for (const ps of [pods('train', 3), [], pods('n', 5, (i) => (i % 2 ? String(100 - i) : `p-${i}`))]) {
      const o = oneJob(ps)
      const out = outputs(o)
      expect({ phases: out.phases, pods: out.pods }).toEqual(reference(o))
      expect(JSON.parse(out.pods)).toHaveLength(ps.length)
    }
  })

  test('cut at 10,000 pods: the same entries kept, the same note', () => {
    const o = oneJob(pods('train', 10_000))
    const out = outputs(o)
    const ref = reference(o)
    expect(out.pods).toBe(ref.pods)
    expect(out.phases).toBe(ref.phases)
    expect(out.pods.length).toBeLessThanOrEqual(MAX_OUTPUT)
    expect(JSON.parse(out.pods).at(-1).name).toMatch(/^…\d+ more pods not listed/)
  })

  test('cut right at the limit: the last entry that fits is kept, one more does not fit', () => {
    // items whose whole is just over the limit, for every length of the note's count
    for (const extra of [0, 1, 5, 40]) {
      const item = 'x'.repeat(98)
      const n = Math.floor(MAX_OUTPUT / 101) + extra
      const items = Array.from({ length: n }, (_, i) => `${item}${i % 10}`)
      const note = (kept: number) => `…${n - kept} more`
      const got = cutJson(
        items,
        (s) => JSON.stringify(s),
        (k) => JSON.stringify(note(k)),
        '[]'
      )
      expect(got).toBe(bisectingCut(items, (xs) => JSON.stringify(xs), note))
    }
  })

  test('several Jobs: the jobs output cut the same way', () => {
    const jobs = Array.from({ length: 300 }, (_, j) => `job-${j}`)
    const perJob = 200
    const o: Outcome = {
      result: 'met',
      message: 'done',
      namespace: 'ci',
      jobs: jobs.map((name) => {
        const s = snapshot(name, pods(name, perJob))
        return { name, snapshot: s, verdict: { state: 'met', summary: 'ok', message: 'ok', count: perJob, expected: perJob } as never }
      }),
      count: 300 * perJob,
      elapsedMs: 1000
    }
    const out = outputs(o)
    const entries = Object.entries(JSON.parse(out.jobs) as Record<string, unknown>)
    expect(out.jobs.length).toBeLessThanOrEqual(MAX_OUTPUT)
    expect(entries.at(-1)).toEqual(['…', `${300 - entries.length + 1} more jobs not listed: the output is limited to 1 MB`])
    // the reference over the same entries
    const whole = JSON.parse(JSON.stringify(Object.fromEntries(entries.slice(0, -1)))) as object
    expect(Object.keys(whole)).toEqual(jobs.slice(0, entries.length - 1))
  })
})

describe('each item rendered once', () => {
  test('cutJson renders every item once, and the note a few times (bisection over lengths)', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({ name: `pod-${i}`, reason: 'y'.repeat(60) }))
    const piece = jest.fn((x: { name: string }) => JSON.stringify(x))
    const note = jest.fn((k: number) => JSON.stringify({ name: `…${items.length - k} more` }))
    const text = cutJson(items, piece, note, '[]')
    expect(piece).toHaveBeenCalledTimes(items.length)
    expect(note.mock.calls.length).toBeLessThanOrEqual(Math.ceil(Math.log2(items.length)) + 2)
    expect(text.length).toBeLessThanOrEqual(MAX_OUTPUT)
  })

  test("the outputs of 10,000 pods stringify no whole list: one JSON text over 100 kB (the Job's entry in jobs, once)", () => {
    const o = oneJob(pods('train', 10_000))
    const real = JSON.stringify
    let large = 0
    jest.spyOn(JSON, 'stringify').mockImplementation(((...args: Parameters<typeof JSON.stringify>) => {
      const text = real(...args)
      if (text && text.length > 100_000) large++
      return text
    }) as typeof JSON.stringify)
    const out = outputs(o)
    expect(out.pods.length).toBeGreaterThan(900_000)
    expect(large).toBe(1)
  })
})
