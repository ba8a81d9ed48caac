// One gate for cluster text. Log lines, termination messages, event and
// condition messages come from the cluster and are untrusted: a pod can print
// anything. Every such text passes through one of these functions on its way
// to the step's log, an annotation, or markdown (job summary, PR comment).
//
// How the runner reads our stdout (actions/runner, src/Runner.Worker/
// ActionCommandManager.cs, src/Runner.Common/ActionCommand.cs,
// src/Runner.Worker/Handlers/OutputManager.cs, src/Runner.Sdk/ProcessInvoker.cs):
// - stdout and stderr are read line by line with .NET's ReadLine, which ends a
//   line at "\n", "\r\n" and also a lone "\r": a lone CR starts a new line.
// - A line is a command when, after leading whitespace, it starts with "::"
//   (`::name props::data`), or else when it holds "##[" anywhere
//   (`##[name props]data`, the legacy form), and the name is a known command.
// - `::stop-commands::TOKEN` (or `##[stop-commands]TOKEN`) stops both forms:
//   the stop check runs after either parse, and until a command named TOKEN
//   (`::TOKEN::` or `##[TOKEN]`) comes every other command is printed as text.
//   The runner refuses an empty token or one that names a command, and adds
//   tokens longer than 6 characters to its secret masker.
// - A line printed as text can still hold "##[group]", "##[error]" and so on,
//   which are the runner's own formatting markers in the log it uploads (it
//   writes `##[group]...` itself when it processes ::group::, and recent
//   versions rewrite `##[start-action` in user output for that reason). So
//   untrusted lines get "##[" rewritten as "##[\" too: inert as a command
//   and as a marker, still readable.
//   A zero-width character between the two "#" would not do: the runner
//   searches with culture-sensitive IndexOf/StartsWith (ICU), which ignores
//   zero-width characters.
// - Problem matchers added by earlier steps (setup-node's tsc and eslint
//   matchers, for one) run on every line printed as text, inside the block
//   too, after the runner strips colour codes: a pod can still make an
//   annotation through one. The gate cannot know them: README must say so.
import { randomBytes } from 'node:crypto'

// ---------------------------------------------------------------- control characters

/** Escape sequences: CSI (ESC [ params intermediates final), the string
 * sequences OSC/DCS/SOS/PM/APC up to BEL or ST, nF (ESC, intermediates,
 * final), two-character ones, and a lone ESC. An unterminated sequence loses
 * only its introducer: what follows stays visible as text. */
const ESCAPE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]+[0-~]|[0-~])?/g
/** Select Graphic Rendition only: colours and bold, nothing that moves the
 * cursor, clears, or talks back to the terminal. */
const SGR = /^\x1b\[[0-9;:]*m$/
/** C0 except tab, DEL, C1 (8-bit CSI 0x9B among them); bidirectional
 * controls (they reorder what is shown: CVE-2021-42574, "Trojan Source"); the
 * Unicode line and paragraph separators. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g
/** One pass, so that the ESC of a kept colour code is not removed after. */
const UNWANTED = new RegExp(`${ESCAPE.source}|${CONTROL.source}`, 'g')

/** Removes every control character from one line but tab, and every escape
 * sequence, except colour codes (SGR) when `keepColour`. */
export function stripControls(line: string, keepColour = false): string {
  return line.replace(UNWANTED, (seq) => (keepColour && SGR.test(seq) ? seq : ''))
}

/** The lines of a text as the runner would see them, with "\r\n" and "\n" as
 * line ends; a lone "\r" is removed (it would start a new line in the runner). */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/)
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

// ---------------------------------------------------------------- to the log

/** One untrusted line, ready for the step's log: controls gone but colour,
 * "##[" made inert (after stripping, so that "#\0#[" cannot become "##["). */
export function logLine(line: string): string {
  return stripControls(line, true).replaceAll('##[', '##[\\')
}

/** An unguessable stop-commands token: 128 random bits in hex. Hex is never a
 * command name, and 32 characters are enough for the runner to mask it. */
export function newStopToken(): string {
  return randomBytes(16).toString('hex')
}

/**
 * The one writer of the step's log while cluster text may be in it.
 *
 * Untrusted lines go inside a `::stop-commands::TOKEN` block, opened when
 * needed; our own commands go outside it (`own` closes the block first). The
 * token is made once per run and reused for every block: the runner masks
 * each token it is given, so one token keeps the masker small.
 *
 * Rules for its user: write untrusted text to stdout only through this
 * (never stderr: the runner reads stdout and stderr in separate tasks, so a
 * block on stdout does not order stderr lines); call `close()` before the
 * process ends; and make every @actions/core call that prints (info, debug,
 * warning, error, setFailed, group) inside `own(fn)`, synchronously.
 *
 * Cost: the runner echoes both markers, masked (`::stop-commands::***` and
 * `::***::`), so each block adds two lines to the log. Lines that are not
 * commands (progress, with pod names and reasons in them) can go through
 * untrusted() as well, so that only real commands (::group::, ::error::,
 * ::debug::...) end a block.
 */
