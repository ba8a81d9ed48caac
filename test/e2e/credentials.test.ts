// Credentials on the real API server (RBAC, static tokens, client
// certificates): the kubeconfig input as YAML and as base64, a token and a
// client certificate, KUBECONFIG instead of the input, exactly the Role the
// README asks for, a Role without watch (polling), and no rights at all.
// Every run is also checked for leaked secrets (support/action.ts). And
// tokens that stop working mid-wait: an exec plugin whose tokens a token
// webhook (test/cluster/up.sh) accepts until the test revokes them.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT, runDist } from '../../__tests__/support/run-dist.js'
import { assertNoSecrets, expectResult, kubeconfigSecrets, runAction, type Creds } from './support/action.js'
import {
  APISERVER_PORT,
  NS,
  RESTRICTED,
  STATE,
  cleanup,
  createJob,
  kubeconfigText,
  podPhases,
  uniqueName,
  until,
  sleep
} from './support/cluster.js'

afterAll(cleanup)

describe('the secret scan every run goes through', () => {
  test('finds the token, the client key and its PEM lines, and fails a run that shows one', () => {
    const admin = kubeconfigSecrets(kubeconfigText('admin'))
    expect(admin.map((s) => s.what)).toEqual(['user kjw-admin token'])
    expect(admin[0].value).toMatch(/^[0-9a-f]{48}$/)
    const cert = kubeconfigSecrets(kubeconfigText('cert'))
    expect(cert.map((s) => s.what)).toEqual(
      expect.arrayContaining(['user kjw-cert-admin client-key-data', 'user kjw-cert-admin client key (PEM line)'])
    )
    const run = { code: 0, signal: null, stderr: '', outputs: {}, summary: '', ms: 0, lines: [] }
    const token = admin[0].value
    expect(() => assertNoSecrets({ ...run, stdout: `::add-mask::${token}\nall fine\n` }, admin)).not.toThrow()
    expect(() => assertNoSecrets({ ...run, stdout: `::add-mask::${token}\n`, summary: `token ${token}` }, admin)).toThrow(
      /token in job summary/
    )
    expect(() => assertNoSecrets({ ...run, stdout: `::add-mask::${token}\n`, outputs: { message: `x${token}x` } }, admin)).toThrow(
      /output message/
    )
    expect(() => assertNoSecrets({ ...run, stdout: 'never masked\n' }, admin)).toThrow(/not masked/)
    const pemLine = cert.find((s) => s.what.endsWith('(PEM line)'))!.value
    const masks = cert.map((s) => `::add-mask::${s.value}`).join('\n')
    expect(() => assertNoSecrets({ ...run, stdout: masks, stderr: `key: ${pemLine}` }, cert)).toThrow(/PEM line\) in stderr/)
  })
})

describe('the kubeconfig input and KUBECONFIG', () => {
  let name: string
  beforeAll(async () => {
    name = uniqueName('creds')
    await createJob({ name, sim: { 'run-ms': '-1' } })
    await until(`job ${name}'s pod Running`, async () => Object.values(await podPhases(name)).includes('Running'))
  })

  const cases: [string, Creds, string][] = [
    ['input as YAML, token (admin)', { user: 'admin', as: 'yaml' }, 'input'],
    ['input as base64, token (admin)', { user: 'admin', as: 'base64' }, 'input'],
    ['input as YAML, client certificate (cert)', { user: 'cert', as: 'yaml' }, 'input'],
    ['input as base64, client certificate (cert)', { user: 'cert', as: 'base64' }, 'input'],
    ['KUBECONFIG, no input, token (admin)', { user: 'admin', via: 'KUBECONFIG' }, 'KUBECONFIG'],
    ['KUBECONFIG, no input, client certificate (cert)', { user: 'cert', via: 'KUBECONFIG' }, 'KUBECONFIG']
  ]
  test.each(cases)('%s', async (_, creds, source) => {
    const run = await runAction({ inputs: { job: name, namespace: NS, phase: 'Running', timeout: '30s' }, creds })
    expectResult(run, 'met')
    expect(run.message).toBe('1 of 1 pod Running')
    expect(run.count).toBe(1)
    expect(Object.values(run.phases)).toEqual(['Running'])
    expect(run.job).toMatchObject({ name, namespace: NS, active: 1 })
    expect(run.stdout).toContain(`credentials: ${source}, server https://127.0.0.1:`)
    expect(run.summary).toContain(`job \`${NS}/${name}\`: met`)
  })
})

