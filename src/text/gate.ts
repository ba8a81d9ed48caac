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
//
// The job summary and the PR comment are GitHub-flavoured markdown, which
// GitHub renders with live HTML, @mentions, #references and autolinks. All
// markdown is a `Markdown`, and only this section makes one: cluster text
// gets in through an escaper for the place it goes (prose, table cell, code,
// HTML text, mermaid label), our own text through the `gfm` template, whose
// holes take only `Markdown` and numbers. A raw string is a type error.
// (The tags are not named `md` and `html`: Prettier would reformat the
// contents of templates with those tags as markdown and HTML.)

/** Markdown that is safe wherever a block or an inline of its kind may go. */
export type Markdown = string & { readonly __brand: 'Markdown' }
/** Text for inside an HTML block (`<summary>`), where markdown escapes do not apply. */
export type Html = string & { readonly __brand: 'Html' }
/** Text for a line of a mermaid chart. */
export type MermaidText = string & { readonly __brand: 'MermaidText' }

/** Our own fixed markdown; each hole must itself be Markdown (or a number). */
export function gfm(strings: TemplateStringsArray, ...values: readonly (Markdown | number)[]): Markdown {
  return fill(strings, values) as Markdown
}

/** Our own fixed HTML text; each hole must be Html (or a number). */
export function gfmHtml(strings: TemplateStringsArray, ...values: readonly (Html | number)[]): Html {
  return fill(strings, values) as Html
}

/** Our own fixed mermaid; each hole must be MermaidText (or a number). */
export function mermaid(strings: TemplateStringsArray, ...values: readonly (MermaidText | number)[]): MermaidText {
  return fill(strings, values) as MermaidText
}

function fill(strings: TemplateStringsArray, values: readonly (string | number)[]): string {
  // Only a template literal has a frozen strings array with `raw`: a plain array passed as one is refused.
  if (!Object.isFrozen(strings) || !Array.isArray(strings.raw)) throw new TypeError('gfm, gfmHtml and mermaid are template tags')
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += String(values[i]) + strings[i + 1]!
  return out
}

export function mdJoin(parts: readonly Markdown[], separator: Markdown = gfm``): Markdown {
  return parts.join(separator) as Markdown
}

/** Lines (or whole blocks) one after the other. */
export function mdLines(lines: readonly Markdown[]): Markdown {
  return mdJoin(lines, gfm`\n`)
}

/** A ZERO WIDTH JOINER after "@" and "#" keeps "@user" from notifying and
 * "#123" / "owner/repo#123" from linking; it is invisible on the page. (An
 * HTML entity would not do: GitHub finds mentions in the rendered text.) The
 * same joiner inside "GH-123", "://" and "www." keeps those from linking. */
const ZWJ = '\u200d'

