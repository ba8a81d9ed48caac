// Secrets in the kubeconfig never reach anything a person can read: not the
// log (stdout, stderr, debug lines included), not the outputs, not the job
// summary, not a file. And the runner is told to mask each one (::add-mask::),
// so that whatever prints it later (a pod log that echoes it, say) is masked
// too. Through dist/index.js, on every way a wait ends.
import { afterAll, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { b64, testPki } from './support/certs.js'
import { FakeApiServer } from './support/fake-apiserver.js'
import { ROOT } from './support/run-dist.js'
import { startTlsFront, type Front } from './support/servers.js'
import { kubeconfigYaml, masks, runStep, shownStdout, type StepRun } from './support/step.js'

const NS = 'ci'
const pki = testPki()
const SECRET = {
  token: 'kjw-token-4f9c2e7a1b3d5f60',
  otherToken: 'kjw-other-token-9e8d7c6b5a4f',
  username: 'ci-bot',
  password: 'kjw-pass-Zq7!x2#Lm9',
  keyData: b64(pki.client.key),
  /** the PEM lines of the key, each a secret once decoded */
  keyLines: pki.client.key.trim().split('\n'),
  certData: b64(pki.client.cert)
}
/** What a client would send for basic auth: never shown either. */
const BASIC = Buffer.from(`${SECRET.username}:${SECRET.password}`).toString('base64')

const everySecret = (): string[] => [
  SECRET.token,
  SECRET.otherToken,
  SECRET.password,
  SECRET.keyData,
  BASIC,
  ...SECRET.keyLines,
  'PRIVATE KEY'
]

/**
 * The current user carries a token (used: Bearer wins over basic auth),
 * basic-auth credentials and a client certificate and key (unused over plain
 * HTTP); a second user has a token of its own. Every one must be masked.
 */
function kubeconfigFor(url: string, o: { user?: Record<string, unknown> } = {}): string {
  return kubeconfigYaml({
    clusters: [{ name: 'fake', server: url, insecure: true }],
    users: [
      {
        name: 'ci',
        fields: o.user ?? {
          token: SECRET.token,
          username: SECRET.username,
          password: SECRET.password,
          'client-certificate-data': SECRET.certData,
          'client-key-data': SECRET.keyData
        }
      },
      { name: 'other', fields: { token: SECRET.otherToken } }
    ],
    contexts: [
      { name: 'fake', cluster: 'fake', user: 'ci', namespace: NS },
      { name: 'other', cluster: 'fake', user: 'other' }
    ],
    currentContext: 'fake'
  })
}

/** Nothing shown anywhere holds a secret; every secret was masked; no file holds the kubeconfig. */
function expectNoLeak(r: StepRun, kubeconfig: string, o: { masked?: string[] } = {}): void {
  const shown: Record<string, string> = {
    stdout: shownStdout(r.stdout),
    stderr: r.stderr,
    outputs: Object.entries(r.outputs)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    summary: r.summary
  }
  for (const f of r.files) shown[`file ${f.path}`] = f.content
  const leaks: string[] = []
  for (const [where, text] of Object.entries(shown)) {
    for (const s of everySecret()) if (text.includes(s)) leaks.push(`${where} contains ${s.slice(0, 12)}…`)
    for (const line of kubeconfig.split('\n').filter((l) => /token|password|key-data/.test(l)))
      if (text.includes(line.trim())) leaks.push(`${where} contains the kubeconfig line ${line.trim().slice(0, 20)}…`)
  }
  expect(leaks).toEqual([])
  // The action keeps the kubeconfig in memory: it writes no file under HOME, RUNNER_TEMP or TMPDIR.
  expect(r.files.map((f) => f.path)).toEqual([])
  const masked = masks(r.stdout)
  for (const s of o.masked ?? [
    SECRET.token,
    SECRET.otherToken,
    SECRET.password,
    SECRET.keyData,
    ...SECRET.keyLines.filter((l) => !l.startsWith('-----'))
  ]) {
    expect({ masked: masked.includes(s), secret: s.slice(0, 12) }).toEqual({ masked: true, secret: s.slice(0, 12) })
  }
}

/** No file in the working directory (the checkout) written during the run holds a secret. */
function expectNothingInCwd(since: number): void {
  for (const e of fs.readdirSync(ROOT, { withFileTypes: true })) {
    if (!e.isFile()) continue
    const p = path.join(ROOT, e.name)
    if (fs.statSync(p).mtimeMs < since) continue
    const text = fs.readFileSync(p, 'latin1')
    expect({ file: p, leaks: everySecret().filter((s) => text.includes(s)) }).toEqual({ file: p, leaks: [] })
  }
}

const since = Date.now()
afterAll(() => expectNothingInCwd(since))

/** Each test its own fake API server (and TLS front): the tests run concurrently. */
async function withServer(fn: (server: FakeApiServer, tls: Front) => Promise<void>): Promise<void> {
  const server = new FakeApiServer({ namespaces: ['default', NS], users: { 'ci-bot': { token: SECRET.token, allow: '*' } } })
  await server.start()
  const tls = await startTlsFront({ server: pki.server, clientCa: pki.ca, upstream: server.url, upstreamToken: SECRET.token })
  try {
    await fn(server, tls)
  } finally {
    await tls.stop()
    await server.stop()
  }
}

const inputs = (kubeconfig: string, extra: Record<string, string> = {}) => ({
  job: 'build',
  kubeconfig,
  timeout: '20s',
  'log-lines': '30',
  ...extra
})

describe('kubeconfig input with a token, a password and a client key', () => {
  test.concurrent('met', () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url)
      const job = server.createJob(NS, { metadata: { name: 'build' } })
      server.startPod(NS, server.createPodForJob(job).metadata.name)
      const r = await runStep({ inputs: inputs(kc) })
      expect(r.outputs.result).toBe('met')
      expectNoLeak(r, kc)
    })
  )

  test.concurrent('failed, with a pod log in the summary', () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url)
      const job = server.createJob(NS, { metadata: { name: 'build' } })
      const pod = server.createPodForJob(job).metadata.name
      server.startPod(NS, pod)
      server.setLog(NS, pod, 'main', 'connecting\nerror: connection refused\n')
      const running = runStep({ inputs: inputs(kc, { phase: 'Succeeded' }) })
      await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 })
      server.finishPod(NS, pod, { exitCode: 1 })
      server.updateJobStatus(NS, 'build', {
        failed: 1,
        conditions: [
          { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
        ]
      })
      const r = await running
      expect(r.outputs.result).toBe('failed')
      expect(r.summary).toContain('error: connection refused')
      expectNoLeak(r, kc)
    })
  )

  test.concurrent('timeout', () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url)
      const job = server.createJob(NS, { metadata: { name: 'build' } })
      server.setPodWaiting(
        NS,
        server.createPodForJob(job).metadata.name,
        'ImagePullBackOff',
        'Back-off pulling image "registry.example/app:1"'
      )
      const r = await runStep({ inputs: inputs(kc, { timeout: '1s' }) })
      expect(r.outputs.result).toBe('timeout')
      expectNoLeak(r, kc)
    })
  )

  test.concurrent('error from the API server (a namespace that does not exist)', () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url)
      const r = await runStep({ inputs: inputs(kc, { namespace: 'nope' }) })
      expect(r.outputs.result).toBe('error')
      expectNoLeak(r, kc)
    })
  )

  test.concurrent('error before any request (an unknown context): masked all the same', () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url)
      const r = await runStep({ inputs: inputs(kc, { context: 'prod' }) })
      expect(r.outputs.result).toBe('error')
      expect(r.outputs.message).toBe("Input 'context' has an invalid value 'prod': the kubeconfig (input) has the contexts fake, other")
      expectNoLeak(r, kc)
      expect(server.requests).toEqual([])
    })
  )

  test.concurrent('error: basic auth the server rejects (the password is sent)', () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url, { user: { username: SECRET.username, password: SECRET.password } })
      const r = await runStep({ inputs: inputs(kc) })
      expect(r.outputs.message).toBe(
        "list jobs: the API server rejected the credentials (401 Unauthorized): the username and password of user 'ci' of the 'kubeconfig' input are not accepted"
      )
      expectNoLeak(r, kc, { masked: [SECRET.password, SECRET.otherToken] })
    })
  )

  test.concurrent('the kubeconfig in KUBECONFIG, written by an earlier step: masked too', () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url)
      const job = server.createJob(NS, { metadata: { name: 'build' } })
      server.startPod(NS, server.createPodForJob(job).metadata.name)
      let file = ''
      const r = await runStep({
        inputs: inputs(''),
        setup: (d) => {
          file = path.join(d.temp, 'kubeconfig')
          fs.writeFileSync(file, kc)
          return { KUBECONFIG: file }
        }
      })
      expect(r.outputs.result).toBe('met')
      expect(r.stdout).toContain(`credentials: KUBECONFIG, server ${server.url}`)
      // the earlier step's file is not the action's: it was there before
      expectNoLeak(r, kc)
    })
  )
  // Only secrets: masking every line of the kubeconfig would also hide
  // "apiVersion: v1", "cluster:", "context:" ... in every later log line.
  test.concurrent("only the secrets are masked, not the kubeconfig's ordinary lines", () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url)
      const r = await runStep({ inputs: inputs(kc, { context: 'prod' }) })
      const ordinary = kc
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !/token|password|key-data/.test(l))
      expect(masks(r.stdout).filter((m) => ordinary.includes(m))).toEqual([])
    })
  )
})

