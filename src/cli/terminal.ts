// The CLI's terminal reporter, as pure functions from what is known to the
// text to write: the live status lines (one per Job) and the streamed log
// lines while waiting, and the final report. On a TTY the status lines sit
// in a block under the logs and are redrawn in place (cursor up, erase
// down), so that logs scroll into the terminal's history above them, as
// docker compose and buildx draw theirs; elsewhere (CI logs) each change is
// one plain line. Cluster text reaches the terminal only through
// terminalText: a pod must not move the cursor, retitle the window, write
// the clipboard (OSC 52) or colour our lines.
import { formatDuration } from '../duration.js'
import { causeTitle, type CauseGroup } from '../decide/explain.js'
import type { Verdict } from '../decide/verdict.js'
import type { Diagnosis } from '../diagnose/collect.js'
import type { PodIndex, PodInfo, Snapshot } from '../model.js'
import { ALL_PHASES, listIndex, phasesClasses, podsOf } from '../pod-table.js'
import { targetText, type Outcome } from '../report/outcome.js'
import { jobName, podRow, sortedPods } from '../report/render.js'
import { podTimes } from '../report/summary.js'
import { stripControls } from '../text/gate.js'

// ---------------------------------------------------------------- untrusted text

/**
 * Cluster text for a terminal, one line: every escape sequence (colours too:
 * a pod's colour would run on into our own text), every control, bidi
 * override and line separator removed (gate.stripControls), tabs expanded to
 * spaces so that widths can be counted.
 */
export function terminalText(text: string): string {
  const line = stripControls(text.replace(/\r\n|[\r\n]/g, ' '))
  let out = ''
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (columns(out) % 8)) : ch
  return out
}

/** Columns a character takes: 0 for combining marks and zero-width ones, 2 for East Asian wide ones and emoji. */
function charColumns(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f) return 0
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2
  return 1
}

/** The columns plain text (no escape sequence) takes on a terminal. */
export function columns(text: string): number {
  let n = 0
  for (const ch of text) n += charColumns(ch.codePointAt(0)!)
  return n
}

/** Plain text cut to at most `width` columns, "…" saying something was cut. */
export function fit(text: string, width: number): string {
  if (columns(text) <= width) return text
  let out = ''
  let n = 0
  for (const ch of text) {
    const w = charColumns(ch.codePointAt(0)!)
    if (n + w > width - 1) break
    out += ch
    n += w
  }
  return `${out}…`
}

/**
 * Plain text broken into lines of at most `width` columns, at spaces when it
 * can (a word longer than a line is cut); the text's own leading spaces start
 * the first line, `indent` every line after it.
 */
export function wrap(text: string, width: number, indent = ''): string[] {
  const lead = /^ */.exec(text)![0]
  const lines: string[] = []
  let line = lead
  let empty = true
  const push = () => {
    lines.push(line.trimEnd())
    line = indent
    empty = true
  }
  for (const word of text.slice(lead.length).split(/ +/)) {
    if (word === '') continue
    const sep = empty ? '' : ' '
    if (columns(line + sep + word) <= width) {
      line += sep + word
      empty = false
      continue
    }
    if (!empty) push()
    let rest = word
    while (columns(line + rest) > width) {
      let piece = ''
      for (const ch of rest) {
        if (columns(line + piece + ch) > width) break
        piece += ch
      }
      if (piece === '') break
      line += piece
      empty = false
      rest = rest.slice(piece.length)
      push()
    }
    if (rest) {
      line += rest
      empty = false
    }
  }
  if (!empty || lines.length === 0) lines.push(line.trimEnd())
  return lines
}

/** Plain text cut into pieces of at most `width` columns, spaces kept (log lines: their layout is theirs). */
export function chunks(text: string, width: number): string[] {
  const out: string[] = []
  let piece = ''
  for (const ch of text) {
    if (piece && columns(piece + ch) > width) {
      out.push(piece)
      piece = ''
    }
    piece += ch
  }
  out.push(piece)
  return out
}

/** A prefix, then the text wrapped beside it; lines after the first start with `cont` (spaces as wide as the prefix by default). */
export function hanging(prefix: string, text: string, width: number, opts: { cont?: string; keepSpaces?: boolean } = {}): string[] {
  const cont = opts.cont ?? ' '.repeat(columns(prefix))
  const room = Math.max(8, width - Math.max(columns(prefix), columns(cont)))
  const body = opts.keepSpaces ? chunks(text, room) : wrap(text, room)
  return body.map((l, i) => `${i === 0 ? prefix : cont}${l}`.trimEnd())
}

