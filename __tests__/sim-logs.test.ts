// The kubelet simulator's container logs (test/cluster/sim-logs.ts): what a
// container writes over time, and what a pods/log request gets back.
import { describe, expect, test } from '@jest/globals'
import {
  CRI_MAX_LINE,
  ContainerLog,
  FOLLOW_GRACE_NS,
  HOSTILE_LINES,
  LogReader,
  endLines,
  formatTimestamp,
  logPlan,
  parseLogQuery,
  parseTimestamp,
  serveLog,
  writeAt
} from '../test/cluster/sim-logs.js'
import type { LogQuery, LogSink, LogSpec, LogVars, Plan } from '../test/cluster/sim-logs.js'

const S = 1_000_000_000n
const MS = 1_000_000n
/** 2026-11-30T12:00:00.500000000Z */
const T0 = BigInt(Date.parse('2026-11-30T12:00:00Z')) * MS + 500n * MS
const vars: LogVars = { pod: 'p', namespace: 'ns', container: 'c', attempt: 1, index: undefined }
const spec = (s: Partial<LogSpec> = {}): LogSpec => ({
  text: undefined,
  script: undefined,
  rate: 0,
  lines: Infinity,
  longLine: 0,
  hostile: false,
  ...s
})
const query = (q: Partial<LogQuery> = {}): LogQuery => ({ follow: false, previous: false, timestamps: false, ...q })
const read = (log: ContainerLog, q: Partial<LogQuery> = {}) => new LogReader(query(q)).read(log).toString()

/** A log with numbered lines "n1".."nN", one every 100 ms from T0. */
function numbered(n: number, perSecond = 10): ContainerLog {
  const plan: Plan = { writes: [], numbered: { perSecond, total: n, fromMs: 0, text: (i) => `n${i}` } }
  return new ContainerLog(plan, T0)
}

describe('timestamps', () => {
  test('RFC3339 with nine digits always, as the kubelet writes them', () => {
    expect(formatTimestamp(T0)).toBe('2026-11-30T12:00:00.500000000Z')
    expect(formatTimestamp(T0 + 1n)).toBe('2026-11-30T12:00:00.500000001Z')
    expect(formatTimestamp(T0 + 499_999_999n)).toBe('2026-11-30T12:00:00.999999999Z')
  })
  test('parse back, and shorter fractions', () => {
    expect(parseTimestamp('2026-11-30T12:00:00.500000001Z')).toBe(T0 + 1n)
    expect(parseTimestamp('2026-11-30T12:00:00.5Z')).toBe(T0)
    expect(parseTimestamp('2026-11-30T12:00:00Z')).toBe(T0 - 500n * MS)
    expect(parseTimestamp('yesterday')).toBeUndefined()
  })
})