export class LogGate {
  readonly token: string
  #write: (text: string) => void
  #open = false

  /** write: gets whole lines, each ending in "\n", one call for each call
   * of untrusted() (one write to stdout for many lines) or close(). */
  constructor(write: (text: string) => void = (text) => process.stdout.write(text), token: string = newStopToken()) {
    if (!/^[0-9a-f]{16,}$/i.test(token)) throw new Error('a stop-commands token must be at least 16 hex digits')
    this.#write = write
    this.token = token
  }

  get isOpen(): boolean {
    return this.#open
  }

  /** Writes cluster text, each line cleaned (see logLine), inside the block.
   * A string is split into lines; so is every element of an array. */
  untrusted(text: string | readonly string[]): void {
    const lines = (typeof text === 'string' ? [text] : text).flatMap(splitLines)
    if (lines.length === 0) return
    let out = ''
    if (!this.#open) {
      out = `::stop-commands::${this.token}\n`
      this.#open = true
    }
    for (const line of lines) out += `${logLine(line)}\n`
    this.#write(out)
  }

  /** Ends the block, if open, so that what follows can be a command. */
  close(): void {
    if (!this.#open) return
    this.#write(`::${this.token}::\n`)
    this.#open = false
  }

  /** Runs fn outside the block: for the action's own commands. fn must write
   * synchronously: an untrusted write after it returns opens the block again. */
  own<T>(fn: () => T): T {
    this.close()
    return fn()
  }
}

// ---------------------------------------------------------------- to annotations

/** Escaping of a command's data, as @actions/core does it. */
export function escapeData(s: string): string {
  return s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

/** Escaping of a command's property value, as @actions/core does it. */
export function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

/** One piece of cluster text as one line for an annotation: the first
 * non-blank line, controls (colour too) gone, cut at max characters; " …"
 * says something was left out. Not escaped: @actions/core's error/warning/
 * notice escape it, and `annotation()` below does. */
export function oneLine(text: string, max = 1000): string {
  const lines = splitLines(text).map((l) => stripControls(l).trim())
  const i = lines.findIndex((l) => l !== '')
  if (i < 0) return ''
  const more = lines.slice(i + 1).some((l) => l !== '')
  const first = lines[i]!
  if (first.length > max) return `${first.slice(0, max)} …`
  return more ? `${first} …` : first
}

export interface AnnotationProps {
  title?: string
  file?: string
  line?: number
  endLine?: number
  col?: number
  endColumn?: number
}

/** The whole `::error title=...::message` command, escaped as @actions/core
 * escapes it; the title is cut to one line. The message may hold several
 * lines of our own (each cluster piece in it should come from oneLine).
 * Write it with `gate.own(() => write(annotation(...)))`. */
export function annotation(level: 'notice' | 'warning' | 'error', message: string, props: AnnotationProps = {}): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === '') continue
    const v = key === 'title' ? oneLine(String(value), 200) : String(value)
    parts.push(`${key}=${escapeProperty(v)}`)
  }
  const cleaned = splitLines(message)
    .map((l) => stripControls(l))
    .join('\n')
  return `::${level}${parts.length ? ` ${parts.join(',')}` : ''}::${escapeData(cleaned)}`
}

// ---------------------------------------------------------------- to markdown

/** A ZERO WIDTH JOINER after "@" and "#" keeps "@user" from notifying and
 * "#123" / "owner/repo#123" from linking; it is invisible on the page. (An
 * HTML entity would not do: GitHub finds mentions in the rendered text.) */
const ZWJ = '\u200d'

/** Cluster text as inline markdown (prose, a list item, a table cell): one
 * line, controls and colour gone, HTML inert (& < > as entities), markdown
 * punctuation backslash-escaped, mentions and references not live. */
export function markdownInline(text: string, max = 1000): string {
  return oneLine(text, max)
    .replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
    .replace(/[\\`*_[\]{}()~|!]/g, '\\$&')
    .replace(/[@#]/g, `$&${ZWJ}`)
}

/** The same for a table cell: `|` is escaped by markdownInline already, and
 * an empty cell is shown as a dash rather than collapsing. */
export function markdownCell(text: string, max = 200): string {
  return markdownInline(text, max) || '-'
}

/** Cluster text as a fenced code block: the fence is one backtick longer
 * than the longest run of backticks in the text (at least three), so nothing
 * inside can close it; inside a code block HTML, mentions and references are
 * not live. Every escape sequence, colour included, and control is removed. */
export function markdownCodeBlock(text: string | readonly string[], info = 'text'): string {
  const lines = (typeof text === 'string' ? [text] : text).flatMap(splitLines).map((l) => stripControls(l))
  const longest = Math.max(
    0,
    ...(lines
      .join('\n')
      .match(/`+/g)
      ?.map((run) => run.length) ?? [])
  )
  const fence = '`'.repeat(Math.max(3, longest + 1))
  return [`${fence}${info}`, ...lines, fence].join('\n')
}
