// The command line → the action's input names and the CLI's own options.
// Flags become the action's inputs and go through readSettings, so that the
// CLI and the action share one validation path; an InputError is said again
// with the flag's name. Nothing here reads a file or talks to the cluster:
// every bad flag is exit code 2 before any API call.
import { parseArgs as parseNodeArgs } from 'node:util'
import { InputError, oneLine, readSettings, type Settings } from '../inputs.js'
import type { Result } from '../report/outcome.js'

export type Ci = 'github' | 'gitlab' | 'buildkite' | 'jenkins' | 'none'
export type OutputFormat = 'text' | 'json' | 'name'

export interface CliOptions {
  output: OutputFormat
  /** the markdown report is written there */
  summaryFile?: string
  /** the JUnit XML is written there */
  junitFile?: string
  color: boolean
  /** a kubeconfig file; undefined: KUBECONFIG or ~/.kube/config, as kubectl */
  kubeconfig?: string
  context?: string
  help: boolean
  version: boolean
  ci: Ci
  onCancel: 'keep' | 'delete'
}

export type ParsedArgs =
  | { kind: 'run'; inputs: Record<string, string>; options: CliOptions; settings: Settings }
  /** --help or --version: nothing else was checked */
  | { kind: 'info'; options: CliOptions }
  | { kind: 'usage'; message: string; exitCode: typeof EXIT.usage }

/** One exit code per way a wait ends; documented in the help and in docs/cli.md. */
export const EXIT = { met: 0, failed: 1, usage: 2, timeout: 3, error: 4, cancelled: 130 } as const

export const EXIT_TABLE: readonly (readonly [number, string])[] = [
  [EXIT.met, 'met: the condition or phase was reached'],
  [EXIT.failed, 'failed: a Job failed, or a pod is stuck'],
  [EXIT.usage, 'bad usage or input, before any API call'],
  [EXIT.timeout, 'timeout: --timeout passed first'],
  [EXIT.error, 'error: credentials, permissions or the API'],
  [EXIT.cancelled, 'cancelled: SIGINT or SIGTERM (the report is still written)']
]

export function exitCode(result: Result): number {
  return EXIT[result]
}

// Each action input the CLI sets, with the flag that sets it, as a message names it.
const FLAG_OF: Record<string, string> = {
  job: 'NAME',
  selector: '-l/--selector',
  'expected-jobs': '--expected-jobs',
  'fail-fast': '--fail-fast',
  namespace: '-n/--namespace',
  condition: '--for=condition',
  phase: '--for=phase',
  'expected-count': '--count',
  match: '--match',
  timeout: '--timeout',
  mode: '--mode',
  'poll-interval': '--poll-interval',
  'pod-error-grace': '--pod-error-grace',
  'unschedulable-grace': '--unschedulable-grace',
  'log-lines': '--log-lines',
  logs: '--logs',
  'log-max-streams': '--log-max-streams',
  delete: '--delete',
  'on-cancel': '--on-cancel',
  context: '--context',
  manifest: '-f/--filename',
  'from-cronjob': '--from',
  recreate: '--recreate',
  'start-timeout': '--start-timeout'
}

// Flags whose value is the action input of the same name.
const PASSED_THROUGH = [
  'expected-jobs',
  'fail-fast',
  'match',
  'timeout',
  'mode',
  'poll-interval',
  'pod-error-grace',
  'unschedulable-grace',
  'log-lines',
  'logs',
  'log-max-streams',
  'on-cancel',
  'context',
  'recreate',
  'start-timeout'
] as const

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  selector: { type: 'string', short: 'l' },
  for: { type: 'string', multiple: true },
  count: { type: 'string' },
  delete: { type: 'string' },
  kubeconfig: { type: 'string' },
  output: { type: 'string', short: 'o' },
  summary: { type: 'string' },
  junit: { type: 'string' },
  'no-color': { type: 'boolean' },
  ci: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  'expected-jobs': { type: 'string' },
  'fail-fast': { type: 'string' },
  match: { type: 'string' },
  timeout: { type: 'string' },
  mode: { type: 'string' },
  'poll-interval': { type: 'string' },
  'pod-error-grace': { type: 'string' },
  'unschedulable-grace': { type: 'string' },
  'log-lines': { type: 'string' },
  logs: { type: 'string' },
  'log-max-streams': { type: 'string' },
  'on-cancel': { type: 'string' },
  context: { type: 'string' },
  filename: { type: 'string', short: 'f' },
  from: { type: 'string' },
  recreate: { type: 'string' },
  'start-timeout': { type: 'string' }
} as const satisfies Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>

