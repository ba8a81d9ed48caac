// The command line's face of the engine (src/engine.ts): arguments → the
// engine with a terminal EngineIO → a live status on a TTY or plain lines in
// a CI log → the final report per -o, --summary, --junit, a Buildkite
// annotation → the Jobs' clean-up → an exit code. The process (signals,
// argv, exit) is index.ts's: this file takes them as values, so that tests
// drive it in-process.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { cleanupLines } from '../cleanup.js'
import type { Overall } from '../decide/jobs.js'
import { WaitRun, type EngineIO, type Timing } from '../engine.js'
import { targetText, type Outcome } from '../report/outcome.js'
import { summaryMarkdown } from '../report/summary.js'
import { exitCode, flagMessage, helpText, parseArgs, programName, type CliOptions } from './args.js'
import { liveEnd, liveFrame, paint, plainLines, statusText, terminalText, textReport, type Live } from './terminal.js'

export const VERSION = '0.1.0'

/** What only the final report needs: JUnit XML, a CI's report, -o json and -o name. */
const reportCode = async () => {
  const [junit, ci, output] = await Promise.all([import('../report/junit.js'), import('./ci.js'), import('./output.js')])
  return { ...junit, ...ci, ...output }
}
type ReportCode = Awaited<ReturnType<typeof reportCode>>