// ---------------------------------------------------------------- colour

const SGR = { reset: 0, bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36 } as const
export type Style = keyof typeof SGR

export type Paint = (style: Style, text: string) => string
export const paint =
  (color: boolean): Paint =>
  (style, text) =>
    color && text ? `\x1b[${SGR[style]}m${text}\x1b[0m` : text

const POD_COLOURS: Style[] = ['cyan', 'yellow', 'green', 'magenta', 'blue']

/** A pod's prefix colour: fixed for its name, so that a pod keeps its colour across redraws and runs. */
export function podColour(name: string): Style {
  let h = 0
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) >>> 0
  return POD_COLOURS[h % POD_COLOURS.length]
}

const STATE_STYLE: Record<string, Style> = {
  met: 'green',
  failed: 'red',
  timeout: 'yellow',
  cancelled: 'magenta',
  error: 'red',
  waiting: 'blue'
}
const STATE_ICON: Record<string, string> = { met: '✓', failed: '✗', timeout: '⏱', cancelled: '⊘', error: '!', waiting: '…' }

// ---------------------------------------------------------------- while waiting

const NO_PODS = listIndex([])

export interface JobProgress {
  name: string
  namespace?: string
  verdict?: Pick<Verdict, 'state' | 'message'>
  snapshot?: Snapshot
}

const TERMINATING_CLASSES = ALL_PHASES & ~phasesClasses('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown')
const COUNTED: readonly [string, number][] = [
  ['Pending', phasesClasses('Pending')],
  ['Running', phasesClasses('Running')],
  ['Succeeded', phasesClasses('Succeeded')],
  ['Failed', phasesClasses('Failed')],
  ['Terminating', TERMINATING_CLASSES],
  ['Unknown', phasesClasses('Unknown')]
]

/**
 * "2 Running, 1 Pending": the Job's pods per phase, in the order a pod goes
 * through them. Read from the reducer's counts: a frame costs the same at
 * 10,000 pods as at 10.
 */
export function phaseCounts(pods: PodIndex): string {
  const parts: string[] = []
  for (const [phase, classes] of COUNTED) {
    const n = pods.count(classes)
    if (n) parts.push(`${n} ${phase}`)
  }
  return parts.length ? parts.join(', ') : 'no pods'
}

/** One Job's live line: "… prod/smoke 1 Running [12s] waiting for condition Complete: 1 active, ...", plain text. */
export function statusText(j: JobProgress, waitingFor: string, elapsedMs: number): string {
  const state = j.verdict?.state ?? 'waiting'
  const name = j.namespace ? `${j.namespace}/${j.name}` : j.name
  const what = state === 'waiting' ? `${waitingFor}: ${j.verdict?.message ?? 'starting'}` : (j.verdict?.message ?? state)
  return `${STATE_ICON[state]} ${name} [${formatDuration(elapsedMs)}] ${phaseCounts(j.snapshot ? podsOf(j.snapshot) : NO_PODS)}; ${terminalText(what)}`
}

/** A streamed log line with its pod's prefix: "smoke-r2d9v/main | text". */
export function logLine(pod: string, container: string, text: string, p: Paint): string {
  return `${p(podColour(pod), `${terminalText(pod)}/${terminalText(container)} |`)} ${terminalText(text)}`
}

/** What is on the screen of a TTY between two frames: how many status lines the last frame drew. */
export interface Live {
  drawn: number
}

/**
 * One frame on a TTY: erase the status block the last frame drew, write the
 * new log lines (they scroll up as any output does), then the status lines,
 * each cut to the width so that none wraps and the block's height stays the
 * number of lines. Style is applied after cutting: escape codes take no
 * columns. Returns the text to write and what is then on the screen.
 */
export function liveFrame(
  live: Live,
  status: readonly string[],
  logLines: readonly string[],
  width: number,
  p: Paint
): { out: string; live: Live } {
  let out = live.drawn ? `\x1b[${live.drawn}A\r\x1b[J` : ''
  for (const l of logLines) out += `${l}\n`
  for (const s of status) {
    const line = fit(s, Math.max(1, width - 1))
    const state = Object.entries(STATE_ICON).find(([, icon]) => line.startsWith(`${icon} `))?.[0] ?? 'waiting'
    out += `${p(STATE_STYLE[state], line.slice(0, 1))}${line.slice(1)}\n`
  }
  return { out, live: { drawn: status.length } }
}

