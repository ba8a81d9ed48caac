// The CLI's arguments: kubectl's conventions turned into the action's inputs,
// validated by the action's own readSettings; every bad flag is one line that
// names it, with exit code 2; the help fits 80 columns.
import * as fs from 'node:fs'
import { describe, expect, test } from '@jest/globals'
import { EXIT, EXIT_TABLE, detectCi, exitCode, flagMessage, helpText, parseArgs, programName, type ParsedArgs } from '../src/cli/args.js'

const run = (argv: string[], env: Record<string, string> = {}, tty = false) => {
  const r = parseArgs(argv, env, tty)
  if (r.kind !== 'run') throw new Error(`expected a run, got ${JSON.stringify(r)}`)
  return r
}
const usage = (argv: string[], env: Record<string, string> = {}): string => {
  const r: ParsedArgs = parseArgs(argv, env)
  if (r.kind !== 'usage') throw new Error(`expected a usage error, got ${r.kind}`)
  expect(r.exitCode).toBe(2)
  expect(r.message).not.toMatch(/\n/)
  return r.message
}

describe('Jobs by name, as kubectl names them', () => {
  test.each([
    [['db-migrate'], 'db-migrate'],
    [['job/db-migrate'], 'db-migrate'],
    [['jobs/db-migrate'], 'db-migrate'],
    [['job.batch/db-migrate'], 'db-migrate'],
    [['Jobs.batch/db-migrate'], 'db-migrate'],
    [['job/a', 'b', 'jobs/c'], 'a,b,c'],
    [['job', 'a', 'b'], 'a,b'],
    [['jobs', 'a'], 'a']
  ])('%j → job %s', (argv, job) => {
    const r = run(argv)
    expect(r.inputs.job).toBe(job)
    expect(r.settings.jobs).toEqual(job.split(','))
  })

  test('a resource type and a selector: every Job with the labels', () => {
    const r = run(['jobs', '-l', 'suite=e2e'])
    expect(r.inputs).toEqual({ selector: 'suite=e2e' })
    expect(r.settings.selector).toBe('suite=e2e')
  })

  test.each([
    [['pod/x'], "'pod/x' is not a Job: kube-job-wait waits for Jobs, named as NAME, job/NAME, jobs/NAME or job.batch/NAME"],
    [['deployment.apps/web'], "'deployment.apps/web' is not a Job"],
    [['job/'], '\'job/\' has no name after "/"'],
    [['job'], "'job' names the resource but no Job: give job/NAME, a NAME after it, or -l SELECTOR"],
    [
      [],
      'no Job given: name one or more (NAME, job/NAME, jobs/NAME or job.batch/NAME), give -l SELECTOR, or create one with -f FILE or --from=cronjob/NAME'
    ],
    [['Bad_Name'], "NAME has an invalid value 'Bad_Name': expected a Job name"],
    [['a', 'a'], 'NAME has an invalid value \'a,a\': "a" is named twice'],
    [['a', '-l', 'x=y'], "NAME ('a') and -l/--selector ('x=y') were both given: give one, Job names or a label selector"],
    [['-l', 'a=b=c'], "-l/--selector has an invalid value 'a=b=c': expected a label selector"],
    [['-l', ''], '-l/--selector is empty: give a value']
  ])('%j: %s', (argv, message) => {
    expect(usage(argv)).toContain(message)
  })
})