/** Where the CLI writes; process.stdout and process.stderr fit. */
export interface Stream {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

export interface CliContext {
  /** the arguments after the program's name */
  argv: readonly string[]
  /** process.argv[1]: `kubectl-job_wait` names itself `kubectl job-wait` */
  program?: string
  env: NodeJS.ProcessEnv
  stdout: Stream
  stderr: Stream
  /** aborted on SIGINT or SIGTERM */
  cancelled: AbortSignal
  /** runs `buildkite-agent annotate`; tests replace it */
  run?: (command: string, args: string[], stdin: string) => void
  timing?: Partial<Timing>
  /** the process ends when main() resolves (index.ts): its exit closes the watches, not main() */
  exiting?: boolean
}

/** One wait from the command line; resolves to the exit code. */
export async function main(ctx: CliContext): Promise<number> {
  const tty = ctx.stdout.isTTY === true
  const parsed = parseArgs(ctx.argv, ctx.env, tty)
  const prog = programName(ctx.program)
  if (parsed.kind === 'usage') {
    ctx.stderr.write(`${prog}: ${terminalText(parsed.message)}\n`)
    return parsed.exitCode
  }
  if (parsed.kind === 'info') {
    ctx.stdout.write(parsed.options.help ? helpText(prog) : `${prog} ${VERSION}\n`)
    return 0
  }
  const { options, inputs } = parsed
  // Machine output (-o json, -o name) alone on stdout, as kubectl's: the rest goes to stderr.
  const human = options.output === 'text' ? ctx.stdout : ctx.stderr
  const screen = new Screen(human, options, tty && options.output === 'text', targetText(parsed.settings.target))
  // Not loaded before the first request: with the first snapshot, beside the wait.
  let loading: Promise<ReportCode> | undefined
  const reporting = () => (loading ??= reportCode())
  const wait = new WaitRun({ ...screen.io, observing: () => void reporting() }, ctx.timing, {
    env: ctx.env,
    kubeconfigFile: options.kubeconfig
  })
  let outcome: Outcome
  try {
    outcome = await wait.outcome((name) => inputs[name] ?? '', ctx.cancelled)
  } catch (err) {
    outcome = wait.complete(wait.failed(err))
  }
  // The engine's messages name the action's inputs; on the command line, the flags.
  outcome.message = flagMessage(outcome.message)
  screen.end()
  const code = await reporting()
  try {
    writeReports(outcome, options, human, ctx, code)
    if (wait.deletes(outcome)) {
      await wait.release()
      const cleanup = await wait.cleanUp(outcome)
      if (cleanup) {
        const lines = cleanupLines(cleanup)
        for (const line of lines.kept) human.write(`${line}\n`)
        for (const failure of cleanup.failures) ctx.stderr.write(`warning: ${terminalText(failure)}\n`)
        if (lines.deleted) {
          outcome.deleted = cleanup.deleted
          human.write(`${lines.deleted}\n`)
        }
      }
    }
    if (options.output === 'json') ctx.stdout.write(code.jsonOutput(outcome))
    if (options.output === 'name') ctx.stdout.write(code.nameOutput(outcome))
  } finally {
    if (!ctx.exiting) wait.close()
  }
  return exitCode(outcome.result)
}

/** The text report (or GitLab's sections), the files, the Buildkite annotation. */
function writeReports(outcome: Outcome, options: CliOptions, human: Stream, ctx: CliContext, code: ReportCode): void {
  const { gitlabReport, junitXml, buildkiteAnnotation } = code
  const width = Math.max(40, Math.min(human.columns ?? 80, 120))
  const now = Date.now()
  if (options.ci === 'gitlab') human.write(gitlabReport(outcome, { color: options.color, time: now / 1000, now, width }))
  else human.write(textReport(outcome, { color: options.color, now, width }))
  const write = (file: string | undefined, what: string, text: () => string) => {
    if (!file) return
    try {
      fs.writeFileSync(file, text())
    } catch (err) {
      // The wait's verdict stands; the file's failure is said, not turned into another exit code.
      ctx.stderr.write(`warning: could not write the ${what} to ${file}: ${(err as Error).message.split('\n')[0]}\n`)
    }
  }
  write(options.summaryFile, 'markdown report', () => summaryMarkdown(outcome, now))
  write(options.junitFile, 'JUnit XML', () => junitXml(outcome, now))
  if (options.ci === 'buildkite') {
    const call = buildkiteAnnotation(outcome, ctx.env.PATH, isExecutable, now)
    if (call) (ctx.run ?? runCommand)(call.command, call.args, call.stdin)
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

function runCommand(command: string, args: string[], stdin: string): void {
  spawnSync(command, args, { input: stdin, stdio: ['pipe', 'inherit', 'inherit'] })
}

/**
 * The engine's words on a terminal: on a TTY, a status block that redraws in
 * place under the scrolling log lines; otherwise one line per change. Cluster
 * text goes through terminalText (no escape sequence of a pod's reaches the
 * terminal); debug lines only with KJW_DEBUG; secrets are never written.
 */
export class Screen {
  readonly io: EngineIO
  #live: Live = { drawn: 0 }
  #status: string[] = []
  #last: string[] = []
  #p

  constructor(
    private readonly out: Stream,
    options: Pick<CliOptions, 'color'>,
    private readonly tty: boolean,
    private readonly waitingFor: string,
    debug = false
  ) {
    this.#p = paint(options.color)
    const lines = (text: string | readonly string[]) => (typeof text === 'string' ? text.split('\n') : [...text]).map(terminalText)
    this.io = {
      info: (text) => this.#logs(lines(text)),
      untrusted: (text) => this.#logs(lines(text)),
      warning: (message) => this.#logs(lines(message).map((l) => `warning: ${l}`)),
      debug: (message) => {
        if (debug) this.#logs(lines(message).map((l) => `debug: ${l}`))
      },
      secret: () => undefined,
      progress: (overall, elapsedMs) => this.#progress(overall, elapsedMs)
    }
  }

  #progress(overall: Overall, elapsedMs: number): void {
    const namespace = overall.jobs[0]?.snapshot.job?.namespace
    const status = overall.jobs.length
      ? overall.jobs.map((j) =>
          statusText({ name: j.name, namespace, verdict: j.verdict, snapshot: j.snapshot }, this.waitingFor, elapsedMs)
        )
      : [statusText({ name: 'jobs', verdict: { state: overall.state, message: overall.message } }, this.waitingFor, elapsedMs)]
    this.#status = status
    this.#draw([])
  }

  #logs(lines: string[]): void {
    this.#draw(lines)
  }

  #draw(logLines: string[]): void {
    if (this.tty) {
      const frame = liveFrame(this.#live, this.#status, logLines, this.out.columns ?? 80, this.#p)
      this.#live = frame.live
      this.out.write(frame.out)
    } else {
      const next = plainLines(this.#last, this.#status, logLines)
      this.#last = next.last
      if (next.out) this.out.write(next.out)
    }
  }

  /** The live block erased: the final report follows the logs. */
  end(): void {
    if (this.tty) this.out.write(liveEnd(this.#live))
    this.#live = { drawn: 0 }
  }
}
