// logs: follow on the real control plane: the kubelet simulator writes each
// container's log over time with its own timestamps and serves follow,
// sinceTime (whole seconds) and previous as a kubelet does; the API server
// relays pods/log. Every line of every container, once, in order.
import { execFile } from 'node:child_process'
import * as path from 'node:path'
import { afterEach, describe, expect, test } from '@jest/globals'
import { ROOT } from '../../__tests__/support/run-dist.js'
import { runnerCommands } from '../../__tests__/support/runner-commands.js'
import { expectResult, runAction, type ActionRun } from './support/action.js'
import { NS, cleanup, createJob, kubectl, sleep, uniqueName, until } from './support/cluster.js'

afterEach(cleanup)

interface Streamed {
  pod: string
  container: string
  restart: number
  text: string
}

/** The lines the follower wrote: `[pod/container] text` or `[pod/container restart N] text`. */
function streamed(run: Pick<ActionRun, 'stdout'>): Streamed[] {
  const out: Streamed[] = []
  for (const line of run.stdout.split('\n')) {
    const m = /^\[([a-z0-9.-]+)\/([a-z0-9-]+)(?: restart (\d+))?\] (.*)$/.exec(line)
    if (m) out.push({ pod: m[1]!, container: m[2]!, restart: Number(m[3] ?? 0), text: m[4]! })
  }
  return out
}

/** The numbered lines of one pod (`POD/C attempt A line K`), as K in the order shown. */
function numbered(lines: Streamed[], pod: string, attempt = 1): number[] {
  const re = new RegExp(`^${pod}/main attempt ${attempt} line (\\d+)\\b`)
  return lines
    .filter((l) => l.pod === pod)
    .map((l) => re.exec(l.text))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1)

function restartApiserver(mode: 'stop' | 'start'): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('bash', [path.join(ROOT, 'test/cluster/restart-apiserver.sh'), mode], { timeout: 120_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`restart-apiserver.sh ${mode}: ${stderr || err.message}`)) : resolve()
    )
  )
}

