// Resuming a followed container log without losing or repeating a line.
//
// The stream is read with timestamps=true: the kubelet prefixes each line
// with its RFC3339Nano time ("2026-11-30T12:00:00.500000000Z text"). When the
// stream breaks (API server restart, connection reset, an idle timeout: pods/
// log has none of its own), we ask again with sinceTime = the second of the
// last line printed. sinceTime is a metav1.Time, whole seconds, so the new
// stream repeats that second; and timestamps can repeat (lines read in one go
// share one). So the position of a line is (timestamp, its place among the
// lines with that same timestamp), and a resumed stream drops every line up
// to the last position printed.
//
// Pure: no I/O, no clock. The caller reads the stream, decodes it with a
// streaming TextDecoder, feeds the text to a LineSplitter and each line to
// LogResume.accept; on a break it calls splitter.discard() and
// resume.reconnect() and asks again with resume.sinceTime().
//
// Limits, by design:
// - A line without a timestamp prefix is shown as it is, not deduplicated,
//   and does not move the position (the kubelet always sends one with
//   timestamps=true).
// - Do not ask with tailLines: places among equal timestamps are counted from
//   where a stream starts, and a tail can start inside a group.
// - If the node's clock steps back, lines of the replayed second that are
//   older than the last one printed can be shown twice or dropped.
// - Lines are cut at MAX_LINE_CHARS (below).

/** Lines longer than this (in UTF-16 code units, after the timestamp) are cut.
 * The kubelet stores a line over 16 KiB as pieces and, with timestamps, puts
 * a timestamp before each piece: inside the line. 4,096 code units are at
 * most 12,288 bytes of UTF-8, so what we show always lies in the first piece
 * and never holds one of those inner timestamps. */
export const MAX_LINE_CHARS = 4096

const PREFIX = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) /
/** Longest prefix: 2026-11-30T12:00:00.123456789+01:00 and a space. */
const MAX_PREFIX = 36

export interface TimedLine {
  /** nanoseconds since the epoch; undefined when the line had no prefix */
  ns?: bigint
  /** the line without its timestamp prefix */
  text: string
}

/** Splits a kubelet line into its timestamp and its text. */
export function parseLine(line: string): TimedLine {
  const m = PREFIX.exec(line)
  if (!m) return { text: line }
  const seconds = Date.parse(`${m[1]}${m[3]}`)
  if (Number.isNaN(seconds)) return { text: line }
  const ns = BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
  return { ns, text: line.slice(m[0].length) }
}

/** The sinceTime that repeats the second of ns: RFC3339, whole seconds, UTC. */
export function sinceTimeOf(ns: bigint): string {
  const ms = Number((ns / 1_000_000_000n) * 1000n)
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Cuts a line at MAX_LINE_CHARS, never inside a surrogate pair, and says so. */
export function cutLine(text: string, max = MAX_LINE_CHARS): string {
  if (text.length <= max) return text
  let end = max
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end-- // a high surrogate: keep the pair whole or not at all
  return `${text.slice(0, end)} … [line cut at ${max} characters]`
}

/** Where a container's log has been printed up to, across reconnects. */
export class LogResume {
  /** the last line printed: its timestamp, and how many lines with that
   * timestamp have been printed */
  #lastNs: bigint | undefined
  #lastCount = 0
  /** in the current stream: the timestamp of the line before, and how many
   * lines with it this stream has had */
  #streamNs: bigint | undefined
  #streamCount = 0
  /** the current stream is still going over what was printed */
  #replaying = false

  /** What to ask the next stream for: undefined for the whole log. */
  sinceTime(): string | undefined {
    return this.#lastNs === undefined ? undefined : sinceTimeOf(this.#lastNs)
  }

  /** The last position printed, for a message or a test. */
  get position(): { ns: bigint; count: number } | undefined {
    return this.#lastNs === undefined ? undefined : { ns: this.#lastNs, count: this.#lastCount }
  }

  /** A new stream starts (with sinceTime()): what it repeats is dropped. */
  reconnect(): void {
    this.#streamNs = undefined
    this.#streamCount = 0
    this.#replaying = this.#lastNs !== undefined
  }

  /**
   * Whether the first line of a resumed stream is a replay of what was
   * printed: sinceTime repeats the second of the last line printed, so the
   * same log starts at or before it. A first line after it belongs to another
   * log (a newer instance of the container, served as current by a kubelet
   * ahead of the pod's status). undefined: nothing printed yet, or a line
   * without a timestamp.
   */
  replays(line: string): boolean | undefined {
    const { ns } = parseLine(line)
    if (ns === undefined || this.#lastNs === undefined) return undefined
    return ns <= this.#lastNs
  }

  /** One line of the stream (without its newline): the text to show, cut
   * at MAX_LINE_CHARS, or undefined when it was printed before. */
  accept(line: string): string | undefined {
    const { ns, text } = parseLine(line)
    if (ns === undefined) return cutLine(text)
    if (ns === this.#streamNs) this.#streamCount++
    else {
      this.#streamNs = ns
      this.#streamCount = 1
    }
    if (this.#replaying && this.#lastNs !== undefined) {
      if (ns < this.#lastNs) return undefined
      if (ns === this.#lastNs && this.#streamCount <= this.#lastCount) return undefined
    }
    this.#replaying = false
    this.#lastNs = ns
    this.#lastCount = this.#streamCount
    return cutLine(text)
  }
}

/**
 * Text of a stream in, whole lines out, in bounded memory: of a line longer
 * than the cut, only what can be shown is kept (the rest is counted, not
 * stored), so one endless line cannot fill the memory.
 */
export class LineSplitter {
  readonly keep: number
  #partial = ''
  #over = false

  constructor(keep = MAX_PREFIX + MAX_LINE_CHARS + 1) {
    this.keep = keep
  }

  /** The lines this chunk completes (without their newlines). */
  push(chunk: string): string[] {
    const lines: string[] = []
    let from = 0
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
      lines.push(this.#take(chunk.slice(from, nl)))
      this.#partial = ''
      this.#over = false
      from = nl + 1
    }
    this.#take(chunk.slice(from))
    return lines
  }

  /** The stream ended cleanly: the last line, if it had no newline. */
  end(): string | undefined {
    const rest = this.#partial
    this.#partial = ''
    this.#over = false
    return rest === '' ? undefined : rest
  }

  /** The stream broke: the unfinished line is dropped, to come again whole
   * from the resumed stream (printing it now would count it as printed). */
  discard(): void {
    this.#partial = ''
    this.#over = false
  }

  #take(piece: string): string {
    if (!this.#over) {
      this.#partial += piece
      if (this.#partial.length > this.keep) {
        this.#partial = this.#partial.slice(0, this.keep)
        this.#over = true
      }
    }
    return this.#partial
  }
}