const JOB_RESOURCES = ['job', 'jobs', 'job.batch', 'jobs.batch']
const NAME_FORMS = 'NAME, job/NAME, jobs/NAME or job.batch/NAME'
const CI_NAMES: readonly Ci[] = ['github', 'gitlab', 'buildkite', 'jenkins', 'none']

class UsageError extends Error {}

/** The CI the process runs in, from the variables each one sets. */
export function detectCi(env: Record<string, string | undefined>): Ci {
  if (env.GITHUB_ACTIONS === 'true') return 'github'
  if (env.GITLAB_CI) return 'gitlab'
  if (env.BUILDKITE === 'true') return 'buildkite'
  if (env.JENKINS_URL) return 'jenkins'
  return 'none'
}

/**
 * Colour on a terminal, and in the logs of the CIs that render ANSI colours
 * (GitHub, GitLab, Buildkite; Jenkins only with a plugin); never when the
 * user said no (--no-color, NO_COLOR: no-color.org; TERM=dumb).
 */
function wantColour(noColor: boolean, env: Record<string, string | undefined>, tty: boolean, ci: Ci): boolean {
  if (noColor || env.NO_COLOR || env.TERM === 'dumb') return false
  return tty || ci === 'github' || ci === 'gitlab' || ci === 'buildkite'
}

/** A bare `--delete` means on-success, as a boolean flag would; its value only with "=", as kubectl's optional values. */
function withDeleteDefault(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--') {
      out.push(...argv.slice(i))
      break
    }
    if (a !== '--delete') {
      out.push(a)
      continue
    }
    const next = argv[i + 1]
    if (next !== undefined && ['never', 'on-success', 'always'].includes(next)) {
      throw new UsageError(`--delete takes its value after "=": --delete=${next}`)
    }
    out.push('--delete=on-success')
  }
  return out
}

/** `condition=Complete` → { condition: 'Complete' }; `phase=Running` → { phase: 'Running' }. */
function waitFor(values: readonly string[]): Record<string, string> {
  if (values.length > 1)
    throw new UsageError(`--for was given ${values.length} times ('${values.map(oneLine).join("', '")}'): give it once`)
  const raw = values[0]
  const m = /^(condition|phase)=(.*)$/i.exec(raw)
  if (!m || !m[2]) {
    throw new UsageError(
      `--for has an invalid value '${oneLine(raw)}': expected condition=Complete|Failed|Finished|Suspended or phase=Pending|Running|Succeeded|Failed`
    )
  }
  const kind = m[1].toLowerCase()
  // kubectl's condition=NAME=True is the same wait; =False is one this tool does not do.
  const cond = /^([^=]+)=(.*)$/.exec(m[2])
  if (kind === 'condition' && cond) {
    if (cond[2].toLowerCase() !== 'true') {
      throw new UsageError(
        `--for has an invalid value '${oneLine(raw)}': a condition is waited for to be True: give condition=${oneLine(cond[1])}`
      )
    }
    return { condition: cond[1] }
  }
  return { [kind]: m[2] }
}

/** kubectl's forms: NAME, job/NAME, job.batch/NAME; or `job NAME...`, `jobs -l SELECTOR`. */
function jobNames(positionals: readonly string[], selector: string | undefined): string[] {
  let args = [...positionals]
  if (args.length > 0 && JOB_RESOURCES.includes(args[0].toLowerCase())) {
    if (args.length === 1 && selector === undefined) {
      throw new UsageError(`'${oneLine(args[0])}' names the resource but no Job: give job/NAME, a NAME after it, or -l SELECTOR`)
    }
    args = args.slice(1)
  }
  return args.map((arg) => {
    const slash = arg.indexOf('/')
    if (slash < 0) return arg
    const resource = arg.slice(0, slash)
    if (!JOB_RESOURCES.includes(resource.toLowerCase())) {
      throw new UsageError(`'${oneLine(arg)}' is not a Job: kube-job-wait waits for Jobs, named as ${NAME_FORMS}`)
    }
    const name = arg.slice(slash + 1)
    if (!name) throw new UsageError(`'${oneLine(arg)}' has no name after "/": give ${NAME_FORMS}`)
    return name
  })
}

