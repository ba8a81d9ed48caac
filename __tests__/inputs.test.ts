import * as fs from 'node:fs'
// readSettings and decodeKubeconfig: every raw action input becomes a typed
// Settings value, or an InputError whose one-line message names the input,
// the value and what is accepted. Nothing here touches a cluster.
import { describe, expect, test } from '@jest/globals'
import { decodeKubeconfig, InputError, readSettings, type GetInput, type Settings } from '../src/inputs.js'

/** A GetInput over a map; absent inputs are '' as with core.getInput. */
function fake(inputs: Record<string, string>): GetInput & { asked: string[] } {
  const asked: string[] = []
  const get = ((name: string) => {
    asked.push(name)
    return inputs[name] ?? ''
  }) as GetInput & { asked: string[] }
  get.asked = asked
  return get
}

const read = (inputs: Record<string, string>): Settings => readSettings(fake({ job: 'build', ...inputs }))

/** The InputError readSettings throws for these inputs. */
function errorOf(inputs: Record<string, string>): InputError {
  try {
    readSettings(fake(inputs))
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    expect((err as Error).name).toBe('InputError')
    return err as InputError
  }
  throw new Error(`readSettings accepted ${JSON.stringify(inputs)}`)
}

const KUBECONFIG_YAML = `apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443
users:
- name: u1
  user:
    token: s3cr3t-t0ken-value
contexts:
- name: ctx1
  context:
    cluster: c1
    user: u1
    namespace: team-a
current-context: ctx1
`

const JOB_NAME_HELP =
  'expected a Job name: lower-case letters, digits, "-" and ".", at most 63 characters, starting and ending with a letter or digit'
const NS_HELP = 'expected a namespace name: lower-case letters, digits and "-", at most 63 characters'
const DURATION_HELP = 'expected a duration such as 90s, 15m or 1h30m (a bare number is seconds) up to 120h'

describe('readSettings: defaults', () => {
  test('only job given: Running, at-least, 15m, watch, 2s, 60s, 30 lines, no kubeconfig', () => {
    expect(readSettings(fake({ job: 'build' }))).toEqual({
      jobs: ['build'],
      expectedJobs: 1,
      failFast: true,
      delete: 'never',
      onCancel: 'keep',
      namespace: undefined,
      target: { kind: 'phase', phase: 'Running', expectedCount: undefined, match: 'at-least' },
      timeoutMs: 900_000,
      kubeconfig: undefined,
      context: undefined,
      mode: 'watch',
      pollIntervalMs: 2_000,
      podErrorGraceMs: 60_000,
      unschedulableGraceMs: 300_000,
      logLines: 30,
      logs: 'failed',
      logMaxStreams: 20
    })
  })

  test('the action.yml defaults given explicitly give the same settings', () => {
    const explicit = readSettings(
      fake({
        job: 'build',
        match: 'at-least',
        timeout: '15m',
        mode: 'watch',
        'poll-interval': '2s',
        'pod-error-grace': '60s',
        'unschedulable-grace': '5m',
        'log-lines': '30',
        logs: 'failed',
        'log-max-streams': '20'
      })
    )
    expect(explicit).toEqual(readSettings(fake({ job: 'build' })))
  })

  test('reads every documented input, and no other', () => {
    const get = fake({ job: 'build' })
    readSettings(get)
    // The inputs action.yml declares, read from the file itself.
    const yml = fs.readFileSync(new URL('../action.yml', import.meta.url), 'utf8')
    const declared = yml
      .slice(yml.indexOf('\ninputs:'), yml.indexOf('\noutputs:'))
      .match(/^ {2}([a-z-]+):$/gm)!
      .map((l) => l.trim().slice(0, -1))
    expect(declared.length).toBeGreaterThan(10)
    expect(new Set(get.asked)).toEqual(new Set(declared))
  })

  test('values are trimmed; blank means not given', () => {
    const s = read({ job: '  build  ', namespace: ' ci ', phase: ' succeeded ', timeout: ' 90s ', context: '   ', 'expected-count': ' 3 ' })
    expect(s.jobs).toEqual(['build'])
    expect(s.namespace).toBe('ci')
    expect(s.target).toEqual({ kind: 'phase', phase: 'Succeeded', expectedCount: 3, match: 'at-least' })
    expect(s.timeoutMs).toBe(90_000)
    expect(s.context).toBeUndefined()
    expect(read({ namespace: '   ' }).namespace).toBeUndefined()
  })
})