describe('a container log over time', () => {
  test('lines appear when due, each write with its own timestamp', () => {
    const log = numbered(5)
    log.advance(T0 + 250n * MS)
    expect(log.records.map((r) => r.data.toString())).toEqual(['n1', 'n2', 'n3'])
    expect(log.records.map((r) => r.ns - T0)).toEqual([0n, 100n * MS, 200n * MS])
    expect(log.nextDueNs()).toBe(T0 + 300n * MS)
    log.advance(T0 + 10n * S)
    expect(log.records).toHaveLength(5)
    expect(log.nextDueNs()).toBeUndefined()
  })

  test('finish: planned lines after the end are never written; last lines at the end', () => {
    const log = numbered(100)
    log.finish(T0 + 150n * MS, ['bye'])
    expect(log.records.map((r) => r.data.toString())).toEqual(['n1', 'n2', 'bye'])
    expect(log.records[2]!.ns).toBe(T0 + 150n * MS)
    log.advance(T0 + 10n * S)
    log.finish(T0 + 20n * S, ['again'])
    expect(log.records).toHaveLength(3)
  })

  test('lines of one write share a timestamp; writes at the same moment do not', () => {
    const log = new ContainerLog(
      {
        writes: [
          { atMs: 0, lines: ['a', 'b'] },
          { atMs: 0, lines: ['c'] }
        ]
      },
      T0
    )
    log.advance(T0)
    expect(log.records.map((r) => r.ns - T0)).toEqual([0n, 0n, 1n])
  })

  test('a line over 16 KiB becomes partial records, joined again in the output', () => {
    const long = 'y'.repeat(CRI_MAX_LINE * 2 + 10)
    const log = new ContainerLog({ writes: [{ atMs: 0, lines: ['short', long, 'x'.repeat(CRI_MAX_LINE)] }] }, T0)
    log.advance(T0)
    expect(log.records.map((r) => [r.data.length, r.partial])).toEqual([
      [5, false],
      [CRI_MAX_LINE, true],
      [CRI_MAX_LINE, true],
      [10, false],
      [CRI_MAX_LINE, false]
    ])
    expect(read(log)).toBe(`short\n${long}\n${'x'.repeat(CRI_MAX_LINE)}\n`)
  })

  test('with timestamps each piece of a long line has its own: they land inside the line, as with a real kubelet', () => {
    const long = 'z'.repeat(CRI_MAX_LINE + 1)
    const log = new ContainerLog({ writes: [{ atMs: 0, lines: [long] }] }, T0)
    log.advance(T0)
    const ts = formatTimestamp(T0)
    expect(read(log, { timestamps: true })).toBe(`${ts} ${'z'.repeat(CRI_MAX_LINE)}${ts} z\n`)
    // tailLines counts records, as the kubelet counts lines of its file
    expect(read(log, { tailLines: 1 })).toBe('z\n')
  })

  test('a multi-byte character cut between two records comes out whole', () => {
    const line = 'a'.repeat(CRI_MAX_LINE - 1) + 'é'
    const log = new ContainerLog({ writes: [{ atMs: 0, lines: [line] }] }, T0)
    log.advance(T0)
    expect(log.records).toHaveLength(2)
    expect(read(log)).toBe(`${line}\n`)
  })
})

describe('a request', () => {
  const log = numbered(30) // n1..n30 over 2.9 s: 12:00:00.5 .. 12:00:03.4
  log.finish(T0 + 5n * S, ['end'])

  test('the whole log', () => {
    expect(read(log).split('\n')).toHaveLength(32)
  })

  test('timestamps', () => {
    expect(read(log, { timestamps: true, tailLines: 2 })).toBe(`2026-11-30T12:00:03.400000000Z n30\n${formatTimestamp(T0 + 5n * S)} end\n`)
  })

  test('sinceTime in whole seconds keeps that whole second', () => {
    const q = parseLogQuery(new URLSearchParams({ sinceTime: '2026-11-30T12:00:02Z' }), T0)
    expect(q.sinceNs).toBe(T0 + 1500n * MS)
    const lines = new LogReader(q).read(log).toString().split('\n')
    // 12:00:02.0 is n16 (T0 + 1.5 s)
    expect(lines[0]).toBe('n16')
  })

  test('sinceSeconds, and the later of the two wins', () => {
    const now = T0 + 3n * S
    expect(parseLogQuery(new URLSearchParams({ sinceSeconds: '1' }), now).sinceNs).toBe(T0 + 2n * S)
    const both = new URLSearchParams({ sinceSeconds: '10', sinceTime: '2026-11-30T12:00:02Z' })
    expect(parseLogQuery(both, now).sinceNs).toBe(T0 + 1500n * MS)
  })

  test('tailLines, then sinceTime (the kubelet seeks the tail first)', () => {
    expect(read(log, { tailLines: 3 })).toBe('n29\nn30\nend\n')
    expect(read(log, { tailLines: 0 })).toBe('')
    // the last 20 records are n12..n30 and end; of those, from n16
    expect(read(log, { tailLines: 20, sinceNs: T0 + 1500n * MS }).split('\n')[0]).toBe('n16')
    expect(read(log, { tailLines: 5, sinceNs: T0 + 1500n * MS })).toBe('n27\nn28\nn29\nn30\nend\n')
  })

  test('limitBytes cuts, in the middle of a line if it must, timestamps counted', () => {
    expect(read(log, { limitBytes: 7 })).toBe('n1\nn2\nn')
    expect(read(log, { limitBytes: 7, timestamps: true })).toBe('2026-11')
  })

  test('parseLogQuery reads the flags', () => {
    const q = parseLogQuery(new URLSearchParams('follow=true&previous=true&timestamps=true&tailLines=5&limitBytes=100'), T0)
    expect(q).toEqual({ follow: true, previous: true, timestamps: true, tailLines: 5, limitBytes: 100 })
    expect(parseLogQuery(new URLSearchParams('tailLines=-1&limitBytes=x'), T0)).toEqual(query())
  })
})