/** An InputError said with the flags' names instead of the inputs': `Input 'expected-count'` → `--count`. */
export function flagMessage(message: string): string {
  return message.replace(/(^Inputs? |and |give |to |with )'([a-z-]+)'/g, (whole, before: string, input: string) => {
    const flag = FLAG_OF[input]
    return flag ? `${before === 'Input ' || before === 'Inputs ' ? '' : before}${flag}` : whole
  })
}

/** kubectl create job's --from=cronjob/NAME: the CronJob's name. */
function fromCronJob(raw: string): string {
  const m = /^(cronjob|cronjobs|cronjob\.batch|cronjobs\.batch)\/(.+)$/i.exec(raw)
  if (!m) throw new UsageError(`--from has an invalid value '${oneLine(raw)}': expected cronjob/NAME`)
  return m[2]
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (value.trim() === '') throw new UsageError(`${flag} is empty: give a value`)
  return value
}

function oneOfFlag<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === raw.toLowerCase())
  if (!found) throw new UsageError(`${flag} has an invalid value '${oneLine(raw)}': expected one of ${allowed.join(', ')}`)
  return found
}

/**
 * argv: the arguments after the program's name. env: the process's
 * environment (CI detection, NO_COLOR). tty: whether stdout is a terminal.
 */
export function parseArgs(argv: readonly string[], env: Record<string, string | undefined>, tty = false): ParsedArgs {
  try {
    return parse(argv, env, tty)
  } catch (err) {
    if (err instanceof UsageError) return { kind: 'usage', message: err.message, exitCode: EXIT.usage }
    if (err instanceof InputError) return { kind: 'usage', message: flagMessage(err.message), exitCode: EXIT.usage }
    // By its code, not its class: node:util's TypeError may come from another realm (a test's VM).
    const code = (err as { code?: unknown } | null)?.code
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      return { kind: 'usage', message: nodeParseMessage(err as Error), exitCode: EXIT.usage }
    }
    throw err
  }
}

/** node:util's messages, shortened to one line that names the flag. */
function nodeParseMessage(err: Error): string {
  const first = err.message.split('\n')[0]
  const unknown = /^Unknown option '([^']+)'/.exec(first)
  if (unknown) return `unknown flag ${oneLine(unknown[1])}: see --help`
  const missing = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(first)
  if (missing) return `${missing[1]} needs a value: see --help`
  const ambiguous = /^Option '(-\w)' argument is ambiguous/.exec(first)
  if (ambiguous) return `${ambiguous[1]} needs a value, and the next argument is a flag: see --help`
  const noValue = /^Option '(--[\w-]+)' does not take an argument/.exec(first)
  if (noValue) return `${noValue[1]} takes no value`
  return oneLine(first)
}

function parse(argv: readonly string[], env: Record<string, string | undefined>, tty: boolean): ParsedArgs {
  const { values: v, positionals } = parseNodeArgs({
    args: withDeleteDefault(argv),
    options: OPTIONS,
    allowPositionals: true,
    strict: true
  })
  const ci = v.ci === undefined ? detectCi(env) : oneOfFlag('--ci', v.ci, CI_NAMES)
  const onCancel = v['on-cancel'] === undefined ? 'keep' : oneOfFlag('--on-cancel', v['on-cancel'], ['keep', 'delete'] as const)
  const options: CliOptions = {
    output: v.output === undefined ? 'text' : oneOfFlag('-o/--output', v.output, ['text', 'json', 'name'] as const),
    summaryFile: nonEmpty('--summary', v.summary),
    junitFile: nonEmpty('--junit', v.junit),
    color: wantColour(v['no-color'] === true, env, tty, ci),
    kubeconfig: nonEmpty('--kubeconfig', v.kubeconfig),
    context: nonEmpty('--context', v.context),
    help: v.help === true,
    version: v.version === true,
    ci,
    onCancel
  }
  if (options.help || options.version) return { kind: 'info', options }

  const names = jobNames(positionals, v.selector)
  const creating = v.filename !== undefined || v.from !== undefined
  if (names.length === 0 && v.selector === undefined && !creating) {
    throw new UsageError(
      `no Job given: name one or more (${NAME_FORMS}), give -l SELECTOR, or create one with -f FILE or --from=cronjob/NAME`
    )
  }
  const inputs: Record<string, string> = {}
  if (v.filename !== undefined) inputs.manifest = nonEmpty('-f/--filename', v.filename)!
  if (v.from !== undefined) inputs['from-cronjob'] = fromCronJob(v.from)
  if (names.length) inputs.job = names.join(',')
  if (v.selector !== undefined) inputs.selector = nonEmpty('-l/--selector', v.selector)!
  if (v.namespace !== undefined) inputs.namespace = nonEmpty('-n/--namespace', v.namespace)!
  if (v.for) Object.assign(inputs, waitFor(v.for))
  if (v.count !== undefined) inputs['expected-count'] = v.count
  if (v.delete !== undefined) inputs.delete = v.delete
  for (const name of PASSED_THROUGH) {
    const value = v[name]
    if (value !== undefined) inputs[name] = value
  }
  // An empty value would read as "not given" to readSettings: say it instead.
  for (const [name, value] of Object.entries(inputs)) {
    if (value.trim() === '') throw new UsageError(`${FLAG_OF[name] ?? name} is empty: give a value`)
  }
  const settings = readSettings((name) => inputs[name] ?? '')
  return { kind: 'run', inputs, options, settings }
}