describe('each flag, as --flag value and --flag=value', () => {
  test.each([
    [['-n', 'ci'], 'namespace', 'ci'],
    [['-nci'], 'namespace', 'ci'],
    [['--namespace=ci'], 'namespace', 'ci'],
    [['--namespace', 'ci'], 'namespace', 'ci'],
    [['--for=condition=Complete'], 'condition', 'Complete'],
    [['--for', 'condition=failed'], 'condition', 'failed'],
    [['--for=phase=Succeeded'], 'phase', 'Succeeded'],
    [['--for=condition=Complete=True'], 'condition', 'Complete'],
    [['--for=condition=failed=true'], 'condition', 'failed'],
    [['--for=phase=Running', '--count', '3'], 'expected-count', '3'],
    [['--for=phase=Running', '--count=3', '--match=exact'], 'match', 'exact'],
    [['--timeout', '20m'], 'timeout', '20m'],
    [['--timeout=90'], 'timeout', '90'],
    [['--logs=follow'], 'logs', 'follow'],
    [['--logs', 'none'], 'logs', 'none'],
    [['--log-lines=5'], 'log-lines', '5'],
    [['--log-max-streams', '4'], 'log-max-streams', '4'],
    [['--for=condition=Complete', '--delete'], 'delete', 'on-success'],
    [['--for=condition=Complete', '--delete=always'], 'delete', 'always'],
    [['--delete=never'], 'delete', 'never'],
    [['--on-cancel=delete'], 'on-cancel', 'delete'],
    [['--context', 'kind-ci'], 'context', 'kind-ci'],
    [['--mode=poll', '--poll-interval=1s'], 'poll-interval', '1s'],
    [['--pod-error-grace=0'], 'pod-error-grace', '0'],
    [['--unschedulable-grace=10m'], 'unschedulable-grace', '10m'],
    [['--fail-fast=false'], 'fail-fast', 'false'],
    [['--start-timeout=2m'], 'start-timeout', '2m']
  ])('%j → %s=%s', (flags, input, value) => {
    expect(run(['x', ...flags]).inputs[input]).toBe(value)
  })

  test('creating the Job: -f FILE is the manifest, --from=cronjob/NAME the CronJob, no NAME needed', () => {
    expect(run(['-f', 'job.yaml']).inputs).toEqual({ manifest: 'job.yaml' })
    expect(run(['--filename=jobs/*.yaml', '--recreate=always']).inputs).toEqual({ manifest: 'jobs/*.yaml', recreate: 'always' })
    const r = run(['--from=cronjob/nightly'])
    expect(r.inputs).toEqual({ 'from-cronjob': 'nightly' })
    expect(r.settings.create).toEqual({ kind: 'cronjob', cronjob: 'nightly', name: undefined, recreate: 'if-finished' })
    // with --from, a NAME is the created Job's name, as in kubectl create job NAME --from=cronjob/N
    expect(run(['db-backup', '--from', 'cronjobs.batch/nightly']).inputs).toEqual({ job: 'db-backup', 'from-cronjob': 'nightly' })
  })

  test('the settings are what the action makes of the same inputs', () => {
    const r = run(['job/x', '-n', 'ci', '--for=phase=Running', '--count=2', '--match=exact', '--timeout=2m', '--logs=follow'])
    expect(r.settings).toMatchObject({
      jobs: ['x'],
      namespace: 'ci',
      target: { kind: 'phase', phase: 'Running', expectedCount: 2, match: 'exact' },
      timeoutMs: 120_000,
      logs: 'follow'
    })
    expect(r.settings.kubeconfig).toBeUndefined()
    expect(r.settings.prCommentToken).toBeUndefined()
  })

  test('the options: output, files, kubeconfig path, context, on-cancel', () => {
    const r = run([
      'x',
      '-o',
      'json',
      '--summary',
      'r.md',
      '--junit=j.xml',
      '--kubeconfig',
      '/k/config',
      '--context=c',
      '--on-cancel=delete'
    ])
    expect(r.options).toEqual({
      output: 'json',
      summaryFile: 'r.md',
      junitFile: 'j.xml',
      color: false,
      kubeconfig: '/k/config',
      context: 'c',
      help: false,
      version: false,
      ci: 'none',
      onCancel: 'delete'
    })
    // A kubeconfig path is the CLI's: the action's kubeconfig input holds YAML.
    expect(r.inputs.kubeconfig).toBeUndefined()
    expect(r.settings.onCancel).toBe('delete')
  })

  test('-o name and --output=text', () => {
    expect(run(['x', '-o', 'name']).options.output).toBe('name')
    expect(run(['x', '--output=text']).options.output).toBe('text')
  })

  test('after --, a name that starts with "-" is a name (and refused as a Job name)', () => {
    expect(usage(['--', '-x'])).toContain("NAME has an invalid value '-x'")
  })
})