describe('readSettings: valid forms', () => {
  test.each([
    ['Pending', 'Pending'],
    ['pending', 'Pending'],
    ['Running', 'Running'],
    ['running', 'Running'],
    ['RUNNING', 'Running'],
    ['rUnNiNg', 'Running'],
    ['Succeeded', 'Succeeded'],
    ['succeeded', 'Succeeded'],
    ['SUCCEEDED', 'Succeeded'],
    ['Failed', 'Failed'],
    ['failed', 'Failed']
  ] as const)('phase %j is %s', (raw, phase) => {
    expect(read({ phase: raw }).target).toEqual({ kind: 'phase', phase, expectedCount: undefined, match: 'at-least' })
  })

  test.each([
    ['Complete', 'Complete'],
    ['complete', 'Complete'],
    ['Failed', 'Failed'],
    ['FAILED', 'Failed'],
    ['Finished', 'Finished'],
    ['finished', 'Finished'],
    ['Suspended', 'Suspended'],
    ['suspended', 'Suspended']
  ] as const)('condition %j is %s', (raw, condition) => {
    expect(read({ condition: raw }).target).toEqual({ kind: 'condition', condition })
  })

  test('condition ignores the (default) match input', () => {
    expect(read({ condition: 'Complete', match: 'exact' }).target).toEqual({ kind: 'condition', condition: 'Complete' })
  })

  test.each([
    ['at-least', 'at-least'],
    ['exact', 'exact'],
    ['EXACT', 'exact'],
    ['At-Least', 'at-least']
  ] as const)('match %j is %s', (raw, match) => {
    expect(read({ phase: 'Running', 'expected-count': '2', match: raw }).target).toEqual({
      kind: 'phase',
      phase: 'Running',
      expectedCount: 2,
      match
    })
  })

  test('match exact without expected-count keeps the count from the Job (undefined)', () => {
    expect(read({ match: 'exact' }).target).toEqual({ kind: 'phase', phase: 'Running', expectedCount: undefined, match: 'exact' })
  })

  test.each([
    ['1', 1],
    ['3', 3],
    ['007', 7],
    ['1000000', 1_000_000]
  ])('expected-count %j is %d', (raw, n) => {
    const t = read({ 'expected-count': raw }).target
    expect(t.kind === 'phase' && t.expectedCount).toBe(n)
  })

  test.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['30', 30_000],
    ['2.5', 2_500],
    ['1ms', 1]
  ])('timeout %j is %d ms', (raw, ms) => {
    expect(read({ timeout: raw }).timeoutMs).toBe(ms)
  })

  test.each([
    ['watch', 'watch'],
    ['poll', 'poll'],
    ['POLL', 'poll'],
    ['Watch', 'watch']
  ] as const)('mode %j is %s', (raw, mode) => {
    expect(read({ mode: raw }).mode).toBe(mode)
  })

  test.each([
    ['100ms', 100],
    ['0.1', 100],
    ['5s', 5_000],
    ['1m', 60_000],
    ['10', 10_000]
  ])('poll-interval %j is %d ms', (raw, ms) => {
    expect(read({ 'poll-interval': raw }).pollIntervalMs).toBe(ms)
  })

  test.each([
    ['0', 0],
    ['0s', 0],
    ['0ms', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['120', 120_000]
  ])('pod-error-grace %j is %d ms', (raw, ms) => {
    expect(read({ 'pod-error-grace': raw }).podErrorGraceMs).toBe(ms)
  })

  test.each([
    ['0', 0],
    ['90s', 90_000],
    ['15m', 900_000],
    ['600', 600_000]
  ])('unschedulable-grace %j is %d ms, apart from pod-error-grace', (raw, ms) => {
    const s = read({ 'unschedulable-grace': raw })
    expect(s.unschedulableGraceMs).toBe(ms)
    expect(s.podErrorGraceMs).toBe(60_000)
  })

  test.each([
    ['0', 0],
    ['1', 1],
    ['30', 30],
    ['1000', 1000]
  ])('log-lines %j is %d', (raw, n) => {
    expect(read({ 'log-lines': raw }).logLines).toBe(n)
  })

  test.each([
    ['follow', 'follow'],
    ['FOLLOW', 'follow'],
    ['None', 'none'],
    ['failed', 'failed']
  ])('logs %j is %j', (raw, mode) => {
    expect(read({ logs: raw }).logs).toBe(mode)
  })

  test.each([
    ['1', 1],
    ['20', 20],
    ['100', 100]
  ])('log-max-streams %j is %d', (raw, n) => {
    expect(read({ 'log-max-streams': raw }).logMaxStreams).toBe(n)
  })

  test.each(['a', '1', 'build', 'build-42', 'my.job.v2', 'a-b.c-d', 'x'.repeat(63), '0abc9'])('job name %j is accepted', (job) => {
    expect(read({ job }).jobs).toEqual([job])
  })

  test.each(['default', 'kube-system', 'ci', 'a', '9', 'n'.repeat(63)])('namespace %j is accepted', (namespace) => {
    expect(read({ namespace }).namespace).toBe(namespace)
  })

  test('context is passed as given (trimmed), not validated against anything', () => {
    expect(read({ context: ' kind-kind ' }).context).toBe('kind-kind')
    expect(read({ context: 'arn:aws:eks:eu-west-1:123:cluster/x' }).context).toBe('arn:aws:eks:eu-west-1:123:cluster/x')
  })

  test('kubeconfig YAML is kept as text; base64 of it is decoded', () => {
    expect(read({ kubeconfig: KUBECONFIG_YAML }).kubeconfig).toBe(KUBECONFIG_YAML.trim())
    expect(read({ kubeconfig: Buffer.from(KUBECONFIG_YAML).toString('base64') }).kubeconfig).toBe(KUBECONFIG_YAML.trim())
    expect(read({ kubeconfig: '  \n ' }).kubeconfig).toBeUndefined()
  })
})