/** The name the program was started as: the kubectl plugin is `kubectl job-wait`. */
export function programName(argv1: string | undefined): string {
  const base = (argv1 ?? '').split(/[\\/]/).pop() ?? ''
  return /^kubectl-job_wait/.test(base) ? 'kubectl job-wait' : 'kube-job-wait'
}

/** The help, at most 80 columns wide. */
export function helpText(prog = 'kube-job-wait'): string {
  const exits = EXIT_TABLE.map(([code, what]) => `  ${String(code).padStart(3)}  ${what}`)
  return `Waits for Kubernetes Jobs to finish (or their pods to reach a phase), and
says what happened: the verdict, each failing pod's cause, its log and events.

Usage:
  ${prog} [job/]NAME... [flags]
  ${prog} -l SELECTOR [flags]
  ${prog} -f JOB.yaml | --from=cronjob/NAME [flags]

Examples:
  ${prog} db-migrate --for=condition=Finished --logs=follow
  ${prog} -n ci -l suite=e2e --for=condition=Complete --timeout=20m
  ${prog} job/load --for=phase=Running --count=5 -o json

What to wait for:
  --for=condition=C       Complete, Failed, Finished or Suspended
  --for=phase=P           pods Pending, Running, Succeeded or Failed (default
                          phase=Running)
      --count=N           with a phase: this many pods (default: what the Job
                          runs at once, or must complete)
      --match=M           at-least (default) or exact
  -l, --selector=S        every Job with these labels, instead of names
      --expected-jobs=N   with -l: at least this many Jobs (default 1)
      --fail-fast=B       several Jobs: end when one fails (default true)
      --timeout=D         give up after D: 90s, 15m, 1h30m (default 15m)
      --start-timeout=D   give up if the pods have not started after D, and
                          say what held them (suspended, unschedulable, pull)

Create the Job first:
  -f, --filename=F        Jobs to create (a YAML file or glob), then wait for
      --from=cronjob/N    a Job made from CronJob N, then wait for it
      --recreate=R        a Job of that name exists: if-finished (default),
                          always, never

Where:
  -n, --namespace=NS      the namespace (default: the context's, or default)
      --kubeconfig=PATH   a kubeconfig file (default: $KUBECONFIG or
                          ~/.kube/config)
      --context=NAME      a kubeconfig context (default: the current one)

Logs and report:
      --logs=L            failed (default): tails of failing pods; follow:
                          stream every container; none
      --log-lines=N       lines of each log tail (default 30)
  -o, --output=F          text (default), json (the action's outputs), name
      --summary=FILE      write the markdown report to FILE
      --junit=FILE        write JUnit XML to FILE: a testsuite per Job, a
                          testcase per pod
      --no-color          no colours (also NO_COLOR); else colours on a
                          terminal and in GitHub, GitLab and Buildkite logs
      --ci=CI             github, gitlab, buildkite, jenkins or none (default:
                          detected from the environment)

After the wait:
      --delete[=P]        delete the Jobs: on-success (bare --delete), always,
                          never (default)
      --on-cancel=A       on Ctrl-C: keep (default) or delete the Jobs

More: --mode=watch|poll, --poll-interval=D, --pod-error-grace=D,
  --unschedulable-grace=D, --log-max-streams=N (as the action's inputs).
  -h, --help, --version

Exit codes:
${exits.join('\n')}
`
}