function defuse(s: string): string {
  return s
    .replace(/[@#]/g, `$&${ZWJ}`)
    .replace(/(gh-)(?=\d)/gi, `$1${ZWJ}`)
    .replace(/:\/\//g, `:${ZWJ}//`)
    .replace(/(www)\./gi, `$1${ZWJ}.`)
}

/** Cluster text as one line: line breaks become spaces (a message is read
 * whole), controls and colour go, cut at max characters with " …". */
function flatLine(text: string | null | undefined, max: number): string {
  const line = stripControls((text ?? '').replace(/\r\n|[\r\n]/g, ' ')).trim()
  if (line.length <= max) return line
  // Not between the two halves of a surrogate pair.
  const cut = /[\ud800-\udbff]/.test(line[max - 1]!) ? max - 1 : max
  return `${line.slice(0, cut)} …`
}

const entity = (c: string): string => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;')

/** Any text, the cluster's or ours, as inline markdown (prose, a list item,
 * a quote, a heading): one line, HTML inert (& < > as entities), markdown
 * punctuation backslash-escaped, no list or break where it starts a line,
 * mentions, references and autolinks not live. Plain punctuation stays. */
export function mdText(text: string | null | undefined, max = 1000): Markdown {
  const escaped = flatLine(text, max)
    .replace(/[&<>]/g, entity)
    .replace(/[\\`*_[\]~|$]/g, '\\$&')
    // What starts a list, a setext underline or a thematic break at the start of a line.
    .replace(/^[-+=](?=[\s\-+=]|$)/, '\\$&')
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, '$1\\$2')
  return defuse(escaped) as Markdown
}

/** Text for a table cell: mdText, which escapes `|`; an empty cell stays empty. */
export function mdCell(text: string | null | undefined, max = 256): Markdown {
  return mdText(text, max)
}

/** A table; each cell must be one line, and each row has the header's cells. */
export function mdTable(head: readonly Markdown[], rows: readonly (readonly (Markdown | number)[])[]): Markdown {
  const row = (cells: readonly (Markdown | number)[]): string => {
    if (cells.length !== head.length) throw new Error(`a table row of ${cells.length} cells under a header of ${head.length}`)
    const text = cells.map(String)
    if (text.some((c) => /[\r\n]/.test(c))) throw new Error('a table cell must be one line')
    return `| ${text.join(' | ')} |`
  }
  return [row(head), row(head.map(() => gfm`---`)), ...rows.map(row)].join('\n') as Markdown
}

const longestRun = (s: string): number => Math.max(0, ...(s.match(/`+/g)?.map((run) => run.length) ?? []))

/** Cluster text as an inline code span (a name), one line: the span's fence
 * is longer than any run of backticks inside. Code is not live: no HTML,
 * mention or link; `|` is escaped so that the span can sit in a table cell
 * (outside a table the backslash shows; Kubernetes names have no `|`). */
export function mdCode(text: string | null | undefined, max = 256): Markdown {
  const s = flatLine(text, max).replaceAll('|', '\\|')
  if (s === '') return gfm``
  const fence = '`'.repeat(longestRun(s) + 1)
  const pad = /^[` ]|[` ]$/.test(s) ? ' ' : ''
  return `${fence}${pad}${s}${pad}${fence}` as Markdown
}

/** Cluster text as a fenced code block: the fence is one backtick longer
 * than the longest run of backticks in the text (at least three), so nothing
 * inside can close it; inside a code block HTML, mentions and references are
 * not live. Every escape sequence, colour included, and control is removed. */
export function mdCodeBlock(text: string | readonly string[], info = 'text'): Markdown {
  if (!/^[a-z0-9-]*$/.test(info)) throw new Error(`a code block's info string is a word: ${info}`)
  const lines = (typeof text === 'string' ? [text] : text).flatMap(splitLines).map((l) => stripControls(l))
  const fence = '`'.repeat(Math.max(3, longestRun(lines.join('\n')) + 1))
  return [`${fence}${info}`, ...lines, fence].join('\n') as Markdown
}

/** A link of our own (the run's URL): only http(s), and nothing in the URL that ends the destination. */
export function mdLink(label: Markdown, url: string): Markdown {
  let href: string
  try {
    href = new URL(url).href
  } catch {
    return label
  }
  if (!/^https?:\/\//.test(href)) return label
  const dest = href.replace(/[()<>\s`]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
  return `[${label}](${dest})` as Markdown
}

/** An HTML comment (an invisible marker): nothing in the text can end it. */
export function mdComment(text: string): Markdown {
  return `<!-- ${flatLine(text, 500).replace(/[<>]/g, entity)} -->` as Markdown
}

/** Cluster text inside HTML (a `<summary>`): one line, every HTML special
 * character an entity, mentions and references not live. */
export function htmlText(text: string | null | undefined, max = 256): Html {
  return defuse(flatLine(text, max)).replace(/[&<>"']/g, entity) as Html
}

/** A collapsible section: the summary line is an HTML block, the body markdown. */
export function mdDetails(summary: Html, body: Markdown): Markdown {
  if (/[\r\n]/.test(summary)) throw new Error('a summary must be one line')
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>` as Markdown
}

/** Cluster text as a mermaid label (a gantt section or task): only letters,
 * digits, space and `._-[]/` are kept, so that it can neither end its line's
 * field (`:` `;` `#`), start a comment or directive (`%%`), hold HTML, nor
 * reach the fence; anything else shows as "?". */
export function mermaidText(text: string | null | undefined, max = 100): MermaidText {
  return (flatLine(text, max).replace(/[^A-Za-z0-9 ._\-[\]/]/g, '?') || '-') as MermaidText
}

/** A mermaid chart as a fenced code block with the mermaid info string. */
export function mdMermaid(lines: readonly MermaidText[]): Markdown {
  return mdCodeBlock(lines, 'mermaid')
}
