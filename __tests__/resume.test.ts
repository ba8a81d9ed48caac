import { describe, expect, test } from '@jest/globals'
import { LineSplitter, LogResume, MAX_LINE_CHARS, cutLine, parseLine, sinceTimeOf } from '../src/observe/logs/resume.js'

const S = 1_000_000_000n
/** 2026-11-30T12:00:00Z in ns */
const T = BigInt(Date.parse('2026-11-30T12:00:00Z')) * 1_000_000n
const ts = (ns: bigint) => {
  const sec = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)
  return `${sec}.${(ns % S).toString().padStart(9, '0')}Z`
}
const line = (ns: bigint, text: string) => `${ts(ns)} ${text}`

/** What a kubelet sends for this log from sinceTime (whole seconds) on. */
function since(log: Array<[bigint, string]>, sinceTime: string | undefined): string[] {
  const from = sinceTime === undefined ? 0n : BigInt(Date.parse(sinceTime)) * 1_000_000n
  return log.filter(([ns]) => ns >= from).map(([ns, text]) => line(ns, text))
}

describe('parseLine', () => {
  test('the kubelet prefix: nine digits, Z', () => {
    expect(parseLine('2026-11-30T12:00:00.500000001Z hello world')).toEqual({ ns: T + 500_000_001n, text: 'hello world' })
  })
  test('shorter fractions, none, an offset; the text keeps its own spaces', () => {
    expect(parseLine('2026-11-30T12:00:00.5Z  two spaces')).toEqual({ ns: T + S / 2n, text: ' two spaces' })
    expect(parseLine('2026-11-30T12:00:01Z x')).toEqual({ ns: T + S, text: 'x' })
    expect(parseLine('2026-11-30T13:00:00.000000002+01:00 x')).toEqual({ ns: T + 2n, text: 'x' })
    expect(parseLine('2026-11-30T12:00:00Z ')).toEqual({ ns: T, text: '' })
  })
  test('no prefix: the line as it is', () => {
    expect(parseLine('plain line')).toEqual({ text: 'plain line' })
    expect(parseLine('2026-11-30T12:00:00.5Z')).toEqual({ text: '2026-11-30T12:00:00.5Z' })
    expect(parseLine('2026-13-45T12:00:00Z bad date')).toEqual({ text: '2026-13-45T12:00:00Z bad date' })
  })
})

describe('sinceTimeOf', () => {
  test('the second of the line, in whole seconds', () => {
    expect(sinceTimeOf(T + 999_999_999n)).toBe('2026-11-30T12:00:00Z')
    expect(sinceTimeOf(T + S)).toBe('2026-11-30T12:00:01Z')
  })
})

