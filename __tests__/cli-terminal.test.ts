// The terminal reporter: the sanitizer for cluster text, the live block on a
// TTY (checked on a fake terminal of fixed width that interprets what we
// write), the plain lines elsewhere, and the final report in 80 columns
// (golden files; UPDATE_GOLDEN=1 rewrites them).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from '@jest/globals'
import {
  chunks,
  columns,
  fit,
  liveEnd,
  liveFrame,
  logLine,
  paint,
  phaseCounts,
  plainLines,
  podColour,
  statusText,
  terminalText,
  textReport,
  wrap,
  type Live
} from '../src/cli/terminal.js'
import type { PodInfo, PodPhase } from '../src/model.js'
import { listIndex, podsOf } from '../src/pod-table.js'
import { apply, initialState, snapshotOf } from '../src/observe/state.js'
import { HOSTILE_LINE, NOW, met, severalFailed, stuckPull } from './support/cli-outcomes.js'

const THIS = fileURLToPath(import.meta.url)
const GOLDEN = path.join(path.dirname(THIS), 'golden')

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name)
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, actual)
  else if (!fs.existsSync(file)) throw new Error(`golden file ${name} is missing: run UPDATE_GOLDEN=1 npm test -- ${path.basename(THIS)}`)
  expect(actual).toBe(fs.readFileSync(file, 'utf8'))
}

/**
 * A terminal of fixed width and unbounded height, enough to check our
 * output: printable characters (wrapping at the right edge), \n, \r, SGR
 * (ignored), cursor up (CSI n A) and erase down (CSI J). Anything else is a
 * test failure: our output uses nothing else.
 */
