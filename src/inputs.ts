// Raw action inputs → one typed, validated Settings object. Nothing here
// talks to the cluster: every bad input is reported before any API call.
import { parseDuration } from './duration.js'
import type { Match, Target, WaitCondition, WaitPhase } from './model.js'

export type DeletePolicy = 'never' | 'on-success' | 'always'

/** What happens when a Job of the manifest's name already exists. */
export type Recreate = 'if-finished' | 'always' | 'never'

/** The Jobs the step creates before it waits (inputs manifest, from-cronjob). */
export type CreateRequest =
  { kind: 'manifest'; manifest: string; recreate: Recreate } | { kind: 'cronjob'; cronjob: string; name?: string; recreate: Recreate }

export interface Settings {
  /** the Jobs to wait for by name; empty when a selector picks them, or until creation names them */
  jobs: string[]
  /** create the Jobs first (manifest, from-cronjob); the created names become jobs */
  create?: CreateRequest
  /** a label selector over the namespace's Jobs, instead of names */
  selector?: string
  /** with a selector: at least this many matching Jobs must exist */
  expectedJobs: number
  /** several Jobs: end as soon as one fails (true), or wait for all */
  failFast: boolean
  /** what becomes of the Jobs when the wait ends by itself */
  delete: DeletePolicy
  /** what becomes of the Jobs when the run is cancelled */
  onCancel: 'keep' | 'delete'
  /** undefined: the kubeconfig context's namespace, else "default" */
  namespace?: string
  target: Target
  timeoutMs: number
  /** how long the pods may take to start; undefined: only timeout bounds the wait */
  startTimeoutMs?: number
  /** The kubeconfig input, decoded to YAML; undefined when not given. */
  kubeconfig?: string
  context?: string
  mode: 'watch' | 'poll'
  pollIntervalMs: number
  podErrorGraceMs: number
  /** an Unschedulable pod that no autoscaler is adding a node for fails the wait after this; 0: never */
  unschedulableGraceMs: number
  logLines: number
  /** failed: log tails of failing pods in the report; follow: every container streamed live; none: no log read at all */
  logs: LogsMode
  /** follow: at most this many log streams open at once */
  logMaxStreams: number
  /** a token for the sticky pull-request comment; undefined: no comment */
  prCommentToken?: string
}

/** A bad input: the message names the input, the value and what is accepted. */
export class InputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InputError'
  }
}

export type LogsMode = 'failed' | 'follow' | 'none'

export type GetInput = (name: string) => string

const PHASES: WaitPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed']
const CONDITIONS: WaitCondition[] = ['Complete', 'Failed', 'Finished', 'Suspended']
// Job names are DNS subdomains of at most 63 characters (they become label values on pods).
const JOB_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** Values are quoted on one line: a message is one line, in the log and in the outputs. */
export const oneLine = (value: string): string => value.replace(/\r?\n/g, '\\n')

function bad(input: string, value: string, accepted: string): InputError {
  return new InputError(`Input '${input}' has an invalid value '${oneLine(value)}': ${accepted}`)
}

function oneOf<T extends string>(input: string, raw: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a.toLowerCase() === raw.toLowerCase())
  if (!found) throw bad(input, raw, `expected one of ${allowed.join(', ')}`)
  return found
}

// A self-hosted runner's job may last 5 days; timers cannot wait much longer (2^31 ms).
const MAX_DURATION_MS = 120 * 3_600_000

function duration(input: string, raw: string, allowZero: boolean): number {
  const ms = parseDuration(raw)
  if (ms === undefined || (!allowZero && ms <= 0) || ms > MAX_DURATION_MS) {
    throw bad(input, raw, `expected a duration such as 90s, 15m or 1h30m (a bare number is seconds) up to 120h${allowZero ? ', or 0' : ''}`)
  }
  return ms
}

function wholeNumber(input: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw bad(input, raw, `expected a whole number from ${min} to ${max}`)
  }
  return Number(raw)
}

/**
 * The kubeconfig input holds YAML, or base64 of it. A YAML kubeconfig always
 * has a ':' and base64 never does. The value is a secret: no message repeats it.
 */
export function decodeKubeconfig(raw: string): string {
  const text = raw.trim()
  if (text.includes(':')) return text
  const compact = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    throw new InputError("Input 'kubeconfig' is neither kubeconfig YAML nor base64 of it (value not shown: it is a secret)")
  }
  const decoded = Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64').toString('utf8')
  if (!decoded.includes(':') || decoded.includes('\uFFFD')) {
    throw new InputError("Input 'kubeconfig' is base64, but what it decodes to is not kubeconfig YAML (value not shown: it is a secret)")
  }
  return decoded.trim()
}

