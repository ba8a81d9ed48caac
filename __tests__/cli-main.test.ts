// The CLI's wiring (src/cli/main.ts) in-process, against the fake API server
// through the real @kubernetes/client-node: exit codes, which stream gets
// what, the files, --kubeconfig as kubectl reads it, cancel. @actions/* must
// not load: the CLI is the engine's other face.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { FakeApiServer, type KubeObject } from './support/fake-apiserver.js'

jest.unstable_mockModule('@actions/core', () => {
  throw new Error('the CLI loaded @actions/core')
})
const { main, Screen } = await import('../src/cli/main.js')
type Stream = import('../src/cli/main.js').Stream

const TIMING = { requestTimeoutMs: 5_000, idleTimeoutMs: 3_000, unreachableGraceMs: 1_000, tickMs: 50, heartbeatMs: 60_000 }
const NS = 'ci'
let server: FakeApiServer
let dir: string

beforeEach(async () => {
  server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-cli-'))
})
afterEach(async () => {
  await server.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

function sink(isTTY = false): Stream & { text: string } {
  const s = { text: '', isTTY, columns: 80, write: (t: string) => ((s.text += t), true) }
  return s
}

/** The CLI with a kubeconfig file the way a user has one: --kubeconfig, or KUBECONFIG. */
function cli(
  argv: string[],
  opts: { cancelled?: AbortSignal; env?: NodeJS.ProcessEnv; kubeconfigFlag?: boolean; namespace?: string } = {}
) {
  const file = path.join(dir, 'config')
  fs.writeFileSync(file, server.kubeconfig('admin', { namespace: opts.namespace }))
  const stdout = sink()
  const stderr = sink()
  const annotate: { command: string; args: string[]; stdin: string }[] = []
  const flags = opts.kubeconfigFlag === false ? [] : ['--kubeconfig', file]
  const done = main({
    argv: [...flags, '--mode=watch', ...argv],
    program: '/usr/local/bin/kube-job-wait',
    env: { PATH: '', ...opts.env },
    stdout,
    stderr,
    cancelled: opts.cancelled ?? new AbortController().signal,
    run: (command, args, stdin) => annotate.push({ command, args, stdin }),
    timing: TIMING
  })
  return { done, stdout, stderr, annotate, file }
}

function jobWithPod(name = 'build'): { job: KubeObject; pod: string } {
  const job = server.createJob(NS, { metadata: { name }, spec: { parallelism: 1, completions: 1 } })
  return { job, pod: server.createPodForJob(job).metadata.name }
}

const complete = (name = 'build') =>
  server.updateJobStatus(NS, name, {
    succeeded: 1,
    conditions: [
      { type: 'SuccessCriteriaMet', status: 'True' },
      { type: 'Complete', status: 'True' }
    ]
  })

const fail = (name: string, pod: string, log: string) => {
  server.setLog(NS, pod, 'main', log)
  server.startPod(NS, pod)
  server.finishPod(NS, pod, { exitCode: 3 })
  server.updateJobStatus(NS, name, {
    failed: 1,
    conditions: [
      { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
      { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
    ]
  })
}

describe('kube-job-wait, in-process', () => {
  test('bad usage: one line on stderr, exit 2, no API request', async () => {
    const { done, stdout, stderr } = cli(['build', '-n', NS, '--for=condition=Done'])
    expect(await done).toBe(2)
    expect(stderr.text).toBe(
      "kube-job-wait: --for=condition has an invalid value 'Done': expected one of Complete, Failed, Finished, Suspended\n"
    )
    expect(stdout.text).toBe('')
    expect(server.requests).toEqual([])
  })

  test('--version and --help on stdout, exit 0; the plugin names itself kubectl job-wait', async () => {
    const out = sink()
    const base = { env: {}, stdout: out, stderr: sink(), cancelled: new AbortController().signal }
    expect(await main({ ...base, argv: ['--version'] })).toBe(0)
    expect(out.text).toBe('kube-job-wait 0.1.0\n')
    out.text = ''
    expect(await main({ ...base, argv: ['--help'], program: '/home/me/.krew/bin/kubectl-job_wait' })).toBe(0)
    expect(out.text).toContain('kubectl job-wait [job/]NAME...')
    expect(server.requests).toEqual([])
  })

  test('met: exit 0, the report on stdout, plain lines without escape codes, the markdown and JUnit files', async () => {
    const { pod } = jobWithPod()
    const summary = path.join(dir, 'report.md')
    const junit = path.join(dir, 'junit.xml')
    const { done, stdout, stderr } = cli(['job/build', '-n', NS, '--for=condition=Complete', '--summary', summary, '--junit', junit])
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    server.finishPod(NS, pod, { exitCode: 0 })
    complete()
    expect(await done).toBe(0)
    expect(stdout.text).toMatch(/^Waiting for condition Complete of job ci\/build/)
    expect(stdout.text).toMatch(/✓ job ci\/build: met after/)
    expect(stdout.text).not.toContain('\x1b')
    expect(stderr.text).toBe('')
    expect(fs.readFileSync(summary, 'utf8')).toContain('ci/build')
    expect(fs.readFileSync(junit, 'utf8')).toMatch(/<testsuite [^>]*name="ci\/build"/)
  })

  test('failed, -o json: exit 1, only the JSON on stdout (the action outputs), the rest on stderr; the log line cleaned', async () => {
    const { pod } = jobWithPod()
    const { done, stdout, stderr } = cli(['build', '-n', NS, '--for=condition=Finished', '-o', 'json'])
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    fail('build', pod, 'boom\n\x1b]0;owned\x07red\x1b[31m\n')
    expect(await done).toBe(1)
    const json = JSON.parse(stdout.text) as Record<string, unknown>
    expect(json).toMatchObject({ result: 'failed', count: 0 })
    expect(Object.keys(json).sort()).toEqual(expect.arrayContaining(['result', 'message', 'pods', 'phases', 'job', 'elapsed']))
    expect(stderr.text).toMatch(/✗ job ci\/build: failed after/)
    expect(stderr.text).toContain('│ boom')
    expect(stderr.text).not.toContain('\x1b')
  })

  test('-o name: the Jobs that met the target', async () => {
    const { pod } = jobWithPod()
    const { done, stdout } = cli(['build', '-n', NS, '--for=condition=Complete', '-o', 'name'])
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    server.finishPod(NS, pod, { exitCode: 0 })
    complete()
    expect(await done).toBe(0)
    expect(stdout.text).toBe('job.batch/build\n')
  })

  test('timeout: exit 3', async () => {
    jobWithPod()
    const { done } = cli(['build', '-n', NS, '--for=condition=Complete', '--timeout=1s'])
    expect(await done).toBe(3)
  })

  test('an API error (no such namespace permission): exit 4 with the message', async () => {
    server.addUser('nobody', [])
    const file = path.join(dir, 'nobody')
    fs.writeFileSync(file, server.kubeconfig('nobody'))
    const stdout = sink()
    const code = await main({
      argv: ['build', '-n', NS, '--kubeconfig', file],
      env: {},
      stdout,
      stderr: sink(),
      cancelled: new AbortController().signal,
      timing: TIMING
    })
    expect(code).toBe(4)
    expect(stdout.text).toMatch(/! job ci\/build: error after/)
  })

  test('cancelled: exit 130, the report still written, --on-cancel=delete deletes the Job', async () => {
    jobWithPod()
    const cancel = new AbortController()
    const summary = path.join(dir, 'report.md')
    const { done, stdout } = cli(['build', '-n', NS, '--for=condition=Complete', '--on-cancel=delete', '--summary', summary], {
      cancelled: cancel.signal
    })
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    cancel.abort()
    expect(await done).toBe(130)
    expect(stdout.text).toMatch(/⊘ job ci\/build: cancelled after/)
    expect(stdout.text).toMatch(/deleted job ci\/build/)
    expect(fs.readFileSync(summary, 'utf8')).toContain('cancelled')
    expect(server.getJob(NS, 'build')).toBeUndefined()
  })

  test('--kubeconfig: that file alone, as kubectl (KUBECONFIG unread); the namespace from its context', async () => {
    const { pod } = jobWithPod()
    const { done, stdout } = cli(['build', '--for=condition=Complete'], {
      env: { KUBECONFIG: path.join(dir, 'no-such-file') },
      namespace: NS
    })
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    server.finishPod(NS, pod, { exitCode: 0 })
    complete()
    expect(await done).toBe(0)
    expect(stdout.text).toMatch(/of job ci\/build .*credentials: --kubeconfig/)
  })

  test('--context names a context the file has not: exit 4, said with the flag', async () => {
    const { done, stdout } = cli(['build', '-n', NS, '--context', 'prod'])
    expect(await done).toBe(4)
    expect(stdout.text).toContain("--context has an invalid value 'prod'")
  })

  test('GitLab CI: the report in a collapsible section of the job log, open when the wait failed', async () => {
    const { pod } = jobWithPod()
    const { done, stdout } = cli(['build', '-n', NS, '--for=condition=Finished', '--no-color'], { env: { GITLAB_CI: 'true' } })
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    fail('build', pod, 'boom\n')
    expect(await done).toBe(1)
    expect(stdout.text).toMatch(/\x1b\[0Ksection_start:\d+:kube_job_wait_log_0\[collapsed=true\]\r\x1b\[0KLog of pod build-/)
    expect(stdout.text).toMatch(/\x1b\[0Ksection_start:\d+:kube_job_wait_diagnosis\r\x1b\[0K✗ job ci\/build: failed after/)
    expect(stdout.text).toMatch(/section_end:\d+:kube_job_wait_diagnosis/)
  })

  test('Buildkite: the markdown report to buildkite-agent annotate when it is on PATH', async () => {
    const bin = path.join(dir, 'bin')
    fs.mkdirSync(bin)
    fs.writeFileSync(path.join(bin, 'buildkite-agent'), '#!/bin/sh\n', { mode: 0o755 })
    const { pod } = jobWithPod()
    const { done, annotate } = cli(['build', '-n', NS, '--for=condition=Complete'], { env: { BUILDKITE: 'true', PATH: bin } })
    await server.waitForRequest({ resource: 'pods', watch: true }, { timeoutMs: 5000 })
    server.finishPod(NS, pod, { exitCode: 0 })
    complete()
    expect(await done).toBe(0)
    expect(annotate).toHaveLength(1)
    expect(annotate[0].args).toEqual(['annotate', '--style', 'success', '--context', 'kube-job-wait'])
    expect(annotate[0].stdin).toContain('ci/build')
  })
})

describe('Screen: the engine words on a terminal', () => {
  test('a TTY: the status block redrawn in place under the log lines; cluster text cleaned', () => {
    const out = sink(true)
    const screen = new Screen(out, { color: false }, true, 'condition Complete')
    screen.io.untrusted('pod-1/main | hi\x1b[2J')
    screen.io.progress!(
      {
        state: 'waiting',
        message: 'm',
        jobs: [
          { name: 'build', snapshot: { name: 'build', pods: [] } as never, verdict: { state: 'waiting', message: '1 active' } as never }
        ],
        ignored: [],
        count: 0,
        notes: []
      },
      2000
    )
    screen.io.untrusted(['pod-1/main | again'])
    screen.end()
    expect(out.text).toBe(
      'pod-1/main | hi\n' +
        '… build [2.0s] no pods; condition Complete: 1 active\n' +
        '\x1b[1A\r\x1b[Jpod-1/main | again\n… build [2.0s] no pods; condition Complete: 1 active\n' +
        '\x1b[1A\r\x1b[J'
    )
  })

  test('not a TTY: a status line once per change, no escape code; secrets never written, debug only when asked', () => {
    const out = sink(false)
    const screen = new Screen(out, { color: false }, false, 'condition Complete')
    const overall = (message: string, elapsed: number) => {
      screen.io.progress!(
        {
          state: 'waiting',
          message,
          jobs: [{ name: 'build', snapshot: { name: 'build', pods: [] } as never, verdict: { state: 'waiting', message } as never }],
          ignored: [],
          count: 0,
          notes: []
        },
        elapsed
      )
    }
    overall('0 active', 1000)
    overall('0 active', 5000)
    overall('1 active', 6000)
    screen.io.secret('s3cret')
    screen.io.debug('stack')
    screen.io.warning('careful')
    expect(out.text).toBe(
      '… build [1.0s] no pods; condition Complete: 0 active\n… build [6.0s] no pods; condition Complete: 1 active\nwarning: careful\n'
    )
  })
})