describe('follow', () => {
  test('new lines as they are written, nothing twice, over a second after the end', () => {
    const log = numbered(10)
    const r = new LogReader(query({ follow: true }))
    log.advance(T0 + 150n * MS)
    expect(r.read(log).toString()).toBe('n1\nn2\n')
    expect(r.read(log).toString()).toBe('')
    log.advance(T0 + 350n * MS)
    expect(r.read(log).toString()).toBe('n3\nn4\n')
    expect(r.over(log, T0 + 350n * MS, T0)).toBe(false)
    log.finish(T0 + 500n * MS, ['bye'])
    expect(r.read(log).toString()).toBe('n5\nn6\nbye\n')
    expect(r.over(log, T0 + 500n * MS + FOLLOW_GRACE_NS - 1n, T0)).toBe(false)
    expect(r.over(log, T0 + 500n * MS + FOLLOW_GRACE_NS, T0)).toBe(true)
  })

  test('tailLines only positions the start; since filters what follows too', () => {
    const log = numbered(10)
    log.advance(T0 + 450n * MS)
    const r = new LogReader(query({ follow: true, tailLines: 1, sinceNs: T0 + 600n * MS }))
    expect(r.read(log).toString()).toBe('')
    log.advance(T0 + 750n * MS)
    expect(r.read(log).toString()).toBe('n7\nn8\n')
  })

  test('a container that had ended before the request: everything at once, then over', () => {
    const log = numbered(3)
    log.finish(T0 + S)
    const r = new LogReader(query({ follow: true }))
    expect(r.read(log).toString()).toBe('n1\nn2\nn3\n')
    expect(r.over(log, T0 + S + 1n, T0 + S + 1n)).toBe(true)
  })

  test('limitBytes ends a follow', () => {
    const log = numbered(10)
    log.advance(T0 + 10n * S)
    const r = new LogReader(query({ follow: true, limitBytes: 4 }))
    expect(r.read(log).toString()).toBe('n1\nn')
    expect(r.done).toBe(true)
    expect(r.over(log, T0, T0)).toBe(true)
  })
})

