// The CLI as a user installs it: `npm pack`, `npm install -g` of the tarball
// into an empty prefix (nothing fetched: the package has no runtime
// dependency), then `kube-job-wait` and `kubectl-job_wait` from that prefix
// against the real control plane. Exit codes, -o json, --junit, a cancel, the
// plugin's kubectl conventions, and the same Job waited for by the action
// and the CLI with the same verdict, pods and logs.
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals'
import { KubeConfig } from '@kubernetes/client-node'
import { validateXML } from 'xmllint-wasm'
import { ROOT } from '../../__tests__/support/run-dist.js'
import { expectResult, runAction } from './support/action.js'
import { NS, auditOffset, auditRequests, cleanup, createJob, getJob, kubeconfigPath, sleep, uniqueName, until } from './support/cluster.js'

afterEach(cleanup)

let prefix: string
let work: string

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-cli-e2e-'))
  // prepack builds dist/cli; the tarball is what npm install -g gets
  const tarball = execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!
  prefix = path.join(work, 'prefix')
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', path.join(work, tarball)], {
    cwd: work,
    stdio: 'pipe'
  })
}, 120_000)

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true })
})

interface CliRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** The installed program, with a kubeconfig file as kubectl takes it; no colour, not a TTY (a CI log). */
function cli(
  args: string[],
  opts: { bin?: string; env?: NodeJS.ProcessEnv; onStdout?: (text: string, pid: number) => void; killAfterMs?: number } = {}
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(prefix, 'bin', opts.bin ?? 'kube-job-wait'), args, {
      env: { PATH: process.env.PATH, HOME: work, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      opts.onStdout?.(stdout, child.pid!)
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const kill = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 100_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(kill)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

const asCert = ['--kubeconfig', kubeconfigPath('cert')]
const CERT_USER = 'kjw-cert-admin'

const failing = (name: string, labels?: Record<string, string>) =>
  createJob({ name, labels, sim: { 'exit-code': '3', 'run-ms': '500', log: 'loading config\npanic: cli-e2e-marker' } })

describe('kube-job-wait, packed and installed', () => {
  test('--version from the installed prefix', async () => {
    const r = await cli(['--version'])
    expect(r).toMatchObject({ code: 0, stdout: 'kube-job-wait 0.1.0\n', stderr: '' })
  })

  test('met: exit 0, the report on stdout; the recording of a real run', async () => {
    const name = uniqueName('cli-met')
    await createJob({ name, completions: 2, parallelism: 2, sim: { 'run-ms': '1500', log: 'migrating\ndone' } })
    const r = await cli([...asCert, `job/${name}`, '-n', NS, '--for=condition=Complete', '--logs=follow', '--timeout=60s'])
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    expect(r.stdout).toMatch(new RegExp(`^Waiting for condition Complete of job ${NS}/${name}`))
    expect(r.stdout).toContain(`✓ job ${NS}/${name}: met after`)
    expect(r.stdout).not.toContain('\x1b')
    // the final report fits 80 columns (the lines while waiting are a CI log's: as long as they are)
    const report = r.stdout.slice(r.stdout.indexOf(`✓ job ${NS}/${name}: met after`))
    expect(Math.max(...report.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(80)
    if (process.env.UPDATE_RECORDING === '1') {
      const cmd = `$ kube-job-wait job/${name} -n ${NS} --for=condition=Complete --logs=follow --timeout=60s\n`
      fs.writeFileSync(path.join(ROOT, 'docs', 'cli-recording.txt'), cmd + r.stdout)
    }
  })

  test('failed with logs: exit 1, the pod cause and its log tail; -o json has the fields of the action outputs', async () => {
    const name = uniqueName('cli-fail')
    await failing(name)
    const r = await cli([...asCert, name, '-n', NS, '--for=condition=Finished', '-o', 'json', '--timeout=60s'])
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout) as Record<string, unknown>
    expect(Object.keys(out).sort()).toEqual(
      expect.arrayContaining(['count', 'elapsed', 'exit-code', 'job', 'message', 'phases', 'pods', 'result'])
    )
    expect(out).toMatchObject({ result: 'failed', 'exit-code': '3' })
    expect(out.pods).toEqual([expect.objectContaining({ phase: 'Failed', exitCodes: { main: 3 } })])
    // the human report went to stderr
    expect(r.stderr).toContain(`✗ job ${NS}/${name}: failed after`)
    expect(r.stderr).toContain('│ panic: cli-e2e-marker')
  })

  test('-f FILE: the Job created from a manifest, waited for, then deleted (--delete)', async () => {
    const name = uniqueName('cli-create')
    const file = path.join(work, `${name}.yaml`)
    fs.writeFileSync(
      file,
      [
        'apiVersion: batch/v1',
        'kind: Job',
        `metadata: {name: ${name}}`,
        'spec:',
        '  backoffLimit: 0',
        '  template:',
        "    metadata: {annotations: {sim.kjw.dev/run-ms: '1000'}}",
        '    spec:',
        '      restartPolicy: Never',
        '      containers: [{name: main, image: busybox:1.36, command: [sh, -c, "true"]}]'
      ].join('\n')
    )
    const r = await cli([...asCert, '-f', file, '-n', NS, '--for=condition=Complete', '--delete', '-o', 'json', '--timeout=60s'])
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 })
    expect(JSON.parse(r.stdout)).toMatchObject({ result: 'met', created: [`${NS}/${name}`], deleted: [`${NS}/${name}`] })
    await until(`job ${name} deleted`, async () => (await getJob(name)) === undefined || undefined, 30_000)
  })

  test('timeout: exit 3', async () => {
    const name = uniqueName('cli-timeout')
    await createJob({ name, sim: { 'run-ms': '-1' } })
    const r = await cli([...asCert, name, '-n', NS, '--for=condition=Complete', '--timeout=3s'])
    expect(r.code).toBe(3)
    expect(r.stdout).toContain(`⏱ job ${NS}/${name}: timeout after`)
  })

  test('several Jobs by selector, --junit: exit 1, one testsuite per Job, one testcase per pod, valid JUnit XML', async () => {
    const suite = uniqueName('suite')
    const labels = { 'kjw.dev/suite': suite }
    const ok = uniqueName('cli-sel-ok')
    const bad = uniqueName('cli-sel-bad')
    const junit = path.join(work, `${suite}.xml`)
    // the CLI first: a Job that finished before the wait began is an earlier run's, not counted
    const running = cli(
      [
        ...asCert,
        '-l',
        `kjw.dev/suite=${suite}`,
        '--expected-jobs=2',
        '--fail-fast=false',
        '-n',
        NS,
        '--for=condition=Complete',
        '--junit',
        junit,
        '-o',
        'json',
        '--timeout=60s'
      ],
      { onStdout: () => undefined }
    )
    await sleep(1_000)
    await createJob({ name: ok, labels, completions: 2, parallelism: 2, sim: { 'run-ms': '800' } })
    await failing(bad, labels)
    const r = await running
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout) as { result: string; jobs: Record<string, { result: string }> }
    expect(out.result).toBe('failed')
    expect(Object.fromEntries(Object.entries(out.jobs).map(([k, v]) => [k, v.result]))).toEqual({ [ok]: 'met', [bad]: 'failed' })
    const xml = fs.readFileSync(junit, 'utf8')
    const suites = [...xml.matchAll(/<testsuite [^>]*name="([^"]+)"[^>]*tests="(\d+)"/g)].map((m) => [m[1], Number(m[2])])
    expect(suites.sort()).toEqual(
      [
        [`${NS}/${ok}`, 2],
        [`${NS}/${bad}`, 1]
      ].sort()
    )
    expect(xml).toContain('panic: cli-e2e-marker')
    const schema = fs.readFileSync(path.join(ROOT, '__tests__', 'support', 'junit-10.xsd'), 'utf8')
    const valid = await validateXML({
      xml: [{ fileName: 'junit.xml', contents: xml }],
      schema: [{ fileName: 'junit-10.xsd', contents: schema }]
    })
    expect(valid.errors).toEqual([])
  })

  test('SIGINT: exit 130, the report still written, --on-cancel=delete deletes the Job', async () => {
    const name = uniqueName('cli-cancel')
    await createJob({ name, sim: { 'run-ms': '-1' } })
    const summary = path.join(work, `${name}.md`)
    let sent = false
    const r = await cli(
      [...asCert, name, '-n', NS, '--for=condition=Complete', '--on-cancel=delete', '--summary', summary, '--timeout=60s'],
      {
        onStdout: (text, pid) => {
          // once its pod is seen: the wait is on
          if (!sent && / 1 (Pending|Running)/.test(text)) {
            sent = true
            process.kill(pid, 'SIGINT')
          }
        }
      }
    )
    expect(sent).toBe(true)
    expect(r.code).toBe(130)
    expect(r.stdout).toContain(`⊘ job ${NS}/${name}: cancelled after`)
    expect(r.stdout).toContain(`deleted job ${NS}/${name}`)
    expect(fs.readFileSync(summary, 'utf8')).toContain('cancelled')
    await until(`job ${name} gone or going`, async () => {
      const job = await getJob(name)
      return !job || job.metadata.deletionTimestamp !== undefined
    })
  })

  test('a usage error: exit 2, one line, no API request', async () => {
    const offset = auditOffset()
    const r = await cli([...asCert, 'some-job', '-n', NS, '--for=condition=Done'])
    expect(r).toMatchObject({ code: 2, stdout: '' })
    expect(r.stderr).toBe(
      "kube-job-wait: --for=condition has an invalid value 'Done': expected one of Complete, Failed, Finished, Suspended\n"
    )
    await sleep(500)
    expect(auditRequests(offset, CERT_USER)).toEqual({ total: 0, byKind: {} })
  })

  test('kubectl-job_wait: --kubeconfig and --context as kubectl reads them, the namespace from the context', async () => {
    const name = uniqueName('cli-plugin')
    await createJob({ name, sim: { 'run-ms': '500' } })
    // a kubeconfig whose second context points at the test namespace; the current one at default
    const kc = path.join(work, 'plugin.kubeconfig')
    fs.writeFileSync(kc, withContext(kubeconfigPath('cert'), 'e2e', NS))
    const r = await cli(['--kubeconfig', kc, '--context', 'e2e', name, '--for=condition=Complete', '--timeout=60s'], {
      bin: 'kubectl-job_wait',
      env: { KUBECONFIG: path.join(work, 'no-such-file') }
    })
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    expect(r.stdout).toContain(`✓ job ${NS}/${name}: met after`)
    const help = await cli(['--help'], { bin: 'kubectl-job_wait' })
    expect(help.stdout).toContain('kubectl job-wait [job/]NAME...')
  })

  test('the same Job waited for by the action and by the CLI: the same verdict, pods and logs', async () => {
    const name = uniqueName('cli-same')
    await failing(name)
    const inputs = { job: name, namespace: NS, condition: 'Finished', timeout: '60s' }
    const action = await runAction({ inputs, creds: { user: 'cert' } })
    expectResult(action, 'failed')
    const r = await cli([...asCert, name, '-n', NS, '--for=condition=Finished', '-o', 'json', '--timeout=60s'])
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout) as { result: string; message: string; pods: unknown[]; phases: unknown }
    expect({ result: out.result, message: out.message, pods: out.pods, phases: out.phases }).toEqual({
      result: action.result,
      message: action.message,
      pods: action.pods,
      phases: action.phases
    })
    // the log tail: in the action's summary, in the CLI's report
    expect(action.summary).toContain('panic: cli-e2e-marker')
    expect(r.stderr).toContain('│ panic: cli-e2e-marker')
  })
})