describe('logs: follow', () => {
  test('a Job whose first pod fails and whose replacement succeeds: every line of both, once, in order', async () => {
    const name = uniqueName('logretry')
    await createJob({ name, backoffLimit: 1, sim: { 'fail-attempts': '1', 'exit-code': '3', 'log-rate': '20', 'log-lines': '20' } })
    const run = await runAction({ inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '90s', logs: 'follow' } })
    expectResult(run, 'met')
    const pods = Object.keys(run.phases)
    expect(pods).toHaveLength(2)
    const lines = streamed(run)
    for (const pod of pods) {
      expect(numbered(lines, pod)).toEqual(range(20))
      expect(lines.filter((l) => l.pod === pod && /starting$/.test(l.text))).toHaveLength(1)
    }
    expect(lines.filter((l) => / exiting with code 3$/.test(l.text))).toHaveLength(1)
    expect(lines.filter((l) => / exiting with code 0$/.test(l.text))).toHaveLength(1)
  })

  test('a pod that runs 50 ms still shows its whole log', async () => {
    const name = uniqueName('logfast')
    await createJob({ name, sim: { 'start-ms': '0', 'run-ms': '50' } })
    const run = await runAction({ inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '60s', logs: 'follow' } })
    expectResult(run, 'met')
    const [pod] = Object.keys(run.phases)
    expect(streamed(run).map((l) => l.text)).toEqual([
      `line 1: ${pod}/main attempt 1 starting`,
      `line 2: ${pod}/main attempt 1 working`,
      `line 3: ${pod}/main attempt 1 exiting with code 0`
    ])
  })

  test('30 pods with log-max-streams 10: every line of every pod, said once that streams are limited', async () => {
    const name = uniqueName('logmany')
    await createJob({ name, parallelism: 30, completions: 30, sim: { 'run-ms': '3000' } })
    const run = await runAction({
      inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '90s', logs: 'follow', 'log-max-streams': '10' }
    })
    expectResult(run, 'met')
    const pods = Object.keys(run.phases)
    expect(pods).toHaveLength(30)
    const lines = streamed(run)
    for (const pod of pods) {
      expect(lines.filter((l) => l.pod === pod).map((l) => l.text.replace(/^line (\d): .*/, '$1'))).toEqual(['1', '2', '3'])
    }
    expect(run.stdout.match(/log-max-streams \(10\) streams are open/g)).toHaveLength(1)
  })

  test('an OnFailure container that restarts twice: each instance, marked, once', async () => {
    const name = uniqueName('logrestart')
    await createJob({ name, restartPolicy: 'OnFailure', backoffLimit: 5, sim: { 'crash-loop': '2', 'run-ms': '1500' } })
    const run = await runAction({ inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '60s', logs: 'follow' } })
    expectResult(run, 'met')
    const [pod] = Object.keys(run.phases)
    const lines = streamed(run).filter((l) => !l.text.startsWith('---'))
    expect(lines.map((l) => `${l.restart} ${l.text}`)).toEqual([
      `0 line 1: ${pod}/main attempt 1 starting`,
      `0 line 2: ${pod}/main attempt 1 working`,
      `0 line 3: ${pod}/main attempt 1 exiting with code 1`,
      `1 line 1: ${pod}/main attempt 2 starting`,
      `1 line 2: ${pod}/main attempt 2 working`,
      `1 line 3: ${pod}/main attempt 2 exiting with code 1`,
      `2 line 1: ${pod}/main attempt 3 starting`,
      `2 line 2: ${pod}/main attempt 3 working`,
      `2 line 3: ${pod}/main attempt 3 exiting with code 0`
    ])
    expect(
      streamed(run)
        .filter((l) => l.text.startsWith('--- restart'))
        .map((l) => l.restart)
    ).toEqual([1, 2])
  })

  test('a container that prints workflow commands, markdown, mentions and controls: no command but ours, an inert summary', async () => {
    const name = uniqueName('loghostile')
    await createJob({ name, sim: { 'log-hostile': 'true', 'exit-code': '1' } })
    const run = await runAction({ inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '60s', logs: 'follow' } })
    expectResult(run, 'failed')
    const cmds = runnerCommands(run.stdout)
    const stops = cmds.filter((c) => c.name === 'stop-commands')
    expect(stops.length).toBeGreaterThan(0)
    expect(new Set(stops.map((c) => c.data)).size).toBe(1)
    expect(stops[0]!.data).toMatch(/^[0-9a-f]{32}$/)
    const own = cmds.filter((c) => c.name !== 'stop-commands' && !c.resumes)
    expect(own.filter((c) => c.form !== '::')).toEqual([])
    expect(own.filter((c) => c.name === 'add-mask' && /hostile|legacy/.test(c.data))).toEqual([])
    expect(own.filter((c) => c.properties.title && /forged|hostile/.test(c.properties.title))).toEqual([])
    expect(own.filter((c) => ['warning', 'set-output', 'save-state', 'stop-commands'].includes(c.name))).toEqual([])
    // every hostile line was shown (as text), with its pod and container
    const [pod] = Object.keys(run.phases)
    const lines = streamed(run).filter((l) => l.pod === pod)
    expect(lines.some((l) => l.text.includes('::add-mask::hostile-mask-word'))).toBe(true)
    expect(lines.some((l) => l.text.includes('##[\\group]legacy group'))).toBe(true)
    // the summary's log tail comes from what was streamed, fenced; nothing live outside the fences
    const prose = run.summary.replace(/\n(`{3,})\w*\n[\s\S]*?\n\1\n/g, '\n')
    expect(run.summary).toContain('```` four backticks then ``` three')
    expect(prose).not.toMatch(/<img|<b>|<\/td>|@octocat|\u001b|\u202e/)
  })
})

/** Every line of each instance of an OnFailure pod's container, as `RESTART TEXT`, in order (lines of our own left out). */
function byInstance(run: ActionRun): string[] {
  return streamed(run)
    .filter((l) => !l.text.startsWith('---'))
    .map((l) => `${l.restart} ${l.text}`)
}

/** What attempt A (1-based) prints with the default log, log-rate and `log-lines: n`, under restart A-1. */
function attemptLines(pod: string, attempt: number, n: number, exitCode: number): string[] {
  const who = `${pod}/main attempt ${attempt}`
  const r = attempt - 1
  return [
    `${r} line 1: ${who} starting`,
    `${r} line 2: ${who} working`,
    ...range(n).map((k) => `${r} ${who} line ${k}`),
    `${r} line 3: ${who} exiting with code ${exitCode}`
  ]
}