describe('readSettings: several Jobs and what becomes of them', () => {
  test('names one per line or separated by commas, in order', () => {
    expect(read({ job: 'migrate\nseed, smoke-test\n' }).jobs).toEqual(['migrate', 'seed', 'smoke-test'])
  })
  test('a selector instead of names, with expected-jobs', () => {
    const s = readSettings(fake({ selector: 'app=shard, run in (41,42),!skip', 'expected-jobs': '4', 'fail-fast': 'false' }))
    expect(s).toMatchObject({ jobs: [], selector: 'app=shard, run in (41,42),!skip', expectedJobs: 4, failFast: false })
  })
  test.each(['app', '!app', 'app=x', 'app==x', 'app!=x', 'app=', 'example.com/app=x', 'a in (x, y)', 'a notin (x)', 'a=1,b!=2,c in (3)'])(
    'selector %j is accepted',
    (selector) => expect(readSettings(fake({ selector })).selector).toBe(selector)
  )
  test.each(['app in x', 'app=(x', '=x', 'a=b=c', 'a,,b', 'App_/x=1', 'a in (x', 'a=x y'])('selector %j is refused', (selector) => {
    expect(() => readSettings(fake({ selector }))).toThrow(/^Input 'selector' has an invalid value/)
  })
  test('delete and on-cancel', () => {
    expect(read({ delete: 'on-success', condition: 'Complete', 'on-cancel': 'delete' })).toMatchObject({
      delete: 'on-success',
      onCancel: 'delete'
    })
    expect(read({ delete: 'always', phase: 'Succeeded' }).delete).toBe('always')
  })
})