describe('restricted credentials (namespace from the kubeconfig context)', () => {
  test('role.kubeconfig, exactly the documented Role: met in kjw-restricted', async () => {
    const name = uniqueName('role')
    await createJob({ name, namespace: RESTRICTED, parallelism: 2, completions: 2, sim: { 'run-ms': '800' } })
    const run = await runAction({ inputs: { job: name, condition: 'Complete', timeout: '30s' }, creds: { user: 'role' } })
    expectResult(run, 'met')
    expect(run.message).toMatch(
      new RegExp(`^job ${RESTRICTED}/${name} completed \\((SuccessCriteriaMet|Complete)\\): 0 active, \\d of 2 succeeded, 0 failed$`)
    )
    expect(run.count).toBe(0)
    expect(Object.values(run.phases)).toEqual(['Succeeded', 'Succeeded'])
    expect(run.job).toMatchObject({ name, namespace: RESTRICTED, failed: 0 })
    expect(run.stdout).toContain(`of job ${RESTRICTED}/${name} `)
    expect(run.stdout).not.toMatch(/forbidden/i)
  })

  test('role.kubeconfig on a failing Job: the Role is enough for its logs and events in the summary', async () => {
    const name = uniqueName('rolefail')
    await createJob({
      name,
      namespace: RESTRICTED,
      sim: { 'exit-code': '3', 'run-ms': '300', log: 'loading config\npanic: role-e2e-marker' }
    })
    const run = await runAction({ inputs: { job: name, condition: 'Complete', timeout: '30s' }, creds: { user: 'role' } })
    expectResult(run, 'failed')
    expect(run.message).toMatch(new RegExp(`^job ${RESTRICTED}/${name} failed: BackoffLimitExceeded`))
    expect(run.summary).toContain('panic: role-e2e-marker')
    expect(run.stdout).not.toMatch(/forbidden/i)
  })

  test('nowatch.kubeconfig (no watch verb): falls back to polling, with a warning, and is met', async () => {
    const name = uniqueName('nowatch')
    // Pending for 3 s: the first LIST cannot already decide, the polls must
    await createJob({ name, namespace: RESTRICTED, sim: { 'run-ms': '-1', 'start-ms': '3000' } })
    const run = await runAction({
      inputs: { job: name, phase: 'Running', timeout: '30s', 'poll-interval': '1s' },
      creds: { user: 'nowatch' }
    })
    expectResult(run, 'met')
    expect(run.message).toBe('1 of 1 pod Running')
    expect(run.count).toBe(1)
    expect(Object.values(run.phases)).toEqual(['Running'])
    expect(run.job).toMatchObject({ name, namespace: RESTRICTED, active: 1 })
    const warning = run.lines.find((l) => l.line.startsWith('::warning') && /polling/.test(l.line))
    expect(warning?.line).toMatch(/watch/)
    expect(run.lines.find((l) => l.line.includes('0 of 1 pod Running'))).toBeDefined()
    expect(run.summary).toContain('poll mode')
  })

  test('norights.kubeconfig: result error naming the verb and the resource', async () => {
    const name = uniqueName('norights')
    await createJob({ name, namespace: RESTRICTED, sim: { 'run-ms': '-1' } })
    const run = await runAction({ inputs: { job: name, phase: 'Running', timeout: '30s' }, creds: { user: 'norights' } })
    expectResult(run, 'error')
    expect(run.message).toContain('cannot list resource "jobs"')
    expect(run.message).toContain('kjw-norights')
    expect(run.message).toContain(RESTRICTED)
    expect(run.count).toBe(0)
    expect(run.phases).toEqual({})
    expect(run.pods).toEqual([])
    expect(run.job).toBeNull()
    expect(run.elapsed).toBeLessThan(5)
    expect(run.stdout).toContain(`::error::${run.message}`)
  })
})

