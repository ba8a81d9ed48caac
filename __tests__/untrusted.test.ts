// Cluster text can command the runner no more: a failing container whose
// termination message and log hold workflow commands (both forms, leading
// spaces), markdown, mentions and control characters. The bundle is run as
// the runner runs it; its stdout is read by the runner's rules
// (support/runner-commands.ts, stop tokens included) and its summary checked
// for anything live. Before the gate was wired in, the diagnosis group wrote
// these lines with core.info: the runner would have taken `::add-mask::`,
// `::stop-commands::` and the forged annotations as commands.
import { describe, expect, test } from '@jest/globals'
import { FakeApiServer } from './support/fake-apiserver.js'
import { runDist, type DistRun } from './support/run-dist.js'
import { runnerCommands } from './support/runner-commands.js'
import { HOSTILE_LINES } from '../test/cluster/sim-logs.js'

const NS = 'ci'
const hostile = HOSTILE_LINES.map((l) => l.replaceAll('{pod}', 'x'))

async function failingRun(logs: 'failed' | 'follow'): Promise<DistRun> {
  const server = new FakeApiServer({ namespaces: ['default', NS] })
  await server.start()
  try {
    const job = server.createJob(NS, { metadata: { name: 'build' } })
    const pod = server.createPodForJob(job)
    const name = pod.metadata.name
    server.setLog(NS, name, 'main', ['starting', ...hostile, 'the end'].join('\n') + '\n')
    const done = runDist({
      inputs: { job: 'build', namespace: NS, kubeconfig: server.kubeconfig(), phase: 'Succeeded', timeout: '20s', logs }
    })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 })
    server.startPod(NS, name)
    if (logs === 'follow') await server.waitForRequest({ resource: 'pods/log', status: 200 }, { timeoutMs: 10_000 })
    server.finishPod(NS, name, { exitCode: 2, message: hostile.join('\n') })
    server.updateJobStatus(NS, 'build', {
      failed: 1,
      conditions: [{ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: '::add-mask::from-a-condition' }]
    })
    return await done
  } finally {
    await server.stop()
  }
}

/** Every command the runner would run is one of ours. */
function expectOnlyOwnCommands(r: DistRun): void {
  const cmds = runnerCommands(r.stdout)
  const stops = cmds.filter((c) => c.name === 'stop-commands')
  expect(stops.length).toBeGreaterThan(0)
  const token = stops[0]!.data
  expect(token).toMatch(/^[0-9a-f]{32}$/)
  // one token per run, and every block ended
  expect(new Set(stops.map((c) => c.data))).toEqual(new Set([token]))
  expect(cmds.filter((c) => c.resumes).length).toBe(stops.length)
  const own = cmds.filter((c) => c.name !== 'stop-commands' && !c.resumes)
  const forged = own.filter((c) => /forged|hostile|legacy|mask-word|after the CR|from-a-condition/.test(`${c.line}`) && c.name !== 'error')
  expect(forged).toEqual([])
  expect(own.filter((c) => c.form !== '::')).toEqual([])
  // our masks: the kubeconfig's token
  expect(own.filter((c) => c.name === 'add-mask').map((c) => c.data)).toEqual(['token-admin'])
  expect(new Set(own.map((c) => c.name))).toEqual(
    new Set(['add-mask', 'error', ...(own.some((c) => c.name === 'group') ? ['group', 'endgroup'] : [])])
  )
  // our errors: the step's failure and the cause's annotation
  expect(own.filter((c) => c.name === 'error').map((c) => c.properties.title ?? '')).toEqual([
    'Error, exit code 2: container main (1 pod)',
    ''
  ])
  // the cause annotation quotes the termination message on one line, escaped: its data holds no raw line break
  for (const e of own.filter((c) => c.name === 'error')) expect(e.line).not.toMatch(/[\r\u001b]/)
}

function expectInertSummary(summary: string): void {
  // outside code blocks (where nothing is live): no HTML of the pod's, no live mention, no fence or details the pod closed
  const prose = summary.replace(/\n(`{3,})\w*\n[\s\S]*?\n\1\n/g, '\n')
  expect(prose).not.toMatch(/<img|<b>|<\/td>/)
  expect(prose).not.toMatch(/@octocat|@github|#1\b|repo#2/)
  expect(summary).not.toMatch(/\u001b|\u202e|\x07|\x08/)
  const details = prose.match(/<\/?details>/g) ?? []
  expect(details.filter((d) => d === '<details>').length).toBe(details.filter((d) => d === '</details>').length)
  // the log is in a fence longer than any run of backticks in it
  const log = /\n(`{5,})text\n[\s\S]*?\n\1\n/.exec(summary)
  expect(log).not.toBeNull()
  expect(log![0]).toContain('four backticks')
}

describe('cluster text cannot command the runner', () => {
  test('logs: failed: the diagnosis group and annotations of a hostile container', async () => {
    const r = await failingRun('failed')
    expect(r.outputs.result).toBe('failed')
    expectOnlyOwnCommands(r)
    expect(r.stdout).toContain('forged error annotation')
    expectInertSummary(r.summary)
  }, 30_000)

  test('logs: follow: the streamed lines too, each once, with its prefix', async () => {
    const r = await failingRun('follow')
    expect(r.outputs.result).toBe('failed')
    expectOnlyOwnCommands(r)
    const streamed = r.stdout.split('\n').filter((l) => /^\[build-\w+\/main\] /.test(l))
    expect(streamed.filter((l) => l.endsWith('] starting'))).toHaveLength(1)
    expect(streamed.filter((l) => l.endsWith('] the end'))).toHaveLength(1)
    expectInertSummary(r.summary)
  }, 30_000)
})