const JOB_NAME_HELP =
  'expected a Job name: lower-case letters, digits, "-" and ".", at most 63 characters, starting and ending with a letter or digit'

/** One name, or several: one per line or separated by commas. */
function jobNames(raw: string): string[] {
  const names = raw.split(/[\n,]/).map((n) => n.trim())
  const seen = new Set<string>()
  for (const name of names) {
    if (!name) throw bad('job', raw, 'a name is empty: give Job names one per line or separated by commas')
    if (name.length > 63 || !JOB_NAME.test(name)) throw bad('job', name, JOB_NAME_HELP)
    if (seen.has(name)) throw bad('job', raw, `"${name}" is named twice`)
    seen.add(name)
  }
  return names
}

// A label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/
const SELECTOR_HELP =
  'expected a label selector such as app=migrate,tier!=web or "suite in (a,b)": key=value, key==value, key!=value, key in (v1,v2), key notin (v1,v2), key, !key, separated by commas'

function labelKey(key: string): boolean {
  const slash = key.indexOf('/')
  if (slash < 0) return LABEL_NAME.test(key)
  return LABEL_PREFIX.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1))
}

/** A label selector, checked as the API server parses one (labels.Parse), so that a typo is said before any request. */
export function labelSelector(raw: string): string {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i <= raw.length; i++) {
    const c = raw[i]
    if (c === '(') depth++
    else if (c === ')') depth--
    if (depth < 0) throw bad('selector', raw, SELECTOR_HELP)
    if (i === raw.length || (c === ',' && depth === 0)) {
      parts.push(raw.slice(start, i).trim())
      start = i + 1
    }
  }
  if (depth !== 0) throw bad('selector', raw, SELECTOR_HELP)
  for (const part of parts) {
    let m: RegExpExecArray | null
    if ((m = /^!\s*(\S+)$/.exec(part))) {
      if (!labelKey(m[1])) throw bad('selector', raw, SELECTOR_HELP)
    } else if ((m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(part))) {
      if (!labelKey(m[1]) || !LABEL_VALUE.test(m[3])) throw bad('selector', raw, SELECTOR_HELP)
    } else if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      const values = m[3].split(',').map((v) => v.trim())
      if (!labelKey(m[1]) || !values.every((v) => LABEL_VALUE.test(v))) throw bad('selector', raw, SELECTOR_HELP)
    } else if (!labelKey(part)) {
      throw bad('selector', raw, SELECTOR_HELP)
    }
  }
  return raw
}