describe('every bad value: one line naming the flag, the value and what is accepted, exit 2', () => {
  test.each([
    [['--for=condition=Done'], "--for=condition has an invalid value 'Done': expected one of Complete, Failed, Finished, Suspended"],
    [['--for=phase=Gone'], "--for=phase has an invalid value 'Gone': expected one of Pending, Running, Succeeded, Failed"],
    [['--for=delete'], "--for has an invalid value 'delete': expected condition=Complete|Failed|Finished|Suspended or phase="],
    [['--for=jsonpath={.status}'], "--for has an invalid value 'jsonpath={.status}'"],
    [['--for=condition='], "--for has an invalid value 'condition='"],
    [
      ['--for=condition=Complete=False'],
      "--for has an invalid value 'condition=Complete=False': a condition is waited for to be True: give condition=Complete"
    ],
    [['--for=phase=Running=True'], "--for=phase has an invalid value 'Running=True'"],
    [['--for=condition=Complete', '--for=phase=Running'], '--for was given 2 times'],
    [['--for=condition=Complete', '--count=2'], "--count ('2') applies to a pod phase, not to --for=condition ('Complete')"],
    [['--count=0'], "--count has an invalid value '0': expected a whole number from 1 to 1000000"],
    [['--count=two'], "--count has an invalid value 'two'"],
    [['--match=most'], "--match has an invalid value 'most': expected one of at-least, exact"],
    [['--from=deployment/web'], "--from has an invalid value 'deployment/web': expected cronjob/NAME"],
    [['-f', ''], '-f/--filename is empty: give a value'],
    [['-f', 'job.yaml', '--recreate=sometimes'], "--recreate has an invalid value 'sometimes'"],
    [['x', '-f', 'job.yaml'], 'NAME cannot be given with -f/--filename: the step waits for the Jobs the manifest creates'],
    [['-l', 'a=b', '--from=cronjob/n'], '-l/--selector cannot be given with --from: the step waits for the Job it creates'],
    [['--timeout=soon'], "--timeout has an invalid value 'soon': expected a duration such as 90s"],
    [['--timeout=0'], "--timeout has an invalid value '0'"],
    [['--timeout='], '--timeout is empty: give a value'],
    [['--logs=all'], "--logs has an invalid value 'all': expected one of failed, follow, none"],
    [['--log-lines=-1'], '--log-lines'],
    [['--log-max-streams=1000'], "--log-max-streams has an invalid value '1000': expected a whole number from 1 to 100"],
    [['--delete=sometimes'], "--delete has an invalid value 'sometimes': expected one of never, on-success, always"],
    [['--delete'], "--delete ('on-success') with phase Running would delete a Job that has just started"],
    [['--for=condition=Complete', '--delete', 'always'], '--delete takes its value after "=": --delete=always'],
    [['--on-cancel=maybe'], "--on-cancel has an invalid value 'maybe': expected one of keep, delete"],
    [['-n', 'Prod_1'], "-n/--namespace has an invalid value 'Prod_1': expected a namespace name"],
    [['-n', ''], '-n/--namespace is empty: give a value'],
    [['-n'], '--namespace needs a value: see --help'],
    [['-n', '--help'], '-n needs a value, and the next argument is a flag'],
    [['--expected-jobs=2'], "--expected-jobs ('2') applies to -l/--selector, which is not given"],
    [['--fail-fast=yes'], "--fail-fast has an invalid value 'yes': expected one of true, false"],
    [['--mode=push'], "--mode has an invalid value 'push': expected one of watch, poll"],
    [['--poll-interval=10ms'], "--poll-interval has an invalid value '10ms': expected at least 100ms"],
    [['--pod-error-grace=x'], "--pod-error-grace has an invalid value 'x'"],
    [['--unschedulable-grace=x'], "--unschedulable-grace has an invalid value 'x'"],
    [['-o', 'yaml'], "-o/--output has an invalid value 'yaml': expected one of text, json, name"],
    [['--ci=circle'], "--ci has an invalid value 'circle': expected one of github, gitlab, buildkite, jenkins, none"],
    [['--summary='], '--summary is empty: give a value'],
    [['--junit', ' '], '--junit is empty: give a value'],
    [['--kubeconfig='], '--kubeconfig is empty: give a value'],
    [['--context='], '--context is empty: give a value'],
    [['--bogus'], 'unknown flag --bogus: see --help'],
    [['-x'], 'unknown flag -x: see --help'],
    [['--no-color=1'], '--no-color takes no value'],
    [['--github-token=t'], 'unknown flag --github-token'],
    [['--for=condition=Complete\nx'], "'condition=Complete\\nx'"]
  ])('%j', (flags, message) => {
    expect(usage(['x', ...flags])).toContain(message)
  })

  test('a value is quoted on one line, whatever it holds', () => {
    expect(usage(['x', '--timeout=1\n2'])).toBe(
      "--timeout has an invalid value '1\\n2': expected a duration such as 90s, 15m or 1h30m (a bare number is seconds) up to 120h"
    )
  })
})

describe('flagMessage', () => {
  test('an input named in a message becomes its flag; a value that looks like an input name stays', () => {
    expect(flagMessage("Input 'condition' has an invalid value 'job': expected one of Complete")).toBe(
      "--for=condition has an invalid value 'job': expected one of Complete"
    )
    expect(flagMessage("Input 'job' is required: the name of the Job to wait for, or give 'selector'")).toBe(
      'NAME is required: the name of the Job to wait for, or give -l/--selector'
    )
  })
})