describe('readSettings: bad inputs name the input, the value and what is accepted', () => {
  const cases: [string, Record<string, string>, string][] = [
    // job
    [
      'empty job',
      { job: '' },
      "Input 'job' is required: the name of the Job to wait for (or several, one per line or separated by commas), or give 'selector', 'manifest' or 'from-cronjob'"
    ],
    [
      'blank job',
      { job: '   ' },
      "Input 'job' is required: the name of the Job to wait for (or several, one per line or separated by commas), or give 'selector', 'manifest' or 'from-cronjob'"
    ],
    ['job name of 64 characters', { job: 'j'.repeat(64) }, `Input 'job' has an invalid value '${'j'.repeat(64)}': ${JOB_NAME_HELP}`],
    ['upper-case job name', { job: 'MyJob' }, `Input 'job' has an invalid value 'MyJob': ${JOB_NAME_HELP}`],
    ['job name with a leading dash', { job: '-build' }, `Input 'job' has an invalid value '-build': ${JOB_NAME_HELP}`],
    ['job name with a trailing dash', { job: 'build-' }, `Input 'job' has an invalid value 'build-': ${JOB_NAME_HELP}`],
    ['job name with a trailing dot', { job: 'build.' }, `Input 'job' has an invalid value 'build.': ${JOB_NAME_HELP}`],
    ['job name with an underscore', { job: 'my_job' }, `Input 'job' has an invalid value 'my_job': ${JOB_NAME_HELP}`],
    ['job name with a slash (namespace/name)', { job: 'ci/build' }, `Input 'job' has an invalid value 'ci/build': ${JOB_NAME_HELP}`],
    ['job name with a space', { job: 'my job' }, `Input 'job' has an invalid value 'my job': ${JOB_NAME_HELP}`],
    // namespace
    ['namespace with upper case', { job: 'build', namespace: 'Team-A' }, `Input 'namespace' has an invalid value 'Team-A': ${NS_HELP}`],
    ['namespace with a dot', { job: 'build', namespace: 'team.a' }, `Input 'namespace' has an invalid value 'team.a': ${NS_HELP}`],
    ['namespace with a leading dash', { job: 'build', namespace: '-ci' }, `Input 'namespace' has an invalid value '-ci': ${NS_HELP}`],
    [
      'namespace of 64 characters',
      { job: 'build', namespace: 'n'.repeat(64) },
      `Input 'namespace' has an invalid value '${'n'.repeat(64)}': ${NS_HELP}`
    ],
    // phase / condition / match
    [
      'unknown phase',
      { job: 'build', phase: 'Complete' },
      "Input 'phase' has an invalid value 'Complete': expected one of Pending, Running, Succeeded, Failed"
    ],
    [
      'phase Unknown',
      { job: 'build', phase: 'Unknown' },
      "Input 'phase' has an invalid value 'Unknown': expected one of Pending, Running, Succeeded, Failed"
    ],
    [
      'unknown condition',
      { job: 'build', condition: 'Running' },
      "Input 'condition' has an invalid value 'Running': expected one of Complete, Failed, Finished, Suspended"
    ],
    [
      'both phase and condition',
      { job: 'build', phase: 'Running', condition: 'Complete' },
      "Inputs 'phase' ('Running') and 'condition' ('Complete') were both given: give one, a pod phase or a Job condition"
    ],
    [
      'expected-count with condition',
      { job: 'build', condition: 'Complete', 'expected-count': '3' },
      "Input 'expected-count' ('3') applies to a pod phase, not to 'condition' ('Complete')"
    ],
    ['unknown match', { job: 'build', match: 'at-most' }, "Input 'match' has an invalid value 'at-most': expected one of at-least, exact"],
    [
      'unknown match with a condition (match is always checked)',
      { job: 'build', condition: 'Complete', match: 'all' },
      "Input 'match' has an invalid value 'all': expected one of at-least, exact"
    ],
    // expected-count
    [
      'zero count',
      { job: 'build', 'expected-count': '0' },
      "Input 'expected-count' has an invalid value '0': expected a whole number from 1 to 1000000"
    ],
    [
      'negative count',
      { job: 'build', 'expected-count': '-1' },
      "Input 'expected-count' has an invalid value '-1': expected a whole number from 1 to 1000000"
    ],
    [
      'non-numeric count',
      { job: 'build', 'expected-count': 'three' },
      "Input 'expected-count' has an invalid value 'three': expected a whole number from 1 to 1000000"
    ],
    [
      'fractional count',
      { job: 'build', 'expected-count': '1.5' },
      "Input 'expected-count' has an invalid value '1.5': expected a whole number from 1 to 1000000"
    ],
    [
      'count in exponent form',
      { job: 'build', 'expected-count': '1e3' },
      "Input 'expected-count' has an invalid value '1e3': expected a whole number from 1 to 1000000"
    ],
    [
      'count with a plus sign',
      { job: 'build', 'expected-count': '+2' },
      "Input 'expected-count' has an invalid value '+2': expected a whole number from 1 to 1000000"
    ],
    [
      'count too large',
      { job: 'build', 'expected-count': '1000001' },
      "Input 'expected-count' has an invalid value '1000001': expected a whole number from 1 to 1000000"
    ],
    // durations
    ['timeout 0', { job: 'build', timeout: '0' }, `Input 'timeout' has an invalid value '0': ${DURATION_HELP}`],
    ['timeout 0s', { job: 'build', timeout: '0s' }, `Input 'timeout' has an invalid value '0s': ${DURATION_HELP}`],
    ['timeout with an unknown unit', { job: 'build', timeout: '5x' }, `Input 'timeout' has an invalid value '5x': ${DURATION_HELP}`],
    ['timeout in days', { job: 'build', timeout: '1d' }, `Input 'timeout' has an invalid value '1d': ${DURATION_HELP}`],
    ['timeout with a space', { job: 'build', timeout: '1h 30m' }, `Input 'timeout' has an invalid value '1h 30m': ${DURATION_HELP}`],
    ['negative timeout', { job: 'build', timeout: '-5m' }, `Input 'timeout' has an invalid value '-5m': ${DURATION_HELP}`],
    ['words as timeout', { job: 'build', timeout: 'ten minutes' }, `Input 'timeout' has an invalid value 'ten minutes': ${DURATION_HELP}`],
    ['poll-interval 0', { job: 'build', 'poll-interval': '0' }, `Input 'poll-interval' has an invalid value '0': ${DURATION_HELP}`],
    [
      'poll-interval below 100ms',
      { job: 'build', 'poll-interval': '50ms' },
      "Input 'poll-interval' has an invalid value '50ms': expected at least 100ms"
    ],
    [
      'poll-interval 0.05 seconds',
      { job: 'build', 'poll-interval': '0.05' },
      "Input 'poll-interval' has an invalid value '0.05': expected at least 100ms"
    ],
    [
      'poll-interval not a duration',
      { job: 'build', 'poll-interval': 'fast' },
      `Input 'poll-interval' has an invalid value 'fast': ${DURATION_HELP}`
    ],
    [
      'pod-error-grace not a duration',
      { job: 'build', 'pod-error-grace': 'never' },
      `Input 'pod-error-grace' has an invalid value 'never': ${DURATION_HELP}, or 0`
    ],
    [
      'unschedulable-grace not a duration',
      { job: 'build', 'unschedulable-grace': 'forever' },
      `Input 'unschedulable-grace' has an invalid value 'forever': ${DURATION_HELP}, or 0`
    ],
    [
      'unschedulable-grace over 120h',
      { job: 'build', 'unschedulable-grace': '200h' },
      `Input 'unschedulable-grace' has an invalid value '200h': ${DURATION_HELP}, or 0`
    ],
    [
      'negative pod-error-grace',
      { job: 'build', 'pod-error-grace': '-1' },
      `Input 'pod-error-grace' has an invalid value '-1': ${DURATION_HELP}, or 0`
    ],
    // mode
    ['unknown mode', { job: 'build', mode: 'stream' }, "Input 'mode' has an invalid value 'stream': expected one of watch, poll"],
    ['mode "polling"', { job: 'build', mode: 'polling' }, "Input 'mode' has an invalid value 'polling': expected one of watch, poll"],
    // logs, log-max-streams
    ['logs misspelt', { job: 'build', logs: 'folow' }, "Input 'logs' has an invalid value 'folow': expected one of failed, follow, none"],
    [
      'log-max-streams 0',
      { job: 'build', 'log-max-streams': '0' },
      "Input 'log-max-streams' has an invalid value '0': expected a whole number from 1 to 100"
    ],
    [
      'log-max-streams too many',
      { job: 'build', 'log-max-streams': '101' },
      "Input 'log-max-streams' has an invalid value '101': expected a whole number from 1 to 100"
    ],
    // log-lines
    [
      'log-lines too large',
      { job: 'build', 'log-lines': '1001' },
      "Input 'log-lines' has an invalid value '1001': expected a whole number from 0 to 1000"
    ],
    [
      'negative log-lines',
      { job: 'build', 'log-lines': '-1' },
      "Input 'log-lines' has an invalid value '-1': expected a whole number from 0 to 1000"
    ],
    [
      'log-lines "all"',
      { job: 'build', 'log-lines': 'all' },
      "Input 'log-lines' has an invalid value 'all': expected a whole number from 0 to 1000"
    ]
  ]

  test('there are at least 20 bad-input cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20)
  })

  test.each(cases)('%s', (_name, inputs, message) => {
    const err = errorOf(inputs)
    expect(err.message).toBe(message)
    expect(err.message).not.toMatch(/[\r\n]/)
  })

  test('values are quoted trimmed', () => {
    expect(errorOf({ job: 'build', mode: '  stream  ' }).message).toBe(
      "Input 'mode' has an invalid value 'stream': expected one of watch, poll"
    )
  })

  test('the first bad input (in reading order) is the one reported', () => {
    expect(errorOf({ job: 'Bad', namespace: 'Bad', timeout: 'x' }).message).toMatch(/^Input 'job' /)
    expect(errorOf({ job: 'ok', namespace: 'Bad', timeout: 'x' }).message).toMatch(/^Input 'namespace' /)
    expect(errorOf({ job: 'ok', timeout: 'x', mode: 'y' }).message).toMatch(/^Input 'timeout' /)
  })

  test('a bad kubeconfig input is reported as an InputError', () => {
    const err = errorOf({ job: 'build', kubeconfig: 'not a kubeconfig!' })
    expect(err.message).toBe("Input 'kubeconfig' is neither kubeconfig YAML nor base64 of it (value not shown: it is a secret)")
  })

  test('a multi-line value gives a one-line message', () => {
    const err = errorOf({ job: 'build', phase: 'Running\nSucceeded' })
    expect(err.message).not.toMatch(/[\r\n]/)
  })

  test('timeout 600h is refused: timers cannot wait that long', () => {
    expect(() => read({ timeout: '600h' })).toThrow(InputError)
  })
})

