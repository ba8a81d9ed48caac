// Pure part of the simulator's container logs: what one container instance
// writes and when, kept as a kubelet keeps it (CRI log records, each with its
// own nanosecond timestamp, lines over 16 KiB split into partial records), and
// what a pods/log request gets back, read the way the kubelet reads its file
// (kubernetes pkg/kubelet/kuberuntime/logs/logs.go): tailLines first, counted
// in records, then sinceTime, then limitBytes, with RFC3339Nano timestamps of
// fixed width; `follow` streams new records and, after the container ends,
// stops at the end of the file within about a second.
//
// No I/O and no clock of its own: every function takes the time it should act
// at, and serveLog (the follow loop, with timers) writes to the sink and reads
// the clock it is given. No imports either, so that jest
// (__tests__/sim-logs.test.ts) and node's type stripping (kubelet-sim.ts) both
// load it as it is.

/** containerd splits a longer line into partial records of this size. */
export const CRI_MAX_LINE = 16 * 1024
/** A follow stream ends this long after the container (the kubelet checks
 * whether the container still runs once a second when nothing is written). */
export const FOLLOW_GRACE_NS = 1_000_000_000n

/** Lines written at once, atMs after the container started; they share one
 * timestamp, as lines read in one go from a container's stdout can. */
export interface Write {
  atMs: number
  lines: string[]
}

export interface Plan {
  /** fixed writes, atMs not decreasing */
  writes: Write[]
  /** then numbered lines at a steady rate (lines per second), up to total */
  numbered?: { perSecond: number; total: number; fromMs: number; text: (n: number) => string }
}

/** The i-th write of a plan (fixed writes, then one per numbered line). */
export function writeAt(plan: Plan, i: number): Write | undefined {
  if (i < plan.writes.length) return plan.writes[i]
  const nb = plan.numbered
  const n = i - plan.writes.length + 1
  if (!nb || nb.perSecond <= 0 || n > nb.total) return undefined
  return { atMs: nb.fromMs + ((n - 1) * 1000) / nb.perSecond, lines: [nb.text(n)] }
}

/** One record of a CRI log file. */
export interface LogRecord {
  ns: bigint
  /** bytes, not text: a long line is cut at a byte count, maybe inside a character */
  data: Buffer
  /** a piece of a long line: no newline after it */
  partial: boolean
}

/** In a line: replaced by the line's own timestamp when it is written (for
 * measuring how long a line takes to reach a reader). */
export const WRITTEN_AT = '{writtenAt}'

/** The log file of one container instance, filled as time passes. */
export class ContainerLog {
  readonly startedNs: bigint
  readonly records: LogRecord[] = []
  finishedNs: bigint | undefined
  #plan: Plan
  #next = 0
  #lastNs = -1n

  constructor(plan: Plan, startedNs: bigint) {
    this.#plan = plan
    this.startedNs = startedNs
  }