describe('what containers print (annotations)', () => {
  const texts = (plan: Plan, n = 100) =>
    Array.from({ length: n }, (_, i) => writeAt(plan, i))
      .filter((w) => w !== undefined)
      .map((w) => [w.atMs, w.lines])

  test('default: two lines at start, the third with the exit code at the end', () => {
    expect(texts(logPlan(spec(), vars))).toEqual([[0, ['line 1: p/c attempt 1 starting', 'line 2: p/c attempt 1 working']]])
    expect(endLines(spec(), vars, 3, false)).toEqual(['line 3: p/c attempt 1 exiting with code 3'])
  })

  test('log: lines from the first with {exitCode} are printed at the end', () => {
    const s = spec({ text: 'starting {pod}\nfatal: exit {exitCode} (attempt {attempt})\nafter' })
    expect(texts(logPlan(s, vars))).toEqual([[0, ['starting p']]])
    expect(endLines(s, vars, 3, false)).toEqual(['fatal: exit 3 (attempt 1)', 'after'])
    expect(endLines(spec({ text: 'no attempt here' }), { ...vars, attempt: 2 }, 1, true)).toEqual(['attempt 2: exiting with code 1'])
  })

  test('log-script: +MS delays, lines without it share the write', () => {
    const s = spec({ script: 'a {container}\nb\n+500 c\n+0 d\n+250 e' })
    expect(texts(logPlan(s, vars))).toEqual([
      [0, ['a c', 'b']],
      [500, ['c']],
      [500, ['d']],
      [750, ['e']]
    ])
    expect(endLines(s, vars, 0, false)).toEqual([])
  })

  test('log-rate and log-lines: numbered lines after the others', () => {
    const plan = logPlan(spec({ script: '+100 first', rate: 4, lines: 3 }), vars)
    expect(texts(plan)).toEqual([
      [100, ['first']],
      [100, ['p/c attempt 1 line 1']],
      [350, ['p/c attempt 1 line 2']],
      [600, ['p/c attempt 1 line 3']]
    ])
    // log-lines without a rate: 10 a second
    expect(texts(logPlan(spec({ lines: 2 }), vars)).slice(1)).toEqual([
      [0, ['p/c attempt 1 line 1']],
      [100, ['p/c attempt 1 line 2']]
    ])
    // a rate without log-lines: until the container stops
    expect(writeAt(logPlan(spec({ rate: 1000 }), vars), 100_000)?.atMs).toBeCloseTo(99_999, 6)
  })

  test('log-stamp and {writtenAt}: the time the line was written, in the line', () => {
    const log = new ContainerLog(
      logPlan(spec({ script: 'at {writtenAt}\n+250 later {writtenAt}', rate: 2, lines: 1, stamp: true }), vars),
      T0
    )
    log.advance(T0 + 10n * S)
    expect(read(log)).toBe(
      [
        'at 2026-11-30T12:00:00.500000000Z',
        'later 2026-11-30T12:00:00.750000000Z',
        'p/c attempt 1 line 1 written 2026-11-30T12:00:00.750000001Z',
        ''
      ].join('\n')
    )
  })

  test('log-long-line: one line of exactly that many bytes', () => {
    const plan = logPlan(spec({ longLine: 40_000 }), vars)
    const long = texts(plan)[1]![1] as string[]
    expect(long[0]).toHaveLength(40_000)
    expect(long[0]).toMatch(/^long line of 40000 bytes from p\/c attempt 1: x+END$/)
  })

  test('log-hostile: every hostile line, placeholders filled', () => {
    const lines = texts(logPlan(spec({ hostile: true }), vars))[1]![1] as string[]
    expect(lines).toHaveLength(HOSTILE_LINES.length)
    expect(lines).toContain('   ::error title=forged by p::forged error annotation')
    expect(lines.some((l) => l.includes('##['))).toBe(true)
    expect(lines.some((l) => l.includes('\x1b]'))).toBe(true)
    expect(lines.some((l) => l.includes('\r'))).toBe(true)
  })
})