/** The end of the live block: the status lines erased, so that the final report follows the logs. */
export function liveEnd(live: Live): string {
  return live.drawn ? `\x1b[${live.drawn}A\r\x1b[J` : ''
}

/**
 * Not a TTY: each status line that changed since the last call, once, and
 * the log lines; no escape code. The elapsed time alone is not a change, so
 * that a quiet wait prints nothing.
 */
export function plainLines(
  last: readonly string[],
  status: readonly string[],
  logLines: readonly string[]
): { out: string; last: string[] } {
  const key = (s: string) => s.replace(/ \[[^\]]*\] /, ' ')
  let out = ''
  for (const l of logLines) out += `${l}\n`
  status.forEach((s, i) => {
    if (last[i] === undefined || key(last[i]) !== key(s)) out += `${s}\n`
  })
  return { out, last: [...status] }
}

// ---------------------------------------------------------------- the final report

export interface TextOptions {
  color: boolean
  /** columns; 80 by default */
  width?: number
  now?: number
}

const MAX_EVENTS = 8
const MAX_GROUPS = 10

/** Wrapped lines with characters [from, to) of the first styled: colour goes on after the widths are counted. */
function styled(lines: string[], from: number, to: number, style: Style, p: Paint): string[] {
  const [first, ...rest] = lines
  return [`${first.slice(0, from)}${p(style, first.slice(from, to))}${first.slice(to)}`, ...rest]
}

const event = (e: { reason: string; count: number; message: string }): string =>
  `${terminalText(e.reason)}${e.count > 1 ? ` (x${e.count})` : ''}: ${terminalText(e.message)}`

function why(problems: readonly CauseGroup[], d: Diagnosis | undefined, width: number, p: Paint): string[] {
  const out: string[] = []
  if (!problems.length && !d?.jobEvents.length && !d?.notes.length) return out
  out.push(p('bold', 'Why'))
  for (const g of problems.slice(0, MAX_GROUPS)) {
    const names = g.pods.slice(0, 5).map((x) => x.name)
    const more = g.pods.length > 5 ? ` and ${g.pods.length - 5} more` : ''
    out.push(...styled(hanging('✗ ', `${terminalText(causeTitle(g))}: ${names.join(', ')}${more}`, width), 0, 1, 'red', p))
    if (g.first.message) out.push(...hanging('  ', terminalText(g.first.message), width))
    const ev = d?.evidence.find((e) => g.pods.some((x) => x.name === e.pod))
    for (const e of (ev?.events ?? []).slice(0, MAX_EVENTS)) out.push(...hanging('  event ', event(e), width))
    if (ev?.log) {
      const which = ev.log.previous ? 'previous instance' : 'last'
      const title = `log of ${ev.pod}, container ${terminalText(ev.log.container)} (${which}, ${ev.log.lines.length} lines):`
      out.push(...hanging('  ', title, width))
      const lines = ev.log.lines.length ? ev.log.lines : ['(empty)']
      for (const l of lines) {
        for (const piece of hanging('  │ ', terminalText(l), width, { cont: '  │ ', keepSpaces: true })) {
          out.push(...styled([piece], 2, 3, 'dim', p))
        }
      }
    }
  }
  if (problems.length > MAX_GROUPS) out.push(`…and ${problems.length - MAX_GROUPS} more causes`)
  for (const e of (d?.jobEvents ?? []).slice(0, MAX_EVENTS)) out.push(...hanging('Job event ', event(e), width))
  for (const n of d?.notes ?? []) out.push(...hanging('Note: ', terminalText(n), width))
  out.push('')
  return out
}