export function readSettings(get: GetInput): Settings {
  const input = (name: string) => get(name).trim()

  const jobRaw = input('job')
  const selectorRaw = input('selector')
  const manifestRaw = get('manifest').trim()
  const cronjobRaw = input('from-cronjob')
  const recreate = oneOf<Recreate>('recreate', input('recreate') || 'if-finished', ['if-finished', 'always', 'never'])
  let create: CreateRequest | undefined
  if (manifestRaw && cronjobRaw) {
    throw new InputError("Inputs 'manifest' and 'from-cronjob' were both given: give one, the Jobs to create or the CronJob to run")
  }
  if (manifestRaw) {
    if (jobRaw || selectorRaw) {
      throw new InputError(
        `Input '${jobRaw ? 'job' : 'selector'}' cannot be given with 'manifest': the step waits for the Jobs the manifest creates`
      )
    }
    create = { kind: 'manifest', manifest: manifestRaw, recreate }
  } else if (cronjobRaw) {
    if (cronjobRaw.length > 52 || !JOB_NAME.test(cronjobRaw)) throw bad('from-cronjob', cronjobRaw, 'expected a CronJob name')
    if (selectorRaw) throw new InputError("Input 'selector' cannot be given with 'from-cronjob': the step waits for the Job it creates")
    const named = jobRaw ? jobNames(jobRaw) : []
    if (named.length > 1) throw bad('job', jobRaw, "with 'from-cronjob', one name: the name of the Job to create")
    create = { kind: 'cronjob', cronjob: cronjobRaw, name: named[0], recreate }
  }
  if (!create && jobRaw && selectorRaw) {
    throw new InputError(
      `Inputs 'job' ('${oneLine(jobRaw)}') and 'selector' ('${oneLine(selectorRaw)}') were both given: give one, Job names or a label selector`
    )
  }
  if (!create && !jobRaw && !selectorRaw) {
    throw new InputError(
      "Input 'job' is required: the name of the Job to wait for (or several, one per line or separated by commas), or give 'selector', 'manifest' or 'from-cronjob'"
    )
  }
  const jobs = jobRaw && !create ? jobNames(jobRaw) : []
  const selector = selectorRaw ? labelSelector(selectorRaw) : undefined
  const expectedJobsRaw = input('expected-jobs')
  if (expectedJobsRaw && !selector) {
    throw new InputError(`Input 'expected-jobs' ('${oneLine(expectedJobsRaw)}') applies to 'selector', which is not given`)
  }
  const expectedJobs = expectedJobsRaw ? wholeNumber('expected-jobs', expectedJobsRaw, 1, 1000) : 1
  const failFast = oneOf('fail-fast', input('fail-fast') || 'true', ['true', 'false']) === 'true'

  const ns = input('namespace')
  if (ns && (ns.length > 63 || !NAMESPACE.test(ns))) {
    throw bad('namespace', ns, 'expected a namespace name: lower-case letters, digits and "-", at most 63 characters')
  }

  const phaseRaw = input('phase')
  const conditionRaw = input('condition')
  if (phaseRaw && conditionRaw) {
    throw new InputError(
      `Inputs 'phase' ('${oneLine(phaseRaw)}') and 'condition' ('${oneLine(conditionRaw)}') were both given: give one, a pod phase or a Job condition`
    )
  }
  const countRaw = input('expected-count')
  const match = oneOf<Match>('match', input('match') || 'at-least', ['at-least', 'exact'])
  let target: Target
  if (conditionRaw) {
    if (countRaw)
      throw new InputError(
        `Input 'expected-count' ('${oneLine(countRaw)}') applies to a pod phase, not to 'condition' ('${oneLine(conditionRaw)}')`
      )
    target = { kind: 'condition', condition: oneOf('condition', conditionRaw, CONDITIONS) }
  } else {
    const phase = oneOf('phase', phaseRaw || 'Running', PHASES)
    const expectedCount = countRaw ? wholeNumber('expected-count', countRaw, 1, 1_000_000) : undefined
    target = { kind: 'phase', phase, expectedCount, match }
  }

  const timeoutMs = duration('timeout', input('timeout') || '15m', false)
  const startTimeoutRaw = input('start-timeout')
  const startTimeoutMs = startTimeoutRaw ? duration('start-timeout', startTimeoutRaw, false) : undefined
  const mode = oneOf<'watch' | 'poll'>('mode', input('mode') || 'watch', ['watch', 'poll'])
  const pollIntervalMs = duration('poll-interval', input('poll-interval') || '2s', false)
  if (pollIntervalMs < 100) throw bad('poll-interval', input('poll-interval'), 'expected at least 100ms')
  const podErrorGraceMs = duration('pod-error-grace', input('pod-error-grace') || '60s', true)
  // Longer than for image pulls: on clusters that add nodes on demand a pod is Unschedulable for minutes.
  const unschedulableGraceMs = duration('unschedulable-grace', input('unschedulable-grace') || '5m', true)
  const logLines = wholeNumber('log-lines', input('log-lines') || '30', 0, 1000)
  const logs = oneOf<LogsMode>('logs', input('logs') || 'failed', ['failed', 'follow', 'none'])
  const logMaxStreams = wholeNumber('log-max-streams', input('log-max-streams') || '20', 1, 100)

  const deletePolicy = oneOf<DeletePolicy>('delete', input('delete') || 'never', ['never', 'on-success', 'always'])
  if (deletePolicy !== 'never' && target.kind === 'phase' && (target.phase === 'Pending' || target.phase === 'Running')) {
    throw new InputError(
      `Input 'delete' ('${deletePolicy}') with phase ${target.phase} would delete a Job that has just started: use it with phase Succeeded or Failed, or a condition`
    )
  }
  const onCancel = oneOf<'keep' | 'delete'>('on-cancel', input('on-cancel') || 'keep', ['keep', 'delete'])

  const commentOnPr = oneOf('comment-on-pr', input('comment-on-pr') || 'false', ['true', 'false'])
  const token = input('github-token')
  if (commentOnPr === 'true' && !token) {
    throw new InputError("Input 'comment-on-pr' is true but 'github-token' is empty: give a token that may write pull-request comments")
  }

  const rawKubeconfig = get('kubeconfig')
  const kubeconfig = rawKubeconfig.trim() ? decodeKubeconfig(rawKubeconfig) : undefined
  const context = input('context') || undefined

  return {
    jobs,
    ...(create ? { create } : {}),
    ...(selector ? { selector } : {}),
    expectedJobs,
    failFast,
    delete: deletePolicy,
    onCancel,
    namespace: ns || undefined,
    target,
    timeoutMs,
    ...(startTimeoutMs !== undefined ? { startTimeoutMs } : {}),
    kubeconfig,
    context,
    mode,
    pollIntervalMs,
    podErrorGraceMs,
    unschedulableGraceMs,
    logLines,
    logs,
    logMaxStreams,
    prCommentToken: commentOnPr === 'true' ? token : undefined
  }
}