/** The kubeconfig with one more context: the current one's cluster and user, in `namespace`. */
function withContext(file: string, name: string, namespace: string): string {
  const kc = new KubeConfig()
  kc.loadFromFile(file)
  const current = kc.getContextObject(kc.getCurrentContext())!
  kc.addContext({ name, cluster: current.cluster, user: current.user, namespace })
  return kc.exportConfig()
}

describe('the single executable (npm run sea)', () => {
  const exe = path.join(ROOT, 'sea', 'kube-job-wait')
  beforeAll(() => {
    execFileSync('npm', ['run', 'sea', '--silent'], { cwd: ROOT, stdio: 'pipe' })
  }, 120_000)

  test('runs --version without Node on the PATH, and waits for a Job on the cluster', async () => {
    const run = (args: string[]) =>
      new Promise<CliRun>((resolve) => {
        const child = spawn(exe, args, { env: { PATH: '/nonexistent', HOME: work }, stdio: ['ignore', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
      })
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: 'kube-job-wait 0.1.0\n', stderr: '' })
    const name = uniqueName('cli-sea')
    await createJob({ name, sim: { 'run-ms': '500' } })
    const r = await run([...asCert, name, '-n', NS, '--for=condition=Complete', '--timeout=60s'])
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    expect(r.stdout).toContain(`✓ job ${NS}/${name}: met after`)
  })
})