/** The pods as a table of fixed columns; the reason takes what is left of the width, and is cut. */
function podTable(pods: readonly PodInfo[], width: number, now: number): string[] {
  if (!pods.length) return []
  const rows = pods.map((x) => {
    const r = podRow(x)
    const t = podTimes(x)
    const from = t.started ?? (x.startTime ? Date.parse(x.startTime) : undefined)
    return [
      terminalText(r.index !== undefined ? `${r.name} [${r.index}]` : r.name),
      r.phase,
      String(r.restarts),
      from === undefined ? '' : formatDuration((t.finished ?? now) - from),
      terminalText(r.reason ?? '')
    ]
  })
  const head = ['POD', 'PHASE', 'RESTARTS', 'DURATION', 'REASON']
  const all = [head, ...rows]
  const w = head.map((_, i) => Math.max(...all.map((r) => columns(r[i]))))
  // The pod name takes at most half the width; the reason what is left.
  w[0] = Math.min(w[0], Math.floor(width / 2))
  const line = (r: string[]) => {
    const cells = r.slice(0, 4).map((c, i) => {
      const f = fit(c, w[i])
      return f + ' '.repeat(w[i] - columns(f))
    })
    const used = 2 + cells.reduce((n, c) => n + columns(c) + 2, 0)
    // Narrower than the fixed columns: the row is cut, as kubectl's would be by the terminal.
    return fit(`  ${cells.join('  ')}  ${fit(r[4], Math.max(8, width - used))}`.trimEnd(), width)
  }
  return [`Pods (${pods.length})`, ...all.map(line), '']
}

interface JobPart {
  name: string
  verdict?: Verdict
  snapshot?: Snapshot
  diagnosis?: Diagnosis
}

function jobDetails(o: Outcome, j: JobPart, width: number, now: number, p: Paint): string[] {
  const out: string[] = []
  const state = j.verdict?.state ?? o.result
  if (state === 'failed' || state === 'timeout') out.push(...why(j.verdict?.problems ?? [], j.diagnosis, width, p))
  out.push(...podTable(sortedPods(j.snapshot), width, now))
  const job = j.snapshot?.job
  if (job) {
    const deleted = j.snapshot?.jobDeleted ? ' (deleted)' : ''
    const counts = `${job.active} active, ${job.ready} ready, ${job.succeeded} succeeded, ${job.failed} failed${deleted}`
    out.push(...hanging('Job ', `${terminalText(`${job.namespace}/${job.name}`)}: ${counts}`, width))
    for (const c of job.conditions) {
      const text = `${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`
      out.push(...hanging('  ', terminalText(text), width, { cont: '    ' }))
    }
    out.push('')
  }
  return out
}

/** The final report, for a terminal or a CI log: the verdict, why, the pods; no line wider than `width` columns. */
export function textReport(o: Outcome, opts: TextOptions): string {
  const width = opts.width ?? 80
  const now = opts.now ?? Date.now()
  const p = paint(opts.color)
  const out: string[] = []
  const who = o.jobs ? `${o.jobs.length} jobs${o.namespace ? ` in ${o.namespace}` : ''}` : o.job ? `job ${jobName(o)}` : 'kube-job-wait'
  out.push(
    p(
      STATE_STYLE[o.result],
      p('bold', fit(terminalText(`${STATE_ICON[o.result]} ${who}: ${o.result} after ${formatDuration(o.elapsedMs)}`), width))
    )
  )
  out.push(...wrap(`Waited for ${targetText(o.target)}${o.jobs ? ' of each' : ''}. ${terminalText(o.message)}`, width), '')
  for (const n of (o.jobs ? o.notes : o.verdict?.notes) ?? []) {
    out.push(...styled(hanging('! ', `${terminalText(n.title)}: ${terminalText(n.message)}`, width), 0, 1, 'yellow', p), '')
  }
  if (o.jobs) {
    const w = Math.min(Math.max(...o.jobs.map((j) => columns(j.name))), 30)
    for (const j of o.jobs) {
      const s = j.verdict.state
      const name = fit(j.name, w)
      const prefix = `  ${STATE_ICON[s]} ${name}${' '.repeat(w - columns(name))}  `
      out.push(...styled(hanging(prefix, terminalText(j.verdict.message), width), 2, 3, STATE_STYLE[s], p))
    }
    out.push('')
    for (const j of o.jobs) {
      if (j.verdict.state === 'met') continue
      const title = ` job ${o.namespace ? `${o.namespace}/` : ''}${j.name}: ${j.verdict.state} `
      out.push(p(STATE_STYLE[j.verdict.state], fit(`──${title}${'─'.repeat(Math.max(2, width - columns(title) - 2))}`, width)), '')
      out.push(...jobDetails(o, j, width, now, p))
    }
  } else {
    out.push(...jobDetails(o, { name: o.job ?? '', verdict: o.verdict, snapshot: o.snapshot, diagnosis: o.diagnosis }, width, now, p))
  }
  if (o.deleted?.length) out.push(...hanging('Deleted: ', o.deleted.join(', '), width), '')
  while (out.length && out[out.length - 1] === '') out.pop()
  return `${out.join('\n')}\n`
}
