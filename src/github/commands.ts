// The GitHub runner's side of the gate (src/text/gate.ts): cluster text in
// the step's log goes inside a stop-commands block, and annotations are
// escaped as workflow commands.
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
import { oneLine, splitLines, stripControls } from '../text/gate.js'

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