  /** Appends what the container has written by nowNs. */
  advance(nowNs: bigint): void {
    if (this.finishedNs !== undefined) return
    for (;;) {
      const w = writeAt(this.#plan, this.#next)
      if (!w) return
      const at = this.startedNs + BigInt(Math.round(w.atMs * 1e6))
      if (at > nowNs) return
      this.#next++
      this.#append(at, w.lines)
    }
  }

  /** When the next planned write is due (undefined: none is left). */
  nextDueNs(): bigint | undefined {
    if (this.finishedNs !== undefined) return undefined
    const w = writeAt(this.#plan, this.#next)
    return w && this.startedNs + BigInt(Math.round(w.atMs * 1e6))
  }

  /** The container stopped at ns; `last` are the lines it printed on the way out. */
  finish(ns: bigint, last: string[] = []): void {
    if (this.finishedNs !== undefined) return
    this.advance(ns)
    this.#append(ns, last)
    this.finishedNs = ns
  }

  #append(at: bigint, lines: string[]): void {
    if (lines.length === 0) return
    // timestamps never go back, and two writes never share one
    const ns = at > this.#lastNs ? at : this.#lastNs + 1n
    this.#lastNs = ns
    for (const line of lines) {
      const bytes = Buffer.from(line.includes(WRITTEN_AT) ? line.replaceAll(WRITTEN_AT, formatTimestamp(ns)) : line)
      for (let off = CRI_MAX_LINE; off < bytes.length; off += CRI_MAX_LINE) {
        this.records.push({ ns, data: bytes.subarray(off - CRI_MAX_LINE, off), partial: true })
      }
      const rest = bytes.length === 0 ? 0 : bytes.length - ((bytes.length - 1) % CRI_MAX_LINE) - 1
      this.records.push({ ns, data: bytes.subarray(rest), partial: false })
    }
  }
}

// ---------------------------------------------------------------- requests

export interface LogQuery {
  follow: boolean
  previous: boolean
  timestamps: boolean
  tailLines?: number
  limitBytes?: number
  sinceNs?: bigint
}

/** The query of a kubelet containerLogs request, as the API server forwards
 * it: sinceTime in RFC3339 (whole seconds) or sinceSeconds. */
export function parseLogQuery(q: URLSearchParams, nowNs: bigint): LogQuery {
  const num = (k: string) => (/^\d+$/.test(q.get(k) ?? '') ? Number(q.get(k)) : undefined)
  const query: LogQuery = {
    follow: q.get('follow') === 'true',
    previous: q.get('previous') === 'true',
    timestamps: q.get('timestamps') === 'true',
    tailLines: num('tailLines'),
    limitBytes: num('limitBytes')
  }
  const seconds = num('sinceSeconds')
  if (seconds !== undefined) query.sinceNs = nowNs - BigInt(seconds) * 1_000_000_000n
  const since = q.get('sinceTime')
  if (since) {
    const ms = Date.parse(since)
    if (!Number.isNaN(ms)) {
      const ns = BigInt(ms) * 1_000_000n
      if (query.sinceNs === undefined || ns > query.sinceNs) query.sinceNs = ns
    }
  }
  return query
}

/** RFC3339 with nine digits of fraction always, as the kubelet writes it. */
export function formatTimestamp(ns: bigint): string {
  const ms = ns / 1_000_000n
  const iso = new Date(Number(ms)).toISOString() // 2026-01-02T03:04:05.678Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0')
  return `${iso.slice(0, 19)}.${frac}Z`
}

/** Parses formatTimestamp's output (or any RFC3339 time with up to nine
 * digits of fraction, in UTC) to nanoseconds. */
export function parseTimestamp(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(ts)
  if (!m) return undefined
  const s = Date.parse(`${m[1]}Z`)
  if (Number.isNaN(s)) return undefined
  return BigInt(s) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
}

const EMPTY = Buffer.alloc(0)
const NEWLINE = Buffer.from('\n')

/** One request's view of a log: call read() each time the log may have
 * grown; it returns the bytes not sent yet (nothing more once done). */
export class LogReader {
  readonly query: LogQuery
  done = false
  #next: number | undefined
  #remaining: number

  constructor(query: LogQuery) {
    this.query = query
    this.#remaining = query.limitBytes !== undefined && query.limitBytes > 0 ? query.limitBytes : Infinity
  }

