// What the GitHub Actions runner would execute from a step's stdout, by its
// rules as read in actions/runner (src/Runner.Worker/ActionCommandManager.cs,
// src/Runner.Common/ActionCommand.cs, src/Runner.Worker/Handlers/
// OutputManager.cs, src/Runner.Sdk/ProcessInvoker.cs). Written from those
// rules, not from their code; see src/text/gate.ts for the summary.
//
// Deliberately a little more eager than the runner where it cannot be exact:
// leading whitespace is what .NET's TrimStart and JavaScript's trimStart
// remove together, and "##[" / "::" are searched ordinally (the runner's
// culture-sensitive search may also match across zero-width characters; the
// gate's tests do not rely on the difference).

/** The commands the runner knows (ActionCommandManager's extensions). */
export const RUNNER_COMMANDS = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'debug',
  'warning',
  'error',
  'notice',
  'group',
  'endgroup',
  'echo'
] as const

export interface RunnerCommand {
  /** as written, lower-cased (the runner compares ignoring case) */
  name: string
  properties: Record<string, string>
  data: string
  form: '::' | '##['
  /** 1-based line number in the output */
  lineNo: number
  line: string
  /** the stop token this ended (name is then the token) */
  resumes?: boolean
}

// .NET Char.IsWhiteSpace plus JavaScript's whitespace (U+FEFF)
const LEADING_SPACE = /^[\s\u0085\u180e]+/u

/** The runner's line splitting: "\r\n", "\n" and a lone "\r" end a line. */
export function runnerLines(stdout: string): string[] {
  const lines = stdout.split(/\r\n|\n|\r/)
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

function unescape(s: string, pairs: Array<[string, string]>): string {
  let out = s
  for (const [escaped, plain] of pairs) out = out.replaceAll(escaped, plain)
  return out
}
const DATA: Array<[string, string]> = [
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%25', '%']
]
const PROPERTY: Array<[string, string]> = [['%3A', ':'], ['%2C', ','], ...DATA]
const LEGACY: Array<[string, string]> = [['%3B', ';'], ['%5D', ']'], ...DATA]

function properties(text: string, separator: string, pairs: Array<[string, string]>): Record<string, string> {
  const props: Record<string, string> = {}
  for (const part of text.split(separator)) {
    if (part === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0 || eq === part.length - 1) continue
    props[part.slice(0, eq)] = unescape(part.slice(eq + 1), pairs)
  }
  return props
}

type Parsed = Omit<RunnerCommand, 'lineNo' | 'line'>

/** `::name props::data` after leading whitespace. */
function parseColons(line: string, known: Set<string>): Parsed | undefined {
  const msg = line.replace(LEADING_SPACE, '')
  if (!msg.startsWith('::')) return undefined
  const end = msg.indexOf('::', 2)
  if (end < 0) return undefined
  const info = msg.slice(2, end)
  const space = info.indexOf(' ')
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase()
  if (!known.has(name)) return undefined
  const props = space > 0 ? properties(info.slice(space + 1).trim(), ',', PROPERTY) : {}
  return { name, properties: props, data: unescape(msg.slice(end + 2), DATA), form: '::' }
}

/** `##[name props]data` anywhere in the line. */
function parseLegacy(line: string, known: Set<string>): Parsed | undefined {
  const start = line.indexOf('##[')
  if (start < 0) return undefined
  const close = line.indexOf(']', start)
  if (close < 0) return undefined
  const info = line.slice(start + 3, close)
  const space = info.indexOf(' ')
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase()
  if (!known.has(name)) return undefined
  const props = space > 0 ? properties(info.slice(space + 1), ';', LEGACY) : {}
  return { name, properties: props, data: unescape(line.slice(close + 1), LEGACY), form: '##[' }
}

/** Every command the runner would execute from this output, in order,
 * stop-commands and the resuming token included; while commands are stopped
 * nothing else counts. */
export function runnerCommands(stdout: string): RunnerCommand[] {
  const known = new Set<string>(RUNNER_COMMANDS)
  let stopToken: string | undefined
  const out: RunnerCommand[] = []
  runnerLines(stdout).forEach((line, i) => {
    const cmd = parseColons(line, known) ?? parseLegacy(line, known)
    if (!cmd) return
    const at = { lineNo: i + 1, line }
    if (stopToken !== undefined) {
      if (cmd.name === stopToken) {
        known.delete(stopToken)
        stopToken = undefined
        out.push({ ...cmd, ...at, resumes: true })
      }
      return
    }
    out.push({ ...cmd, ...at })
    if (cmd.name === 'stop-commands') {
      const token = cmd.data.toLowerCase()
      // the runner fails the step on these tokens and does not stop
      if (token === '' || token === 'pause-logging' || known.has(token)) return
      stopToken = token
      known.add(token)
    }
  })
  return out
}