describe('colour, CI, help and version', () => {
  test('colour on a terminal or a CI log that shows it, never with --no-color, NO_COLOR or TERM=dumb', () => {
    expect(run(['x'], {}, true).options.color).toBe(true)
    expect(run(['x'], {}, false).options.color).toBe(false)
    expect(run(['x', '--no-color'], {}, true).options.color).toBe(false)
    expect(run(['x'], { NO_COLOR: '1' }, true).options.color).toBe(false)
    // no-color.org: an empty NO_COLOR does not count.
    expect(run(['x'], { NO_COLOR: '' }, true).options.color).toBe(true)
    expect(run(['x'], { TERM: 'dumb' }, true).options.color).toBe(false)
    // CI logs that render ANSI colours, though not a terminal; Jenkins needs a plugin for them.
    expect(run(['x'], { GITLAB_CI: 'true' }).options.color).toBe(true)
    expect(run(['x'], { BUILDKITE: 'true' }).options.color).toBe(true)
    expect(run(['x'], { GITHUB_ACTIONS: 'true' }).options.color).toBe(true)
    expect(run(['x'], { JENKINS_URL: 'https://ci.example/' }).options.color).toBe(false)
    expect(run(['x', '--no-color'], { GITLAB_CI: 'true' }).options.color).toBe(false)
    expect(run(['x', '--ci=none'], { GITLAB_CI: 'true' }).options.color).toBe(false)
  })

  test.each([
    [{ GITHUB_ACTIONS: 'true' }, 'github'],
    [{ GITLAB_CI: 'true' }, 'gitlab'],
    [{ BUILDKITE: 'true' }, 'buildkite'],
    [{ JENKINS_URL: 'https://ci.example/' }, 'jenkins'],
    [{}, 'none']
  ])('CI from %j: %s', (env, ci) => {
    expect(detectCi(env)).toBe(ci)
    expect(run(['x'], env).options.ci).toBe(ci)
  })

  test('--ci overrides what the environment says', () => {
    expect(run(['x', '--ci=none'], { GITLAB_CI: 'true' }).options.ci).toBe('none')
    expect(run(['x', '--ci', 'gitlab']).options.ci).toBe('gitlab')
  })

  test('--help and --version need no Job and check nothing else', () => {
    for (const flag of ['--help', '-h', '--version']) {
      const r = parseArgs([flag, '--timeout=soon'], {})
      expect(r.kind).toBe('info')
    }
    const r = parseArgs(['-h'], {})
    expect(r.kind === 'info' && r.options.help).toBe(true)
  })

  test('the help fits 80 columns, names every flag, and has the exit-code table', () => {
    const text = helpText()
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80)
    for (const flag of [
      '--for=condition',
      '--for=phase',
      '--count',
      '--match',
      '--selector',
      '--expected-jobs',
      '--fail-fast',
      '--timeout',
      '--start-timeout',
      '--filename',
      '--from=cronjob',
      '--recreate',
      '--namespace',
      '--kubeconfig',
      '--context',
      '--logs',
      '--log-lines',
      '--output',
      '--summary',
      '--junit',
      '--no-color',
      '--ci',
      '--delete',
      '--on-cancel',
      '--mode',
      '--poll-interval',
      '--pod-error-grace',
      '--unschedulable-grace',
      '--log-max-streams',
      '--help',
      '--version'
    ]) {
      expect(text).toContain(flag)
    }
    for (const [code] of EXIT_TABLE) expect(text).toMatch(new RegExp(`^ +${code}  `, 'm'))
    expect(helpText('kubectl job-wait')).toContain('kubectl job-wait [job/]NAME...')
  })

  test('the program name: the kubectl plugin says kubectl job-wait', () => {
    expect(programName('/usr/local/bin/kubectl-job_wait')).toBe('kubectl job-wait')
    expect(programName('/usr/lib/node_modules/kube-job-wait/dist/cli.js')).toBe('kube-job-wait')
    expect(programName(undefined)).toBe('kube-job-wait')
  })
})

test('exit codes: 0 met, 1 failed, 3 timeout, 4 error, 130 cancelled; 2 is bad usage', () => {
  expect([exitCode('met'), exitCode('failed'), exitCode('timeout'), exitCode('error'), exitCode('cancelled')]).toEqual([0, 1, 3, 4, 130])
  expect(EXIT.usage).toBe(2)
  expect(new Set(EXIT_TABLE.map(([c]) => c)).size).toBe(6)
})

test('docs/cli.md shows the help and the exit codes as they are', () => {
  const doc = fs.readFileSync(new URL('../docs/cli.md', import.meta.url), 'utf8')
  expect(doc).toContain(`\`\`\`text\n${helpText()}\`\`\``)
  for (const [code, what] of EXIT_TABLE) expect(doc).toContain(`| ${code} | ${what} |`)
})