describe('logs: follow, the status behind the kubelet (status-lag-ms)', () => {
  test('restarts the status shows 2.5 s late: every line once, under the instance that printed it', async () => {
    const name = uniqueName('loglag')
    // Each restart is at once; the kubelet serves the new instance as current while the API still says the old one runs.
    await createJob({
      name,
      restartPolicy: 'OnFailure',
      backoffLimit: 5,
      sim: { 'crash-loop': '2', 'status-lag-ms': '2500', 'run-ms': '4000', 'log-rate': '5', 'log-lines': '15' }
    })
    const run = await runAction({ inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '90s', logs: 'follow' } })
    expectResult(run, 'met')
    const [pod] = Object.keys(run.phases)
    expect(byInstance(run)).toEqual([...attemptLines(pod!, 1, 15, 1), ...attemptLines(pod!, 2, 15, 1), ...attemptLines(pod!, 3, 15, 0)])
    expect(
      streamed(run)
        .filter((l) => l.text.startsWith('--- restart'))
        .map((l) => l.restart)
    ).toEqual([1, 2])
  })

  test('the API server killed mid-follow, a restart meanwhile that the status shows late: every line once, under its instance', async () => {
    const name = uniqueName('loglagkill')
    await createJob({
      name,
      restartPolicy: 'OnFailure',
      backoffLimit: 5,
      sim: { 'crash-loop': '1', 'status-lag-ms': '2500', 'run-ms': '6000', 'log-rate': '10', 'log-lines': '50' }
    })
    const lines: { t: number; line: string }[] = []
    const running = runAction({ inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '120s', logs: 'follow' }, lines })
    await until(
      '20 lines of the first instance',
      async () => lines.filter((l) => / attempt 1 line \d+$/.test(l.line)).length >= 20,
      30_000,
      100
    )
    // Down 4 s: the first instance ends and the next starts meanwhile; the follow and the watch both break.
    await restartApiserver('stop')
    await sleep(4_000)
    await restartApiserver('start')
    const run = await running
    expectResult(run, 'met')
    const [pod] = Object.keys(run.phases)
    expect(byInstance(run)).toEqual([...attemptLines(pod!, 1, 50, 1), ...attemptLines(pod!, 2, 50, 0)])
  })
})

describe('logs: follow through faults', () => {
  test('kube-apiserver killed (SIGKILL) mid-stream: nothing lost, nothing twice', async () => {
    const name = uniqueName('logkill')
    await createJob({ name, sim: { 'run-ms': '11000', 'log-rate': '20', 'log-lines': '200' } })
    const lines: { t: number; line: string }[] = []
    const running = runAction({
      inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '90s', logs: 'follow' },
      lines
    })
    await until('40 lines streamed', async () => lines.filter((l) => / line \d+$/.test(l.line)).length >= 40, 30_000, 100)
    await restartApiserver('stop')
    await sleep(3_000)
    await restartApiserver('start')
    const run = await running
    expectResult(run, 'met')
    const [pod] = Object.keys(run.phases)
    expect(numbered(streamed(run), pod!)).toEqual(range(200))
    expect(run.stdout).toMatch(/a log stream broke|retrying in/)
  })

  test('credentials without the pods/log right: one line saying so; the verdict as without logs', async () => {
    // kjw-norights, given for this test a Role in kjw-e2e that reads Jobs, pods and events but not pods/log
    const role = uniqueName('nolog')
    const manifest = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: role, namespace: NS },
          rules: [
            { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
            { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
            { apiGroups: [''], resources: ['events'], verbs: ['list'] }
          ]
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: role, namespace: NS },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kjw-norights' }]
        }
      ]
    }
    await kubectl(['apply', '-f', '-'], JSON.stringify(manifest))
    try {
      const name = uniqueName('lognolog')
      await createJob({ name, sim: { 'exit-code': '2' } })
      const run = await runAction({
        inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '60s', logs: 'follow' },
        creds: { user: 'norights' }
      })
      expectResult(run, 'failed')
      const said = run.stdout.split('\n').filter((l) => l.includes('no permission to get pods/log'))
      expect(said[0]).toBe(`no permission to get pods/log in namespace ${NS}: logs not shown (grant get on pods/log)`)
      expect(streamed(run)).toEqual([])
      expect(run.summary).toContain('no permission to get pods/log')
    } finally {
      await kubectl(['delete', 'role,rolebinding', role, '-n', NS, '--ignore-not-found'])
    }
  })

  test('a kubelet the API server cannot reach: one line saying so, the verdict not delayed', async () => {
    // The API server dials the kubelet at the port the Node reports: point it at a closed one for this test.
    const closed = '1'
    const node = JSON.parse(await kubectl(['get', 'node', 'kjw-node', '-o', 'json']))
    const port = String(node.status.daemonEndpoints.kubeletEndpoint.Port)
    const setPort = (p: string) =>
      kubectl([
        'patch',
        'node',
        'kjw-node',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { daemonEndpoints: { kubeletEndpoint: { Port: Number(p) } } } })
      ])
    await setPort(closed)
    try {
      const name = uniqueName('logunreach')
      await createJob({ name, sim: { 'run-ms': '3000' } })
      const run = await runAction({ inputs: { job: name, namespace: NS, condition: 'Complete', timeout: '60s', logs: 'follow' } })
      expectResult(run, 'met')
      const said = run.stdout.split('\n').filter((l) => l.includes('cannot reach the kubelet'))
      expect(said).toHaveLength(1)
      expect(said[0]).toMatch(/dial tcp 127\.0\.0\.1:1: connect: connection refused/)
      expect(streamed(run)).toEqual([])
      // the Job's end comes about 1 s after its pod's 3 s; no drain is spent on a kubelet out of reach
      expect(run.elapsed).toBeLessThan(7)
    } finally {
      await setPort(port)
    }
  })
})