describe('a client certificate over TLS (the key is used)', () => {
  const tlsKubeconfig = (tls: Front, client: { cert: string; key: string }) =>
    kubeconfigYaml({
      clusters: [{ name: 'tls', server: tls.url, caData: b64(pki.ca.cert) }],
      users: [{ name: 'ci', fields: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) } }],
      contexts: [{ name: 'tls', cluster: 'tls', user: 'ci', namespace: NS }],
      currentContext: 'tls'
    })
  const keyMasks = (key: string) => [
    b64(key),
    ...key
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('-----'))
  ]

  test.concurrent('met, the kubeconfig given as base64', () =>
    withServer(async (server, tls) => {
      const kc = tlsKubeconfig(tls, pki.client)
      const job = server.createJob(NS, { metadata: { name: 'build' } })
      server.startPod(NS, server.createPodForJob(job).metadata.name)
      const r = await runStep({ inputs: inputs(b64(kc)) })
      expect(r.outputs.result).toBe('met')
      expect(tls.requests.every((q) => q.authorized)).toBe(true)
      // the base64 text as given is masked too (the runner masks secrets.*, not a pasted value)
      expectNoLeak(r, kc, { masked: [...keyMasks(pki.client.key), b64(kc)] })
    })
  )

  test.concurrent('error: an expired client certificate', () =>
    withServer(async (server, tls) => {
      const kc = tlsKubeconfig(tls, pki.expiredClient)
      const r = await runStep({ inputs: inputs(kc) })
      expect(r.outputs.result).toBe('error')
      const leaks = [
        b64(pki.expiredClient.key),
        ...pki.expiredClient.key
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('-----'))
      ].filter(
        (s) =>
          shownStdout(r.stdout).includes(s) ||
          r.stderr.includes(s) ||
          r.summary.includes(s) ||
          Object.values(r.outputs).some((v) => v.includes(s))
      )
      expect(leaks).toEqual([])
      expectNoLeak(r, kc, { masked: keyMasks(pki.expiredClient.key) })
    })
  )
})