class FakeTerminal {
  lines: string[] = ['']
  row = 0
  col = 0
  constructor(readonly width: number) {}
  write(text: string): void {
    let i = 0
    while (i < text.length) {
      const esc = /^\x1b\[(\d*)([A-Za-z])/.exec(text.slice(i))
      if (esc) {
        const n = Number(esc[1] || '1')
        if (esc[2] === 'A') this.row = Math.max(0, this.row - n)
        else if (esc[2] === 'J') {
          this.lines[this.row] = this.lines[this.row].slice(0, this.col)
          this.lines.length = this.row + 1
        } else if (esc[2] !== 'm') throw new Error(`unexpected escape ${JSON.stringify(esc[0])}`)
        i += esc[0].length
        continue
      }
      const ch = String.fromCodePoint(text.codePointAt(i)!)
      i += ch.length
      if (ch === '\n') {
        this.row++
        this.col = 0
        if (this.lines.length <= this.row) this.lines.push('')
      } else if (ch === '\r') this.col = 0
      else if (ch < ' ') throw new Error(`unexpected control ${JSON.stringify(ch)}`)
      else {
        if (this.col >= this.width) {
          this.row++
          this.col = 0
          if (this.lines.length <= this.row) this.lines.push('')
        }
        const line = this.lines[this.row].padEnd(this.col)
        this.lines[this.row] = line.slice(0, this.col) + ch + line.slice(this.col + 1)
        this.col++
      }
    }
  }
  /** What a reader sees, trailing blank line dropped. */
  screen(): string[] {
    const s = [...this.lines]
    while (s.length && s[s.length - 1] === '') s.pop()
    return s
  }
}

describe('terminalText: cluster text made harmless for a terminal', () => {
  test.each([
    ['colours', '\x1b[31mred\x1b[0m', 'red'],
    ['cursor moves and erases', 'a\x1b[2J\x1b[H\x1b[10;5Hb\x1b[1A', 'ab'],
    ['a window title (OSC 0, BEL)', 'x\x1b]0;pwned\x07y', 'xy'],
    ['a clipboard write (OSC 52, ST)', 'x\x1b]52;c;ZWNobw==\x1b\\y', 'xy'],
    ['a hyperlink (OSC 8)', '\x1b]8;;https://evil.example\x07click\x1b]8;;\x07', 'click'],
    ['a device status query that makes the terminal answer', 'x\x1b[6ny', 'xy'],
    ['8-bit CSI (C1)', 'x\x9b31my', 'x31my'],
    ['carriage return over a line (hides what came before)', 'rm -rf /\rls', 'rm -rf / ls'],
    ['backspaces and NUL', 'ab\x08\x08cd\x00', 'abcd'],
    ['bidi overrides (Trojan Source)', 'a\u202eb\u2066c', 'abc'],
    ['a lone ESC', 'a\x1bb', 'a'],
    ['tabs, to the next multiple of 8', 'a\tb', 'a       b']
  ])('%s', (_, input, out) => {
    expect(terminalText(input)).toBe(out)
  })

  test('the hostile log line keeps its words and loses every escape', () => {
    expect(terminalText(HOSTILE_LINE)).toBe('FAIL </system-out>]]><x a="1">&end')
  })
})

describe('widths', () => {
  test('wide characters take two columns, combining marks none', () => {
    expect(columns('abc')).toBe(3)
    expect(columns('日本')).toBe(4)
    expect(columns('🚀')).toBe(2)
    expect(columns('e\u0301')).toBe(1)
  })
  test('fit cuts to the width with an ellipsis, never through a wide character', () => {
    expect(fit('abcdef', 4)).toBe('abc…')
    expect(fit('abc', 3)).toBe('abc')
    expect(fit('日本語', 4)).toBe('日…')
  })
  test('wrap breaks at spaces, cuts a word longer than the line, indents what follows', () => {
    expect(wrap('one two three four', 9, '  ')).toEqual(['one two', '  three', '  four'])
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij'])
    expect(wrap('', 10)).toEqual([''])
  })
  test('chunks keep a log line’s spaces', () => {
    expect(chunks('a  b  c', 3)).toEqual(['a  ', 'b  ', 'c'])
  })
})

describe('while waiting', () => {
  const report = severalFailed().jobs!.find((j) => j.name === 'smoke')!

  test('a status line: state, Job, elapsed, pods per phase, what it waits for', () => {
    expect(phaseCounts(podsOf(report.snapshot))).toBe('2 Failed')
    expect(phaseCounts(listIndex([]))).toBe('no pods')
    const waiting = statusText(
      { name: 'smoke', namespace: 'prod', snapshot: report.snapshot, verdict: { state: 'waiting', message: '0 active, 0 succeeded' } },
      'condition Complete',
      12_000
    )
    expect(waiting).toBe('… prod/smoke [12s] 2 Failed; condition Complete: 0 active, 0 succeeded')
    const failed = statusText(
      { name: 'smoke', namespace: 'prod', snapshot: report.snapshot, verdict: report.verdict },
      'condition Complete',
      23_000
    )
    expect(failed).toMatch(/^✗ prod\/smoke \[23s\] 2 Failed; job prod\/smoke failed: BackoffLimitExceeded/)
  })

  test('a frame reads the reducer’s counts, not the pods: none is read at 10,000 pods', () => {
    const phases: PodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed']
    const pods: PodInfo[] = Array.from({ length: 10_000 }, (_, i) => ({
      name: `big-${i}`,
      uid: `pod-${i}`,
      phase: phases[i % 4],
      ownerUid: 'uid-big',
      ready: false,
      restarts: 0,
      containers: [],
      ...(i % 1000 === 1 ? { deletionTimestamp: '2026-12-01T10:00:00Z' } : {})
    }))
    const job = {
      ...{ name: 'big', namespace: 'ci', uid: 'uid-big', suspend: false, conditions: [] },
      ...{ active: 0, ready: 0, succeeded: 0, failed: 0, terminating: 0 }
    }
    let s = apply(initialState('ci', ['big']), { type: 'jobs-listed', jobs: [job] })
    s = apply(s, { type: 'pods-listed', uids: ['uid-big'], pods, observedAt: '2026-12-01T10:00:00Z' })
    const snapshot = snapshotOf(s, 'big')
    // The list of pods is built when read: a frame that reads it goes over every pod.
    let read = 0
    const list = snapshot.pods
    Object.defineProperty(snapshot, 'pods', {
      get: () => {
        read++
        return list
      }
    })
    const line = statusText({ name: 'big', snapshot, verdict: { state: 'waiting', message: '…' } }, 'phase Succeeded', 12_000)
    expect(line).toBe('… big [12s] 2500 Pending, 2490 Running, 2500 Succeeded, 2500 Failed, 10 Terminating; phase Succeeded: …')
    expect(read).toBe(0)
  })

  test('a log line: the pod’s prefix in its colour, the text cleaned', () => {
    const colour = podColour('smoke-r2d9v')
    expect(podColour('smoke-r2d9v')).toBe(colour)
    expect(logLine('smoke-r2d9v', 'main', HOSTILE_LINE, paint(false))).toBe('smoke-r2d9v/main | FAIL </system-out>]]><x a="1">&end')
    const coloured = logLine('smoke-r2d9v', 'main', 'hello', paint(true))
    expect(coloured).toMatch(/^\x1b\[3\dmsmoke-r2d9v\/main \|\x1b\[0m hello$/)
  })

  test('on a TTY: the status block redraws in place under the logs, whatever the width, and leaves no trace at the end', () => {
    const term = new FakeTerminal(40)
    const p = paint(true)
    let live: Live = { drawn: 0 }
    const frame = (status: string[], logs: string[]) => {
      const f = liveFrame(live, status, logs, term.width, p)
      live = f.live
      term.write(f.out)
    }
    term.write('$ kube-job-wait -l suite=e2e\n')
    frame(['… prod/a [1.0s] 1 Pending; condition Complete: starting', '… prod/b [1.0s] no pods; condition Complete: starting'], [])
    expect(term.screen()).toEqual([
      '$ kube-job-wait -l suite=e2e',
      '… prod/a [1.0s] 1 Pending; condition C…',
      '… prod/b [1.0s] no pods; condition Com…'
    ])
    // A log line longer than the width wraps, and scrolls up with the others.
    frame(
      ['… prod/a [2.0s] 1 Running; condition Complete', '… prod/b [2.0s] 1 Pending; condition Complete'],
      [logLine('a-1', 'main', 'migrating 12 tables, this line is long enough to wrap', p), logLine('a-1', 'main', 'done', p)]
    )
    frame(['✓ prod/a [3.0s] 1 Succeeded; met', '… prod/b [3.0s] 1 Running; condition Complete'], [logLine('b-1', 'main', 'start', p)])
    expect(term.screen()).toEqual([
      '$ kube-job-wait -l suite=e2e',
      'a-1/main | migrating 12 tables, this lin',
      'e is long enough to wrap',
      'a-1/main | done',
      'b-1/main | start',
      '✓ prod/a [3.0s] 1 Succeeded; met',
      '… prod/b [3.0s] 1 Running; condition C…'
    ])
    term.write(liveEnd(live))
    term.write('✓ 2 jobs in prod: met after 3.0s\n')
    expect(term.screen().slice(-2)).toEqual(['b-1/main | start', '✓ 2 jobs in prod: met after 3.0s'])
  })

  test('on a TTY without colour: no SGR, still the cursor moves', () => {
    const f = liveFrame({ drawn: 2 }, ['✗ prod/a [1.0s] 1 Failed; failed'], [], 80, paint(false))
    expect(f.out).toBe('\x1b[2A\r\x1b[J✗ prod/a [1.0s] 1 Failed; failed\n')
    expect(f.live).toEqual({ drawn: 1 })
  })

  test('not on a TTY: a line per change, the elapsed time alone is no change, no escape code', () => {
    let last: string[] = []
    const step = (status: string[], logs: string[] = []) => {
      const r = plainLines(last, status, logs)
      last = r.last
      return r.out
    }
    expect(step(['… prod/a [1.0s] 1 Pending; starting'])).toBe('… prod/a [1.0s] 1 Pending; starting\n')
    expect(step(['… prod/a [2.0s] 1 Pending; starting'])).toBe('')
    expect(step(['… prod/a [3.0s] 1 Running; 1 active'], [logLine('a-1', 'main', '\x1b[32mok\x1b[0m', paint(false))])).toBe(
      'a-1/main | ok\n… prod/a [3.0s] 1 Running; 1 active\n'
    )
    expect(step(['✓ prod/a [4.0s] 1 Succeeded; met'])).not.toMatch(/\x1b/)
  })
})

describe('the final report', () => {
  const width80 = (text: string) => {
    for (const line of text.split('\n')) expect({ line, columns: columns(line) <= 80 }).toEqual({ line, columns: true })
  }

  test('three Jobs, one failed (golden, no colour)', () => {
    const text = textReport(severalFailed(), { color: false, now: NOW })
    golden('several-failed.txt', text)
    width80(text)
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/)
  })

  test('a pod stuck pulling, logs not readable (golden)', () => {
    const text = textReport(stuckPull(), { color: false, now: NOW })
    golden('stuck-pull.txt', text)
    width80(text)
  })

  test('met (golden)', () => {
    golden('met.txt', textReport(met(), { color: false, now: NOW }))
  })

  test('with colour: the verdict and the icons styled, nothing else changed', () => {
    const plain = textReport(severalFailed(), { color: true, now: NOW })
    expect(plain.split('\n')[0]).toBe('\x1b[31m\x1b[1m✗ 3 jobs in prod: failed after 23s\x1b[0m\x1b[0m')
    expect(plain.replace(/\x1b\[\d+m/g, '')).toBe(textReport(severalFailed(), { color: false, now: NOW }))
  })

  test('narrower terminals: every line fits', () => {
    for (const width of [40, 60]) {
      const text = textReport(severalFailed(), { color: false, now: NOW, width })
      for (const line of text.split('\n')) expect(columns(line)).toBeLessThanOrEqual(width)
    }
  })

  test('a long unbroken log line is cut into pieces beside the gutter, not lost', () => {
    const o = severalFailed()
    const ev = o.jobs!.find((j) => j.name === 'smoke')!.diagnosis!.evidence[0]
    ev.log!.lines = ['x'.repeat(200)]
    const text = textReport(o, { color: false, now: NOW })
    const pieces = text.split('\n').filter((l) => l.startsWith('  │ x'))
    expect(pieces.join('').replace(/ {2}│ /g, '')).toBe('x'.repeat(200))
  })
})