function restartApiserver(): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('bash', [path.join(ROOT, 'test/cluster/restart-apiserver.sh')], { timeout: 120_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`restart-apiserver.sh: ${stderr || err.message}`)) : resolve()
    )
  )
}

describe('credentials that expire mid-wait (an exec plugin, tokens checked by the token webhook)', () => {
  const TOKENS = { one: 'kjw-webhook-token-one-5b8e2c', two: 'kjw-webhook-token-two-91d4a7', other: 'kjw-webhook-token-other-3f6c0b' }
  /** Tokens the webhook accepts now; every token it was asked about, in order. */
  const accepted = new Set<string>()
  const reviewed: string[] = []
  let webhook: Server
  let dir: string

  beforeAll(async () => {
    // up.sh named the port in the webhook's kubeconfig and made its certificate
    const port = Number(
      /server: https:\/\/127\.0\.0\.1:(\d+)\//.exec(fs.readFileSync(path.join(STATE, 'token-webhook.kubeconfig'), 'utf8'))![1]
    )
    const pki = (f: string) => fs.readFileSync(path.join(STATE, 'pki', f))
    webhook = createServer({ cert: pki('token-webhook.crt'), key: pki('token-webhook.key') }, (req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString('utf8')))
      req.on('end', () => {
        const review = JSON.parse(body) as { spec?: { token?: string } }
        const token = review.spec?.token ?? ''
        reviewed.push(token)
        const status = accepted.has(token)
          ? { authenticated: true, user: { username: 'kjw-webhook-user', groups: ['system:masters'] } }
          : { authenticated: false, error: 'token revoked' }
        res.setHeader('Content-Type', 'application/json')
        res.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', status }))
      })
    })
    await new Promise<void>((resolve, reject) => {
      webhook.once('error', reject)
      webhook.listen(port, '127.0.0.1', () => resolve())
    })
    expect((webhook.address() as AddressInfo).port).toBe(port)
  })
  afterAll(async () => {
    webhook.closeAllConnections()
    await new Promise<void>((resolve) => webhook.close(() => resolve()))
  })
  beforeEach(() => {
    accepted.clear()
    reviewed.length = 0
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-e2e-plugin-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  /** An exec plugin printing the token its file holds, counting its runs; and a kubeconfig whose user runs it. */
  function pluginKubeconfig(): { setToken: (t: string) => void; runs: () => number; yaml: string } {
    const tokenFile = path.join(dir, 'token')
    const runsFile = path.join(dir, 'runs')
    const script = path.join(dir, 'get-token.cjs')
    fs.writeFileSync(runsFile, '')
    fs.writeFileSync(
      script,
      `const fs = require('node:fs')
fs.appendFileSync(process.argv[3], 'x')
const token = fs.readFileSync(process.argv[2], 'utf8').trim()
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } }))
`
    )
    const ca = fs.readFileSync(path.join(STATE, 'pki', 'ca.crt')).toString('base64')
    const yaml = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: kjw',
      '    cluster:',
      `      server: https://127.0.0.1:${APISERVER_PORT}`,
      `      certificate-authority-data: ${ca}`,
      'users:',
      '  - name: kjw-exec',
      '    user:',
      '      exec:',
      '        apiVersion: client.authentication.k8s.io/v1',
      `        command: ${JSON.stringify(process.execPath)}`,
      `        args: [${JSON.stringify(script)}, ${JSON.stringify(tokenFile)}, ${JSON.stringify(runsFile)}]`,
      '        interactiveMode: Never',
      'contexts:',
      '  - name: kjw-exec',
      '    context: { cluster: kjw, user: kjw-exec, namespace: ' + NS + ' }',
      'current-context: kjw-exec',
      ''
    ].join('\n')
    return { setToken: (t) => fs.writeFileSync(tokenFile, t), runs: () => fs.readFileSync(runsFile, 'utf8').length, yaml }
  }

  /** Starts a wait in poll mode (a request every second: each is authenticated anew) and revokes the plugin's token mid-wait. */
  async function revokeMidWait(next: { plugin: string; webhook: string }, runMs: string, o: { watch?: boolean } = {}) {
    const plugin = pluginKubeconfig()
    plugin.setToken(TOKENS.one)
    accepted.add(TOKENS.one)
    const name = uniqueName('expiring')
    await createJob({ name, sim: { 'run-ms': runMs } })
    const lines: { t: number; line: string }[] = []
    const running = runDist({
      inputs: {
        job: name,
        namespace: NS,
        condition: 'Complete',
        ...(o.watch ? {} : { mode: 'poll', 'poll-interval': '1s' }),
        timeout: '60s',
        kubeconfig: plugin.yaml
      },
      killAfterMs: 90_000,
      lines
    })
    await until(
      'the first requests, with the first token',
      async () => reviewed.includes(TOKENS.one) && lines.some((l) => l.line.startsWith('Waiting for')),
      20_000
    )
    await sleep(1500) // a poll or two with it
    accepted.clear()
    accepted.add(next.webhook)
    plugin.setToken(next.plugin)
    // Open watches are not authenticated again: a restart of kube-apiserver (an upgrade, say) ends them.
    if (o.watch) await restartApiserver()
    const run = await running
    return { run, plugin, name }
  }

  test('the plugin is run again on the 401, the request retried, and the wait ends met; both tokens masked', async () => {
    // kube-apiserver keeps accepting a token for up to 10 s after the webhook last did: the Job runs well past that
    const { run, plugin, name } = await revokeMidWait({ plugin: TOKENS.two, webhook: TOKENS.two }, '20000')
    expect({ result: run.outputs.result, message: run.outputs.message }).toEqual({
      result: 'met',
      message: expect.stringMatching(new RegExp(`^job ${NS}/${name} completed`))
    })
    expect(plugin.runs()).toBe(2)
    expect(reviewed).toContain(TOKENS.two)
    assertNoSecrets(run, [
      { what: 'the first token', value: TOKENS.one },
      { what: 'the token after the refresh', value: TOKENS.two }
    ])
  })

  test('watch mode: kube-apiserver restarts after the revocation; the LIST again is refused, the plugin runs again, met', async () => {
    const { run, plugin, name } = await revokeMidWait({ plugin: TOKENS.two, webhook: TOKENS.two }, '20000', { watch: true })
    expect({ result: run.outputs.result, message: run.outputs.message }).toEqual({
      result: 'met',
      message: expect.stringMatching(new RegExp(`^job ${NS}/${name} completed`))
    })
    expect(plugin.runs()).toBe(2)
    assertNoSecrets(run, [
      { what: 'the first token', value: TOKENS.one },
      { what: 'the token after the refresh', value: TOKENS.two }
    ])
  })

  test('the fresh token refused too: result error, naming the plugin and what to check', async () => {
    const { run, plugin } = await revokeMidWait({ plugin: TOKENS.two, webhook: TOKENS.other }, '-1')
    expect(run.outputs.result).toBe('error')
    expect(run.outputs.message).toMatch(
      /: the API server rejected the credentials \(401 Unauthorized\): the exec plugin '.+' of user 'kjw-exec' of the 'kubeconfig' input was run again and its fresh credentials were refused too: check that the identity it logs in as may still use the cluster$/
    )
    expect(plugin.runs()).toBe(2)
    assertNoSecrets(run, [
      { what: 'the first token', value: TOKENS.one },
      { what: 'the token after the refresh', value: TOKENS.two }
    ])
  })
})