describe('credentials obtained during the wait', () => {
  const EXEC = { one: 'kjw-exec-token-1a2b3c4d5e', two: 'kjw-exec-token-6f7a8b9c0d' }

  /** An exec plugin printing the token in its token file; a file of its own per test. */
  function execPlugin(): { dir: string; setToken: (t: string) => void; fields: Record<string, unknown> } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-plugin-'))
    const tokenFile = path.join(dir, 'token')
    const script = path.join(dir, 'get-token.cjs')
    fs.writeFileSync(
      script,
      `const token = require('node:fs').readFileSync(process.argv[2], 'utf8').trim()
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } }))
`
    )
    return {
      dir,
      setToken: (t) => fs.writeFileSync(tokenFile, t),
      fields: {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: [script, tokenFile],
          interactiveMode: 'Never'
        }
      }
    }
  }

  test.concurrent("an exec plugin's token revoked mid-wait: the plugin runs again, the wait goes on, both tokens are masked", () =>
    withServer(async (server) => {
      const plugin = execPlugin()
      try {
        plugin.setToken(EXEC.one)
        server.addUser('ci-bot', '*', EXEC.one)
        const kc = kubeconfigFor(server.url, { user: plugin.fields })
        const job = server.createJob(NS, { metadata: { name: 'build' } })
        const pod = server.createPodForJob(job).metadata.name
        const running = runStep({ inputs: inputs(kc) })
        await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 })
        // The token expires; the API server ends the watch (as at --min-request-timeout); the re-watch is refused.
        server.addUser('ci-bot', '*', EXEC.two)
        plugin.setToken(EXEC.two)
        server.closeWatches()
        await server.waitForRequest({ resource: 'pods', watch: true, status: 200 }, { count: 2, timeoutMs: 10_000 })
        server.startPod(NS, pod)
        const r = await running
        expect(r.outputs.result).toBe('met')
        // a re-watch refused (jobs or pods, or both), and the pods' re-watched with the fresh token before the verdict
        expect(server.requestsMatching({ watch: true }).map((q) => q.status)).toContain(401)
        expectNoLeak(r, kc, { masked: [EXEC.one, EXEC.two] })
        for (const t of Object.values(EXEC)) expect(shownStdout(r.stdout)).not.toContain(t)
      } finally {
        fs.rmSync(plugin.dir, { recursive: true, force: true })
      }
    })
  )

  test.concurrent("a kubeconfig's tokenFile: its token is sent and masked", () =>
    withServer(async (server) => {
      const plugin = execPlugin() // only for its directory
      try {
        const tokenFile = path.join(plugin.dir, 'ci-bot.token')
        fs.writeFileSync(tokenFile, `${EXEC.one}\n`)
        server.addUser('ci-bot', '*', EXEC.one)
        const kc = kubeconfigFor(server.url, { user: { tokenFile } })
        const job = server.createJob(NS, { metadata: { name: 'build' } })
        server.startPod(NS, server.createPodForJob(job).metadata.name)
        const r = await runStep({ inputs: inputs(kc) })
        expect(r.outputs.result).toBe('met')
        expectNoLeak(r, kc, { masked: [EXEC.one] })
      } finally {
        fs.rmSync(plugin.dir, { recursive: true, force: true })
      }
    })
  )

  // `base64 -w 76` (or a YAML block scalar) gives a multi-line value; the runner matches a mask one line at a time.
  test.concurrent('a base64 kubeconfig wrapped over lines is masked line by line', () =>
    withServer(async (server) => {
      const kc = kubeconfigFor(server.url)
      const job = server.createJob(NS, { metadata: { name: 'build' } })
      server.startPod(NS, server.createPodForJob(job).metadata.name)
      const lines = b64(kc).match(/.{1,76}/g)!
      const r = await runStep({ inputs: inputs(lines.join('\n')) })
      expect(r.outputs.result).toBe('met')
      expect(lines.length).toBeGreaterThan(3)
      expectNoLeak(r, kc, { masked: [...lines, b64(kc), SECRET.token, SECRET.password] })
    })
  )
})