  read(log: ContainerLog): Buffer {
    if (this.done) return Buffer.alloc(0)
    const q = this.query
    const records = log.records
    if (this.#next === undefined) {
      this.#next = q.tailLines !== undefined ? Math.max(0, records.length - q.tailLines) : 0
    }
    const parts: Buffer[] = []
    let i = this.#next
    for (; i < records.length && this.#remaining > 0; i++) {
      const r = records[i]!
      if (q.sinceNs !== undefined && r.ns < q.sinceNs) continue
      const prefix = q.timestamps ? `${formatTimestamp(r.ns)} ` : ''
      let bytes = Buffer.concat([Buffer.from(prefix), r.data, r.partial ? EMPTY : NEWLINE])
      if (bytes.length > this.#remaining) bytes = bytes.subarray(0, this.#remaining)
      this.#remaining -= bytes.length
      parts.push(bytes)
    }
    this.#next = i
    // without follow the kubelet reads once; limitBytes ends any read
    if (!q.follow || this.#remaining <= 0) this.done = true
    return Buffer.concat(parts)
  }

  /** Whether a follow stream is over at nowNs: the bytes ran out, or all of
   * the log was read and the container ended more than FOLLOW_GRACE_NS ago
   * (or before the request). */
  over(log: ContainerLog, nowNs: bigint, requestNs: bigint): boolean {
    if (this.done) return true
    const f = log.finishedNs
    const all = (this.#next ?? 0) >= log.records.length
    return all && f !== undefined && (f <= requestNs || nowNs >= f + FOLLOW_GRACE_NS)
  }
}

/** Where a request's bytes go: a node ServerResponse, in tests a fake. */
export interface LogSink {
  write(chunk: Buffer): unknown
  end(): unknown
  readonly destroyed: boolean
  readonly writableNeedDrain: boolean
  on(event: 'close', listener: () => void): unknown
}

/**
 * Answers one request (status line and headers already sent): what the log
 * holds; with follow, each new line when it is due (as the kubelet's fsnotify
 * would; 2 ms at the least, so that fast writers go in batches) and at least
 * every 100 ms to see the container end, until reader.over(), the pod is
 * gone, or the client leaves. A slow client gets its lines once it has
 * drained: they wait in the log, not in memory here.
 * current(): the log brought up to date (the caller's clock and container).
 */
export function serveLog(
  sink: LogSink,
  reader: LogReader,
  current: () => ContainerLog,
  gone: () => boolean,
  now: () => bigint,
  requestNs: bigint = now()
): void {
  let log = current()
  const send = (): boolean => {
    log = current()
    if (!sink.writableNeedDrain) {
      const bytes = reader.read(log)
      if (bytes.length) sink.write(bytes)
    }
    return !reader.query.follow || gone() || reader.over(log, now(), requestNs)
  }
  if (send()) {
    sink.end()
    return
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const schedule = () => {
    const due = log.nextDueNs()
    const waitMs = due === undefined ? 100 : Math.min(100, Math.max(2, Number(due - now()) / 1e6))
    timer = setTimeout(() => {
      if (sink.destroyed) return
      if (send()) sink.end()
      else schedule()
    }, waitMs)
  }
  schedule()
  sink.on('close', () => clearTimeout(timer))
}

// ---------------------------------------------------------------- what containers print

export interface LogVars {
  pod: string
  namespace: string
  container: string
  attempt: number // 1-based
  index: number | undefined
}

export interface LogSpec {
  /** `log`: the text printed at start; a line with {exitCode} and all after
   * it are printed when the container stops */
  text: string | undefined
  /** `log-script`: lines "+MS text" printed MS ms after the previous write;
   * a line without "+MS " joins the previous write (same timestamp) */
  script: string | undefined
  /** `log-rate`: numbered lines per second while running */
  rate: number
  /** `log-lines`: how many numbered lines (Infinity: until it stops) */
  lines: number
  /** `log-long-line`: bytes of one long line printed at start (0: none) */
  longLine: number
  /** `log-hostile`: lines holding workflow commands, markdown, mentions and
   * control characters, printed at start */
  hostile: boolean
  /** `log-stamp`: numbered lines end with " written TIMESTAMP", their own */
  stamp?: boolean
}

export function fill(t: string, v: LogVars, exitCode?: number): string {
  return t
    .replaceAll('{pod}', v.pod)
    .replaceAll('{namespace}', v.namespace)
    .replaceAll('{container}', v.container)
    .replaceAll('{attempt}', String(v.attempt))
    .replaceAll('{exitCode}', exitCode === undefined ? '' : String(exitCode))
    .replaceAll('{index}', v.index === undefined ? '' : String(v.index))
}

const ESC = '\x1b'
/** What a hostile or careless container prints: every way out of the log a
 * runner, a markdown page or a terminal offers. */
export const HOSTILE_LINES: readonly string[] = [
  '::add-mask::hostile-mask-word',
  '   ::error title=forged by {pod}::forged error annotation',
  '::warning file=README.md,line=1::forged warning',
  '::stop-commands::hostile-token',
  '::set-output name=result::forged-output',
  '::save-state name=state::forged-state',
  '::group::hostile group',
  '##[group]legacy group',
  'text before ##[error]legacy error in mid-line',
  '##[set-output name=result;]forged-legacy-output',
  '##[add-mask]legacy-mask-word',
  '::endgroup::',
  '</details></td></tr></table><img src=x onerror=alert(1)> <b>html</b> &amp;',
  '| table | cell | **bold** _it_ [link](https://example.invalid)',
  '```` four backticks then ``` three',
  'hello @octocat and @github/security, see #1 and octo/repo#2',
  `${ESC}[31mred${ESC}[0m ${ESC}[1mbold${ESC}[m ${ESC}[2J${ESC}[Hcleared ${ESC}]0;title\x07osc ${ESC}]8;;https://example.invalid${ESC}\\link${ESC}]8;;${ESC}\\`,
  'bidi \u202eoverride\u202c \u2066isolate\u2069 and a bell\x07 and a backspace\x08',
  'a lone CR here\r::error::after the CR'
]

/** The plan of one container instance. */
export function logPlan(spec: LogSpec, v: LogVars): Plan {
  const writes: Write[] = []
  const who = `${v.pod}/${v.container} attempt ${v.attempt}`
  if (spec.script !== undefined) {
    let at = 0
    for (const line of spec.script.replace(/\n$/, '').split('\n')) {
      const m = /^\+(\d+) (.*)$/s.exec(line)
      if (m || writes.length === 0) {
        at += m ? Number(m[1]) : 0
        writes.push({ atMs: at, lines: [] })
      }
      writes[writes.length - 1]!.lines.push(fill(m ? m[2]! : line, v))
    }
  } else {
    const first = startLines(spec.text, v, who)
    if (first.length) writes.push({ atMs: 0, lines: first })
  }
  if (spec.longLine > 0) {
    const head = `long line of ${spec.longLine} bytes from ${who}: `
    const body = head + 'x'.repeat(Math.max(0, spec.longLine - head.length - 3)) + 'END'
    writes.push({ atMs: writes.at(-1)?.atMs ?? 0, lines: [body.slice(0, Math.max(spec.longLine, 3))] })
  }
  if (spec.hostile) writes.push({ atMs: writes.at(-1)?.atMs ?? 0, lines: HOSTILE_LINES.map((l) => fill(l, v)) })
  const rate = spec.rate > 0 ? spec.rate : Number.isFinite(spec.lines) ? 10 : 0
  const fromMs = writes.at(-1)?.atMs ?? 0
  const suffix = spec.stamp ? ` written ${WRITTEN_AT}` : ''
  return rate > 0
    ? { writes, numbered: { perSecond: rate, total: spec.lines, fromMs, text: (n) => `${who} line ${n}${suffix}` } }
    : { writes }
}

function splitText(t: string): string[] {
  return t === '' ? [] : t.replace(/\n$/, '').split('\n')
}

/** The `log` text up to its first line with {exitCode}; the default: two
 * numbered lines. */
function startLines(text: string | undefined, v: LogVars, who: string): string[] {
  if (text === undefined) return [`line 1: ${who} starting`, `line 2: ${who} working`]
  const lines = splitText(text)
  const stop = lines.findIndex((l) => l.includes('{exitCode}'))
  return (stop < 0 ? lines : lines.slice(0, stop)).map((l) => fill(l, v))
}

/** What the instance prints as it stops: the rest of the `log` text (from
 * its first line with {exitCode}), the default's last line, and for an
 * instance that crashes in a loop without {attempt} in its text, which attempt
 * it was. */
export function endLines(spec: LogSpec, v: LogVars, exitCode: number, crashed: boolean): string[] {
  const who = `${v.pod}/${v.container} attempt ${v.attempt}`
  if (spec.script === undefined && spec.text === undefined) return [`line 3: ${who} exiting with code ${exitCode}`]
  const out: string[] = []
  if (spec.script === undefined && spec.text !== undefined) {
    const lines = splitText(spec.text)
    const stop = lines.findIndex((l) => l.includes('{exitCode}'))
    if (stop >= 0) out.push(...lines.slice(stop).map((l) => fill(l, v, exitCode)))
  }
  const template = spec.script ?? spec.text ?? ''
  if (crashed && !template.includes('{attempt}')) out.push(`attempt ${v.attempt}: exiting with code ${exitCode}`)
  return out
}