describe('decodeKubeconfig', () => {
  const b64 = Buffer.from(KUBECONFIG_YAML).toString('base64')

  test('YAML passes through, trimmed', () => {
    expect(decodeKubeconfig(KUBECONFIG_YAML)).toBe(KUBECONFIG_YAML.trim())
    expect(decodeKubeconfig(`\n\n${KUBECONFIG_YAML}\n\n`)).toBe(KUBECONFIG_YAML.trim())
  })

  test('JSON (also YAML) passes through', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [] })
    expect(decodeKubeconfig(json)).toBe(json)
  })

  test('base64 decodes', () => {
    expect(decodeKubeconfig(b64)).toBe(KUBECONFIG_YAML.trim())
  })

  test('base64 wrapped at 76 columns (as `base64` prints it) decodes', () => {
    const wrapped = b64.replace(/(.{76})/g, '$1\n')
    expect(wrapped).toContain('\n')
    expect(decodeKubeconfig(wrapped)).toBe(KUBECONFIG_YAML.trim())
  })

  test('base64url (with - and _) decodes', () => {
    // Bytes chosen so that the standard encoding has '+' and '/'.
    const yaml = `${KUBECONFIG_YAML}# ~~~???>>>\n`
    const std = Buffer.from(yaml).toString('base64')
    const url = Buffer.from(yaml).toString('base64url')
    expect(std).toMatch(/[+/]/)
    expect(url).toMatch(/[-_]/)
    expect(decodeKubeconfig(url)).toBe(yaml.trim())
    expect(decodeKubeconfig(std)).toBe(yaml.trim())
  })

  test('base64 without padding decodes', () => {
    const yaml = 'a: b\n' // 5 bytes: needs padding
    const unpadded = Buffer.from(yaml).toString('base64').replace(/=+$/, '')
    expect(decodeKubeconfig(unpadded)).toBe('a: b')
  })

  const NEITHER = "Input 'kubeconfig' is neither kubeconfig YAML nor base64 of it (value not shown: it is a secret)"
  const NOT_YAML = "Input 'kubeconfig' is base64, but what it decodes to is not kubeconfig YAML (value not shown: it is a secret)"

  test.each([
    ['prose', 'this is my pr1vate cluster text!', NEITHER],
    ['a path', '/home/runner/.kube/prod.yml', NEITHER], // '.' is not base64
    ['only base64 characters, decoding to binary', 'QmFkQmluYXJ5/w', NOT_YAML],
    ['symbols', 'tok*en&&hunter2xyz', NEITHER],
    ['base64 of text without a colon', Buffer.from('hello world secret').toString('base64'), NOT_YAML],
    ['base64 of binary', Buffer.from([0xff, 0xfe, 0x3a, 0x00, 0x80, 0x81]).toString('base64'), NOT_YAML],
    ['a bare token', 'ghp_S3cr3tT0kenValue0123456789', NOT_YAML]
  ])('garbage (%s) is rejected without repeating the value', (_name, raw, message) => {
    let err: unknown
    try {
      decodeKubeconfig(raw)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputError)
    const msg = (err as Error).message
    expect(msg).toBe(message)
    expect(msg).not.toContain(raw)
    expect(msg).not.toMatch(/[\r\n]/)
    for (const word of raw.split(/[^A-Za-z0-9]+/).filter((w) => w.length >= 6)) expect(msg).not.toContain(word)
  })
})