describe('LogResume', () => {
  // three lines share 12:00:00.5, two share 12:00:01.25
  const log: Array<[bigint, string]> = [
    [T + 100n, 'a'],
    [T + S / 2n, 'b1'],
    [T + S / 2n, 'b2'],
    [T + S / 2n, 'b3'],
    [T + S + S / 4n, 'c1'],
    [T + S + S / 4n, 'c2'],
    [T + 2n * S, 'd'],
    [T + 2n * S + 1n, 'e']
  ]
  const all = log.map(([, t]) => t)

  /** Reads the log in streams broken after each count of lines, resuming each time. */
  function readWithBreaks(breaks: number[]): string[] {
    const r = new LogResume()
    const shown: string[] = []
    for (const n of [...breaks, Infinity]) {
      r.reconnect()
      const stream = since(log, r.sinceTime())
      for (const l of stream.slice(0, n)) {
        const text = r.accept(l)
        if (text !== undefined) shown.push(text)
      }
    }
    return shown
  }

  test('one stream: every line, timestamps stripped', () => {
    expect(readWithBreaks([])).toEqual(all)
  })

  test('a break inside a group of equal timestamps: nothing lost, nothing twice', () => {
    expect(readWithBreaks([3])).toEqual(all) // after b2
  })

  test('a break in every place, and several in a row', () => {
    for (let n = 0; n <= log.length; n++) expect({ n, shown: readWithBreaks([n]) }).toEqual({ n, shown: all })
    expect(readWithBreaks([2, 1, 1, 3, 0, 1])).toEqual(all)
  })

  test('reconnect mid-second: sinceTime repeats the whole second, which is dropped', () => {
    const r = new LogResume()
    for (const l of since(log, undefined).slice(0, 5)) r.accept(l) // up to c1
    expect(r.sinceTime()).toBe('2026-11-30T12:00:01Z')
    expect(r.position).toEqual({ ns: T + S + S / 4n, count: 1 })
    r.reconnect()
    const again = since(log, r.sinceTime())
    expect(again[0]).toContain('c1')
    expect(again.map((l) => r.accept(l))).toEqual([undefined, 'c2', 'd', 'e'])
  })

  test('before anything was printed: the whole log', () => {
    const r = new LogResume()
    expect(r.sinceTime()).toBeUndefined()
    r.reconnect()
    expect(r.accept(line(T, 'x'))).toBe('x')
  })

  test('lines without a timestamp are shown and do not move the position', () => {
    const r = new LogResume()
    r.accept(line(T, 'a'))
    expect(r.accept('no timestamp here')).toBe('no timestamp here')
    expect(r.position).toEqual({ ns: T, count: 1 })
    r.reconnect()
    expect(r.accept(line(T, 'a'))).toBeUndefined()
    expect(r.accept('no timestamp here')).toBe('no timestamp here') // shown again: documented
    expect(r.accept(line(T + 1n, 'b'))).toBe('b')
  })

  test('once past the replay, an older timestamp (a clock stepping back) is shown', () => {
    const r = new LogResume()
    r.accept(line(T + S, 'a'))
    r.reconnect()
    expect(r.accept(line(T + S, 'a'))).toBeUndefined()
    expect(r.accept(line(T + S + 1n, 'b'))).toBe('b')
    expect(r.accept(line(T, 'older'))).toBe('older')
  })

  test('very long lines are cut', () => {
    const r = new LogResume()
    const shown = r.accept(line(T, 'x'.repeat(MAX_LINE_CHARS + 10)))!
    expect(shown).toBe(`${'x'.repeat(MAX_LINE_CHARS)} … [line cut at ${MAX_LINE_CHARS} characters]`)
  })
})

describe('cutLine', () => {
  test('short lines untouched; never half a surrogate pair', () => {
    expect(cutLine('abc', 3)).toBe('abc')
    expect(cutLine('ab😀c', 3)).toBe('ab … [line cut at 3 characters]')
    expect(cutLine('abc😀', 3)).toBe('abc … [line cut at 3 characters]')
  })
})

describe('LineSplitter', () => {
  test('lines across chunks; the unfinished rest waits', () => {
    const s = new LineSplitter()
    expect(s.push('a\nb')).toEqual(['a'])
    expect(s.push('c\n\nd')).toEqual(['bc', ''])
    expect(s.end()).toBe('d')
    expect(s.end()).toBeUndefined()
  })

  test('a broken stream drops its unfinished line, to come again whole', () => {
    const s = new LineSplitter()
    s.push('2026-11-30T12:00:00Z half a li')
    s.discard()
    expect(s.push('2026-11-30T12:00:00Z half a line\n')).toEqual(['2026-11-30T12:00:00Z half a line'])
  })

  test('memory stays bounded: only what can be shown of a long line is kept', () => {
    const s = new LineSplitter(10)
    expect(s.push('0123456')).toEqual([])
    expect(s.push('789abcdef')).toEqual([])
    expect(s.push('x'.repeat(100_000))).toEqual([])
    expect(s.push('tail\nnext\n')).toEqual(['0123456789', 'next'])
  })

  test('the default keeps enough for the cut to show', () => {
    const s = new LineSplitter()
    const [l] = s.push(`${line(T, 'y'.repeat(100_000))}\n`)
    expect(l!.length).toBe(s.keep)
    expect(new LogResume().accept(l!)).toMatch(/^y{4096} … \[line cut at 4096 characters\]$/)
  })
})