describe('serveLog (real timers)', () => {
  const clock = () => process.hrtime.bigint()

  /** A sink recording what it gets and when it ends. */
  function sink(): LogSink & { data: string; endedAt?: bigint; needDrain: boolean; close(): void } {
    let onClose = () => {}
    const s = {
      data: '',
      endedAt: undefined as bigint | undefined,
      needDrain: false,
      destroyed: false,
      get writableNeedDrain() {
        return s.needDrain
      },
      write(chunk: Buffer) {
        s.data += chunk.toString()
      },
      end() {
        s.endedAt = clock()
      },
      on(_event: 'close', fn: () => void) {
        onClose = fn
      },
      close() {
        s.destroyed = true
        onClose()
      }
    }
    return s
  }

  /** A container started now writing n1..n5 every 20 ms, ending after 150 ms. */
  function running() {
    const start = clock()
    const log = numberedFrom(start, 5, 50)
    const current = () => {
      const t = clock()
      if (t >= start + 150n * MS) log.finish(start + 150n * MS, ['bye'])
      else log.advance(t)
      return log
    }
    return { start, current }
  }
  const numberedFrom = (start: bigint, n: number, perSecond: number) =>
    new ContainerLog({ writes: [], numbered: { perSecond, total: n, fromMs: 0, text: (i) => `n${i}` } }, start)
  const until = async (cond: () => boolean, ms = 3000) => {
    const end = Date.now() + ms
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
  }

  test('follow: lines as they come, the end about a second after the container', async () => {
    const { start, current } = running()
    const out = sink()
    const seen: Array<[string, bigint]> = []
    const write = out.write
    out.write = (chunk: Buffer) => {
      seen.push([chunk.toString(), clock() - start])
      write(chunk)
    }
    serveLog(out, new LogReader(query({ follow: true })), current, () => false, clock)
    await until(() => out.endedAt !== undefined)
    expect(out.data).toBe('n1\nn2\nn3\nn4\nn5\nbye\n')
    // streamed, not all at once at the end
    expect(seen.length).toBeGreaterThan(2)
    expect(seen[1]![1]).toBeLessThan(150n * MS)
    const after = out.endedAt! - start
    expect(after).toBeGreaterThanOrEqual(150n * MS + FOLLOW_GRACE_NS)
    expect(after).toBeLessThan(150n * MS + FOLLOW_GRACE_NS + 400n * MS)
  })

  test('without follow: what is there, and the end at once', () => {
    const { current } = running()
    const out = sink()
    serveLog(out, new LogReader(query()), current, () => false, clock)
    expect(out.data).toBe('n1\n')
    expect(out.endedAt).toBeDefined()
  })

  test('a slow client loses nothing, even past the grace second', async () => {
    const { current } = running()
    const out = sink()
    out.needDrain = true
    serveLog(out, new LogReader(query({ follow: true })), current, () => false, clock)
    await new Promise((r) => setTimeout(r, 1300))
    expect(out.endedAt).toBeUndefined()
    out.needDrain = false
    await until(() => out.endedAt !== undefined)
    expect(out.data).toBe('n1\nn2\nn3\nn4\nn5\nbye\n')
  })

  test('the pod deleted, or the client gone: the stream stops', async () => {
    const { current } = running()
    const out = sink()
    let gone = false
    serveLog(out, new LogReader(query({ follow: true })), current, () => gone, clock)
    gone = true
    await until(() => out.endedAt !== undefined)
    expect(out.endedAt).toBeDefined()

    const out2 = sink()
    serveLog(out2, new LogReader(query({ follow: true })), running().current, () => false, clock)
    out2.close()
    await new Promise((r) => setTimeout(r, 300))
    expect(out2.data).toBe('n1\n')
    expect(out2.endedAt).toBeUndefined()
  })
})

describe('the action resume logic against the simulator', () => {
  test('streams broken anywhere and resumed with sinceTime: every line once, in order', async () => {
    const { LogResume, LineSplitter } = await import('../src/observe/logs/resume.js')
    // a script with equal timestamps (lines of one write) across second boundaries, a long line, numbered lines
    const plan = logPlan(spec({ script: 'a\nb\nc\n+400 d\ne\n+700 f\n+0 g\n+1 h\ni', longLine: 20_000, rate: 7, lines: 20 }), vars)
    const log = new ContainerLog(plan, T0)
    log.finish(T0 + 10n * S, ['bye'])
    const whole = read(log).split('\n').slice(0, -1)
    expect(whole).toHaveLength(9 + 1 + 20 + 1)
    let seed = 7
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n
    for (let run = 0; run < 50; run++) {
      const resume = new LogResume()
      const shown: string[] = []
      for (let attempt = 0; attempt < 100; attempt++) {
        resume.reconnect()
        const splitter = new LineSplitter(100_000)
        const since = resume.sinceTime()
        const q = parseLogQuery(new URLSearchParams({ timestamps: 'true', ...(since ? { sinceTime: since } : {}) }), T0)
        const body = new LogReader(q).read(log).toString()
        // the connection breaks after a random number of bytes, maybe inside a line
        const cut = attempt < 5 ? rand(body.length + 1) : body.length
        for (const l of splitter.push(body.slice(0, cut))) {
          const text = resume.accept(l)
          if (text !== undefined) shown.push(text)
        }
        if (cut === body.length) break
        splitter.discard()
      }
      expect(shown.map((l) => l.slice(0, 60))).toEqual(whole.map((l) => l.slice(0, 60)))
    }
  })
})
