// loadCredentials: where the cluster credentials come from (the 'kubeconfig'
// input, KUBECONFIG, ~/.kube/config, the in-cluster service account), that
// every secret is handed to mask(), and that every failure is one line that
// names the problem without quoting the kubeconfig.
import { afterAll, afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals'
import { generateKeyPairSync } from 'node:crypto'
import * as fs from 'node:fs'
import type { RequestOptions } from 'node:https'
import * as os from 'node:os'
import * as path from 'node:path'
import { CredentialsError, loadCredentials, TOKEN_FILE_MAX_AGE_MS, type Credentials, type Env } from '../src/credentials.js'
import { InputError } from '../src/inputs.js'
import { KubeError } from '../src/kube/errors.js'
import { KubeHttp } from '../src/kube/http.js'
import { watchStream } from '../src/kube/watch.js'
import { testPki } from './support/certs.js'
import { FakeApiServer } from './support/fake-apiserver.js'

// ---------------------------------------------------------------- fixtures

interface ClusterSpec {
  name: string
  server?: string
  ca?: string
}
interface UserSpec {
  name: string
  /** lines under `user:` */
  body: string[]
}
interface ContextSpec {
  name: string
  cluster: string
  user?: string
  namespace?: string
}

/** Kubeconfig YAML as kubectl writes it. */
function kubeconfig(o: { clusters: ClusterSpec[]; users: UserSpec[]; contexts: ContextSpec[]; current?: string }): string {
  const lines = ['apiVersion: v1', 'kind: Config', 'preferences: {}', 'clusters:']
  for (const c of o.clusters) {
    lines.push(`- name: ${c.name}`, '  cluster:')
    if (c.server !== undefined) lines.push(`    server: ${c.server}`)
    if (c.ca) lines.push(`    certificate-authority: ${c.ca}`)
    lines.push('    insecure-skip-tls-verify: false')
  }
  lines.push('users:')
  for (const u of o.users) lines.push(`- name: ${u.name}`, '  user:', ...u.body.map((l) => `    ${l}`))
  lines.push('contexts:')
  for (const c of o.contexts) {
    lines.push(`- name: ${c.name}`, '  context:', `    cluster: ${c.cluster}`)
    if (c.user) lines.push(`    user: ${c.user}`)
    if (c.namespace) lines.push(`    namespace: ${c.namespace}`)
  }
  if (o.current !== undefined) lines.push(`current-context: ${o.current}`)
  return lines.join('\n') + '\n'
}

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.SIGNATUREsignature0123'
const PASSWORD = 'hunter2-but-longer'
const KEY_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const KEY_DATA = Buffer.from(KEY_PEM).toString('base64')
const CERT_DATA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBpublicPART\n-----END CERTIFICATE-----\n').toString('base64')

const TOKEN_KC = kubeconfig({
  clusters: [{ name: 'prod', server: 'https://10.0.0.1:6443' }],
  users: [{ name: 'ci-bot', body: [`token: ${TOKEN}`] }],
  contexts: [{ name: 'prod-ci', cluster: 'prod', user: 'ci-bot', namespace: 'team-a' }],
  current: 'prod-ci'
})

// ---------------------------------------------------------------- harness

let tmp: string
let home: string
let masked: string[]

function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

beforeEach(() => {
  tmp = tmpDir('kjw-cred-')
  home = path.join(tmp, 'home')
  fs.mkdirSync(home)
  masked = []
})

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true })
})

/** An Env with a temp HOME and nothing else unless given. */
function env(vars: Record<string, string | undefined> = {}, rootPrefix?: string): Env {
  return { env: { HOME: home, ...vars }, mask: (s) => masked.push(s), rootPrefix: rootPrefix ?? path.join(tmp, 'no-root') }
}

function write(rel: string, text: string): string {
  const file = path.join(tmp, rel)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, text)
  return file
}

function failure(f: () => unknown): Error {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).not.toMatch(/[\r\n]/)
    return err as Error
  }
  throw new Error('expected a failure')
}

const fromInput = (kc: string, context?: string, e: Env = env()): Credentials => loadCredentials({ kubeconfig: kc, context }, e)

// ---------------------------------------------------------------- the 'kubeconfig' input

describe("the 'kubeconfig' input", () => {
  test('token user: source input, namespace and server from the context', () => {
    const c = fromInput(TOKEN_KC)
    expect(c.source).toBe('input')
    expect(c.namespace).toBe('team-a')
    expect(c.server).toBe('https://10.0.0.1:6443')
    expect(c.context).toBe('prod-ci')
    expect(c.kc.getCurrentUser()?.token).toBe(TOKEN)
  })

  test('the token is masked, not the whole kubeconfig', () => {
    fromInput(TOKEN_KC)
    expect(masked).toContain(TOKEN)
    // not the whole text, nor its harmless lines: those would be hidden in every later log
    expect(masked).not.toContain(TOKEN_KC)
    expect(masked).not.toContain('apiVersion: v1')
  })

  test('namespace is "default" when the context has none', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://k8s.example.com' }],
      users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      current: 'x'
    })
    const c = fromInput(kc)
    expect(c.namespace).toBe('default')
    expect(c.server).toBe('https://k8s.example.com')
  })

  test('a trailing slash on the server is dropped; http is accepted', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:8001/' }],
      users: [{ name: 'u', body: [] }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      current: 'x'
    })
    expect(fromInput(kc).server).toBe('http://127.0.0.1:8001')
  })

  test('token, password, client-key-data and each line of the decoded key are masked', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
      users: [
        { name: 'tok', body: [`token: ${TOKEN}`] },
        { name: 'basic', body: ['username: admin', `password: ${PASSWORD}`] },
        { name: 'cert', body: [`client-certificate-data: ${CERT_DATA}`, `client-key-data: ${KEY_DATA}`] }
      ],
      contexts: [{ name: 'x', cluster: 'c', user: 'cert' }],
      current: 'x'
    })
    fromInput(kc)
    expect(masked).toEqual(expect.arrayContaining([TOKEN, PASSWORD, KEY_DATA, KEY_PEM]))
    const bodyLines = KEY_PEM.split('\n').filter((l) => l && !l.startsWith('-----'))
    expect(bodyLines.length).toBeGreaterThan(1)
    for (const line of bodyLines) expect(masked).toContain(line)
    // The PEM armour lines are public and are not registered on their own.
    expect(masked).not.toContain('-----BEGIN PRIVATE KEY-----')
    expect(masked).not.toContain('-----END PRIVATE KEY-----')
    // The certificate is public.
    expect(masked).not.toContain(CERT_DATA)
    // Short, non-secret values are not registered.
    expect(masked).not.toContain('admin')
  })

  test('an unquoted numeric password is masked', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
      users: [{ name: 'basic', body: ['username: admin', 'password: 12345678901'] }],
      contexts: [{ name: 'x', cluster: 'c', user: 'basic' }],
      current: 'x'
    })
    fromInput(kc)
    expect(masked).toContain('12345678901')
  })

  test('auth-provider secrets and exec env values are masked', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
      users: [
        {
          name: 'oidc',
          body: [
            'auth-provider:',
            '  name: oidc',
            '  config:',
            '    client-id: my-client',
            '    client-secret: oidc-client-s3cret',
            '    id-token: oidc-id-t0ken-value',
            '    refresh-token: oidc-refresh-t0ken'
          ]
        },
        {
          name: 'exec',
          body: [
            'exec:',
            '  apiVersion: client.authentication.k8s.io/v1',
            '  command: aws',
            '  env:',
            '  - name: AWS_SECRET',
            '    value: exec-env-s3cret-value'
          ]
        }
      ],
      contexts: [{ name: 'x', cluster: 'c', user: 'oidc' }],
      current: 'x'
    })
    fromInput(kc)
    expect(masked).toEqual(
      expect.arrayContaining(['oidc-client-s3cret', 'oidc-id-t0ken-value', 'oidc-refresh-t0ken', 'exec-env-s3cret-value'])
    )
    expect(masked).not.toContain('my-client')
  })

  test("the 'context' input selects a context", () => {
    const kc = kubeconfig({
      clusters: [
        { name: 'staging', server: 'https://staging.example.com:6443' },
        { name: 'prod', server: 'https://prod.example.com:6443' }
      ],
      users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
      contexts: [
        { name: 'stg', cluster: 'staging', user: 'u', namespace: 'stg-ns' },
        { name: 'prd', cluster: 'prod', user: 'u', namespace: 'prd-ns' }
      ],
      current: 'stg'
    })
    expect(fromInput(kc).server).toBe('https://staging.example.com:6443')
    const c = fromInput(kc, 'prd')
    expect(c.context).toBe('prd')
    expect(c.server).toBe('https://prod.example.com:6443')
    expect(c.namespace).toBe('prd-ns')
    expect(c.kc.getCurrentContext()).toBe('prd')
  })

  const TWO = kubeconfig({
    clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
    users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
    contexts: [
      { name: 'alpha', cluster: 'c', user: 'u' },
      { name: 'beta', cluster: 'c', user: 'u' }
    ]
  })

  test('an unknown context is an InputError naming it and listing the available ones', () => {
    const err = failure(() => fromInput(TWO, 'gamma'))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe("Input 'context' has an invalid value 'gamma': the kubeconfig (input) has the contexts alpha, beta")
  })

  test('an unknown context in a kubeconfig without contexts says so', () => {
    const kc = kubeconfig({ clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }], users: [], contexts: [] })
    const err = failure(() => fromInput(kc, 'any'))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe("Input 'context' has an invalid value 'any': the kubeconfig (input) has no contexts")
  })

  test('no current-context and several contexts: an error listing them', () => {
    const err = failure(() => fromInput(TWO))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe("the kubeconfig (input) sets no current-context: set the 'context' input to one of: alpha, beta")
  })

  test('no current-context and no contexts at all', () => {
    const kc = kubeconfig({ clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }], users: [], contexts: [] })
    const err = failure(() => fromInput(kc))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe("the kubeconfig (input) sets no current-context: set the 'context' input to one of: (none)")
  })

  test('no current-context and exactly one context: that context is used', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
      users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
      contexts: [{ name: 'only', cluster: 'c', user: 'u', namespace: 'ns1' }]
    })
    const c = fromInput(kc)
    expect(c.context).toBe('only')
    expect(c.namespace).toBe('ns1')
  })

  test('current-context naming a context that does not exist', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
      users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
      contexts: [{ name: 'a', cluster: 'c', user: 'u' }],
      current: 'gone'
    })
    const err = failure(() => fromInput(kc))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe("the kubeconfig (input) has current-context 'gone', but no context of that name")
  })

  test('a context naming a cluster that is not defined', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
      users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
      contexts: [{ name: 'a', cluster: 'nowhere', user: 'u' }],
      current: 'a'
    })
    const err = failure(() => fromInput(kc))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe("the kubeconfig (input) context 'a' names cluster 'nowhere', which it does not define")
  })

  test('a context naming a user that is not defined', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
      users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
      contexts: [{ name: 'a', cluster: 'c', user: 'ghost' }],
      current: 'a'
    })
    const err = failure(() => fromInput(kc))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe("the kubeconfig (input) context 'a' names user 'ghost', which it does not define")
  })

  test('a context with no user at all is allowed (anonymous)', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server: 'https://10.0.0.1:6443' }],
      users: [],
      contexts: [{ name: 'a', cluster: 'c' }],
      current: 'a'
    })
    const c = fromInput(kc)
    expect(c.context).toBe('a')
    expect(c.kc.getCurrentUser()).toBeNull()
  })

  test('a cluster with no server is rejected when the kubeconfig is read', () => {
    const kc = kubeconfig({
      clusters: [{ name: 'c' }],
      users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
      contexts: [{ name: 'a', cluster: 'c', user: 'u' }],
      current: 'a'
    })
    const err = failure(() => fromInput(kc))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe("Input 'kubeconfig' could not be read: clusters[0].cluster.server is missing")
  })

  test.each(['localhost:6443', '10.0.0.1', 'ftp://10.0.0.1', 'https://'])('a cluster whose server %j is not an http(s) URL', (server) => {
    const kc = kubeconfig({
      clusters: [{ name: 'c', server }],
      users: [{ name: 'u', body: [`token: ${TOKEN}`] }],
      contexts: [{ name: 'a', cluster: 'c', user: 'u' }],
      current: 'a'
    })
    const err = failure(() => fromInput(kc))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe(`the kubeconfig (input) cluster 'c' has no valid server URL (got '${server.replace(/\/$/, '')}')`)
  })

  test('invalid YAML: the line number, and none of the text', () => {
    const secret = 'sha256~SuperSecretTokenThatMustNotLeak0123456789'
    const bad = [
      'apiVersion: v1',
      'clusters:',
      '- name: c',
      '  cluster:',
      '    server: https://10.0.0.1:6443',
      'users:',
      '- name: u',
      '  user:',
      `    token: ${secret}`,
      `     bad-indent: [unclosed ${secret}`,
      'contexts: []'
    ].join('\n')
    const err = failure(() => fromInput(bad))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toMatch(/^Input 'kubeconfig' could not be read: it is not valid YAML \(line \d+\)$/)
    const line = Number(/line (\d+)/.exec(err.message)![1])
    expect(line).toBeGreaterThanOrEqual(9)
    expect(line).toBeLessThanOrEqual(11)
    expect(err.message).not.toContain(secret)
    expect(err.message).not.toContain('SuperSecret')
    expect(err.message).not.toContain('bad-indent')
    expect(err.message).not.toContain('token')
    // what was given is masked even though it could not be read
    expect(masked).toContain(secret)
  })

  test('a duplicate key is a YAML error with a line number, not the key or value', () => {
    const bad = `apiVersion: v1\nclusters: []\nusers: []\nclusters: []\ncurrent-context: s3cr3t-context-name\n`
    const err = failure(() => fromInput(bad))
    expect(err.message).toMatch(/^Input 'kubeconfig' could not be read: it is not valid YAML \(line [45]\)$/)
    expect(err.message).not.toContain('s3cr3t')
  })

  test('a malformed entry is named without quoting the text', () => {
    const kc = `apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.1\nusers:\n- user:\n    token: ${TOKEN}\n`
    const err = failure(() => fromInput(kc))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe("Input 'kubeconfig' could not be read: clusters[0].name is missing")
  })

  test('YAML that is not a kubeconfig', () => {
    const err = failure(() => fromInput('name: not-a-kubeconfig\nvalue: 3\n'))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe("Input 'kubeconfig' has no clusters: is it a kubeconfig?")
  })

  test('the input wins over KUBECONFIG, ~/.kube/config and the service account', () => {
    const other = kubeconfig({
      clusters: [{ name: 'o', server: 'https://other:6443' }],
      users: [],
      contexts: [{ name: 'o', cluster: 'o' }],
      current: 'o'
    })
    const file = write('kc/other', other)
    fs.mkdirSync(path.join(home, '.kube'))
    fs.writeFileSync(path.join(home, '.kube', 'config'), other)
    const c = fromInput(
      TOKEN_KC,
      undefined,
      env({ KUBECONFIG: file, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' })
    )
    expect(c.source).toBe('input')
    expect(c.server).toBe('https://10.0.0.1:6443')
  })

  test('no file is written: HOME and TMPDIR stay empty, nothing kubeconfig-like appears in the temp dir', () => {
    const privateTmp = path.join(tmp, 'tmpdir')
    fs.mkdirSync(privateTmp)
    const savedTmp = process.env.TMPDIR
    const before = new Set(fs.readdirSync(os.tmpdir()))
    process.env.TMPDIR = privateTmp
    let c: Credentials
    try {
      c = fromInput(TOKEN_KC, undefined, env({ TMPDIR: privateTmp }))
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = savedTmp
    }
    expect(c.source).toBe('input')
    expect(fs.readdirSync(home)).toEqual([])
    expect(fs.readdirSync(privateTmp)).toEqual([])
    expect(fs.readdirSync(tmp).sort()).toEqual(['home', 'tmpdir'])
    const added = fs.readdirSync(os.tmpdir()).filter((f) => !before.has(f))
    expect(added.filter((f) => /kubeconfig/i.test(f))).toEqual([])
    // and the KubeConfig refers to no file for its credentials
    expect(c.kc.getCurrentCluster()?.caFile).toBeUndefined()
    expect(c.kc.getCurrentUser()?.keyFile ?? undefined).toBeUndefined()
  })
})

// ---------------------------------------------------------------- KUBECONFIG and ~/.kube/config

describe('KUBECONFIG and ~/.kube/config', () => {
  const A = kubeconfig({
    clusters: [{ name: 'cluster-a', server: 'https://a.example.com:6443', ca: 'certs/ca-a.crt' }],
    users: [{ name: 'user-a', body: ['token: token-a-0123456789'] }],
    contexts: [{ name: 'ctx-a', cluster: 'cluster-a', user: 'user-a', namespace: 'ns-a' }],
    current: 'ctx-a'
  })
  const B = kubeconfig({
    clusters: [{ name: 'cluster-b', server: 'https://b.example.com:6443' }],
    users: [{ name: 'user-b', body: ['token: token-b-0123456789'] }],
    contexts: [{ name: 'ctx-b', cluster: 'cluster-b', user: 'user-b', namespace: 'ns-b' }],
    current: 'ctx-b'
  })

  test('KUBECONFIG with one file', () => {
    const file = write('kube/a.yaml', A)
    const c = loadCredentials({}, env({ KUBECONFIG: file }))
    expect(c.source).toBe('KUBECONFIG')
    expect(c.server).toBe('https://a.example.com:6443')
    expect(c.namespace).toBe('ns-a')
    expect(masked).toContain('token-a-0123456789')
  })

  test('relative certificate paths are made absolute against the file', () => {
    const file = write('kube/a.yaml', A)
    const c = loadCredentials({}, env({ KUBECONFIG: file }))
    expect(c.kc.getCurrentCluster()?.caFile).toBe(path.join(tmp, 'kube', 'certs', 'ca-a.crt'))
  })

  test('KUBECONFIG with two files: merged, the first current-context wins, secrets of both masked', () => {
    const a = write('kube/a.yaml', A)
    const b = write('kube/b.yaml', B)
    const c = loadCredentials({}, env({ KUBECONFIG: [a, b].join(path.delimiter) }))
    expect(c.source).toBe('KUBECONFIG')
    expect(c.kc.getContexts().map((x) => x.name)).toEqual(['ctx-a', 'ctx-b'])
    expect(c.context).toBe('ctx-a')
    expect(c.server).toBe('https://a.example.com:6443')
    expect(masked).toEqual(expect.arrayContaining(['token-a-0123456789', 'token-b-0123456789']))

    const viaB = loadCredentials({ context: 'ctx-b' }, env({ KUBECONFIG: [a, b].join(path.delimiter) }))
    expect(viaB.server).toBe('https://b.example.com:6443')
    expect(viaB.namespace).toBe('ns-b')
    expect(viaB.kc.getCurrentUser()?.token).toBe('token-b-0123456789')
  })

  test('KUBECONFIG: missing files in the list are skipped, empty entries ignored', () => {
    const b = write('kube/b.yaml', B)
    const missing = path.join(tmp, 'kube', 'missing.yaml')
    const c = loadCredentials({}, env({ KUBECONFIG: ['', missing, b, ''].join(path.delimiter) }))
    expect(c.source).toBe('KUBECONFIG')
    expect(c.server).toBe('https://b.example.com:6443')
  })

  test('KUBECONFIG naming only a missing file: a message naming it', () => {
    const missing = path.join(tmp, 'nope', 'config')
    const err = failure(() => loadCredentials({}, env({ KUBECONFIG: missing })))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe(
      `KUBECONFIG is set to ${missing}, but no such file exists: set the 'kubeconfig' input or fix the earlier step that writes it`
    )
  })

  test('KUBECONFIG naming a missing file does not fall back to ~/.kube/config', () => {
    fs.mkdirSync(path.join(home, '.kube'))
    fs.writeFileSync(path.join(home, '.kube', 'config'), A)
    const err = failure(() => loadCredentials({}, env({ KUBECONFIG: path.join(tmp, 'nope') })))
    expect(err.message).toMatch(/^KUBECONFIG is set to /)
  })

  test('KUBECONFIG naming a directory: the file cannot be read', () => {
    const dir = path.join(tmp, 'adir')
    fs.mkdirSync(dir)
    const err = failure(() => loadCredentials({}, env({ KUBECONFIG: dir })))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe(`KUBECONFIG names ${dir}, which cannot be read: EISDIR`)
  })

  test('KUBECONFIG file with invalid YAML: file and line, no text, a CredentialsError', () => {
    const file = write('kube/bad.yaml', `clusters:\n- name: x\n  token: "unterminated s3cr3t-value\n`)
    const err = failure(() => loadCredentials({}, env({ KUBECONFIG: file })))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toMatch(
      new RegExp(`^KUBECONFIG file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} could not be read: it is not valid YAML \\(line \\d+\\)$`)
    )
    expect(err.message).not.toContain('s3cr3t')
  })

  test('an empty KUBECONFIG file (an earlier step wrote nothing): not valid YAML, line 1', () => {
    const file = write('kube/empty', '')
    const err = failure(() => loadCredentials({}, env({ KUBECONFIG: file })))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toBe(`KUBECONFIG file ${file} could not be read: it is not valid YAML (line 1)`)
  })

  test('a blank KUBECONFIG is ignored: ~/.kube/config from HOME', () => {
    fs.mkdirSync(path.join(home, '.kube'))
    fs.writeFileSync(path.join(home, '.kube', 'config'), B)
    const c = loadCredentials({}, env({ KUBECONFIG: '  ' }))
    expect(c.source).toBe('~/.kube/config')
    expect(c.server).toBe('https://b.example.com:6443')
    expect(c.namespace).toBe('ns-b')
    expect(masked).toContain('token-b-0123456789')
  })

  test('~/.kube/config from HOME', () => {
    fs.mkdirSync(path.join(home, '.kube'))
    fs.writeFileSync(path.join(home, '.kube', 'config'), A)
    const c = loadCredentials({}, env())
    expect(c.source).toBe('~/.kube/config')
    expect(c.context).toBe('ctx-a')
    expect(c.kc.getCurrentCluster()?.caFile).toBe(path.join(home, '.kube', 'certs', 'ca-a.crt'))
  })

  test('KUBECONFIG wins over ~/.kube/config', () => {
    fs.mkdirSync(path.join(home, '.kube'))
    fs.writeFileSync(path.join(home, '.kube', 'config'), A)
    const c = loadCredentials({}, env({ KUBECONFIG: write('kube/b.yaml', B) }))
    expect(c.source).toBe('KUBECONFIG')
    expect(c.server).toBe('https://b.example.com:6443')
  })

  test('errors from a file name the source', () => {
    fs.mkdirSync(path.join(home, '.kube'))
    fs.writeFileSync(path.join(home, '.kube', 'config'), A)
    const err = failure(() => loadCredentials({ context: 'nope' }, env()))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe("Input 'context' has an invalid value 'nope': the kubeconfig (~/.kube/config) has the contexts ctx-a")
  })

  test('two KUBECONFIG files defining the same user name are merged first-wins, as kubectl does', () => {
    const one = write(
      'kube/one.yaml',
      kubeconfig({
        clusters: [{ name: 'one', server: 'https://one:6443' }],
        users: [{ name: 'admin', body: ['token: token-one-0123'] }],
        contexts: [{ name: 'one', cluster: 'one', user: 'admin' }],
        current: 'one'
      })
    )
    const two = write(
      'kube/two.yaml',
      kubeconfig({
        clusters: [{ name: 'two', server: 'https://two:6443' }],
        users: [{ name: 'admin', body: ['token: token-two-0123'] }],
        contexts: [{ name: 'two', cluster: 'two', user: 'admin' }],
        current: 'two'
      })
    )
    const c = loadCredentials({}, env({ KUBECONFIG: [one, two].join(path.delimiter) }))
    expect(c.server).toBe('https://one:6443')
    expect(c.kc.getCurrentUser()?.token).toBe('token-one-0123')
  })

  test('the same file twice loads as once', () => {
    const one = write('kube/one.yaml', A)
    const two = write('kube/two.yaml', A)
    const c = loadCredentials({}, env({ KUBECONFIG: [one, two].join(path.delimiter) }))
    expect(c.kc.getClusters().map((x) => x.name)).toEqual(['cluster-a'])
  })

  test('current-context comes from the first file that sets it, not only the first file', () => {
    const noCurrent = write(
      'kube/contexts-only.yaml',
      kubeconfig({ clusters: [{ name: 'x', server: 'https://x:6443' }], users: [], contexts: [{ name: 'x', cluster: 'x' }] })
    )
    const b = write('kube/b.yaml', B)
    const c = loadCredentials({}, env({ KUBECONFIG: [noCurrent, b].join(path.delimiter) }))
    expect(c.context).toBe('ctx-b')
  })
})

// ---------------------------------------------------------------- in-cluster

describe('in-cluster service account', () => {
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT }
  const SA_TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6InNhIn0.in-cluster-sa-token-body.sig'

  function serviceAccount(files: { token?: string; namespace?: string; ca?: string }): string {
    const root = path.join(tmp, 'root')
    const dir = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount')
    fs.mkdirSync(dir, { recursive: true })
    if (files.token !== undefined) fs.writeFileSync(path.join(dir, 'token'), files.token)
    if (files.namespace !== undefined) fs.writeFileSync(path.join(dir, 'namespace'), files.namespace)
    if (files.ca !== undefined) fs.writeFileSync(path.join(dir, 'ca.crt'), files.ca)
    return root
  }

  function restore(name: 'KUBERNETES_SERVICE_HOST' | 'KUBERNETES_SERVICE_PORT', v: string | undefined) {
    if (v === undefined) delete process.env[name]
    else process.env[name] = v
  }

  beforeEach(() => {
    // client-node's loadFromCluster reads these from process.env itself.
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1'
    process.env.KUBERNETES_SERVICE_PORT = '443'
  })

  afterEach(() => {
    restore('KUBERNETES_SERVICE_HOST', saved.host)
    restore('KUBERNETES_SERVICE_PORT', saved.port)
  })

  afterAll(() => {
    expect(process.env.KUBERNETES_SERVICE_HOST).toBe(saved.host)
  })

  const k8sEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }

  test('source in-cluster, namespace from the file, token masked', () => {
    const root = serviceAccount({
      token: `${SA_TOKEN}\n`,
      namespace: 'runners\n',
      ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    })
    const c = loadCredentials({}, env(k8sEnv, root))
    expect(c.source).toBe('in-cluster')
    expect(c.namespace).toBe('runners')
    expect(c.server).toBe('https://10.96.0.1:443')
    expect(masked).toContain(SA_TOKEN) // as sent: without the newline
    expect(c.kc.getCurrentCluster()?.caFile).toBe(path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount/ca.crt'))
  })

  test('no namespace file: "default"', () => {
    const root = serviceAccount({ token: SA_TOKEN })
    const c = loadCredentials({}, env(k8sEnv, root))
    expect(c.source).toBe('in-cluster')
    expect(c.namespace).toBe('default')
    expect(masked).toContain(SA_TOKEN)
  })

  test('an IPv6 service host is bracketed', () => {
    process.env.KUBERNETES_SERVICE_HOST = 'fd00::1'
    const root = serviceAccount({ token: SA_TOKEN, namespace: 'ns' })
    const c = loadCredentials({}, env({ ...k8sEnv, KUBERNETES_SERVICE_HOST: 'fd00::1' }, root))
    expect(c.server).toBe('https://[fd00::1]:443')
  })

  test('~/.kube/config wins over the service account', () => {
    const root = serviceAccount({ token: SA_TOKEN, namespace: 'ns' })
    fs.mkdirSync(path.join(home, '.kube'))
    fs.writeFileSync(path.join(home, '.kube', 'config'), TOKEN_KC)
    expect(loadCredentials({}, env(k8sEnv, root)).source).toBe('~/.kube/config')
  })

  test("the 'context' input does not apply to the in-cluster config", () => {
    const root = serviceAccount({ token: SA_TOKEN, namespace: 'ns' })
    const err = failure(() => loadCredentials({ context: 'prod' }, env(k8sEnv, root)))
    expect(err).toBeInstanceOf(InputError)
    expect(err.message).toBe("Input 'context' has an invalid value 'prod': the kubeconfig (in-cluster) has the contexts inClusterContext")
  })

  test('KUBERNETES_SERVICE_HOST without a token file: no credentials', () => {
    const root = serviceAccount({ namespace: 'ns' })
    const err = failure(() => loadCredentials({}, env(k8sEnv, root)))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.message).toMatch(/^no cluster credentials: /)
  })

  test('a token file without KUBERNETES_SERVICE_HOST: no credentials', () => {
    const root = serviceAccount({ token: SA_TOKEN, namespace: 'ns' })
    const err = failure(() => loadCredentials({}, env({}, root)))
    expect(err.message).toMatch(/^no cluster credentials: /)
  })
})

// ---------------------------------------------------------------- nothing

describe('no credentials at all', () => {
  const MESSAGE =
    "no cluster credentials: set the 'kubeconfig' input (e.g. kubeconfig: ${{ secrets.KUBECONFIG }}), or write KUBECONFIG or ~/.kube/config in an earlier step, or run the runner as a pod with a service account"

  test('empty HOME, no KUBECONFIG, no service account', () => {
    const err = failure(() => loadCredentials({}, env()))
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err.name).toBe('CredentialsError')
    expect(err.message).toBe(MESSAGE)
    expect(masked).toEqual([])
  })

  test('no HOME at all', () => {
    const err = failure(() => loadCredentials({}, { env: {}, mask: (s) => masked.push(s), rootPrefix: path.join(tmp, 'no-root') }))
    expect(err.message).toBe(MESSAGE)
  })

  test('never falls back to localhost:8080: a ~/.kube directory without config is not enough', () => {
    fs.mkdirSync(path.join(home, '.kube'))
    const err = failure(() => loadCredentials({}, env()))
    expect(err.message).toBe(MESSAGE)
  })
})

// ---------------------------------------------------------------- credentials that change during the wait

describe('credentials that refresh (a 401: fresh credentials once, then one more attempt)', () => {
  const PODS = '/api/v1/namespaces/default/pods'
  let server: FakeApiServer

  beforeEach(async () => {
    server = new FakeApiServer({ namespaces: ['default'] })
    await server.start()
  })
  afterEach(async () => {
    await server.stop()
  })

  /** An exec plugin that prints the token in `tokenFile` and counts its runs; "fail" makes it fail. */
  function execPlugin(): { setToken: (t: string) => void; runs: () => number; userBody: string[] } {
    const tokenFile = write('plugin/token', '')
    const runsFile = write('plugin/runs', '')
    const script = write(
      'plugin/get-token.cjs',
      `const fs = require('node:fs')
const [tokenFile, runsFile] = process.argv.slice(2)
fs.appendFileSync(runsFile, 'x')
const token = fs.readFileSync(tokenFile, 'utf8').trim()
if (token === 'fail') { process.stderr.write('error: the login session has ended\\nsecond line\\n'); process.exit(1) }
process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } }))
`
    )
    return {
      setToken: (t) => fs.writeFileSync(tokenFile, t),
      runs: () => fs.readFileSync(runsFile, 'utf8').length,
      userBody: [
        'exec:',
        '  apiVersion: client.authentication.k8s.io/v1',
        `  command: ${JSON.stringify(process.execPath)}`,
        `  args: [${JSON.stringify(script)}, ${JSON.stringify(tokenFile)}, ${JSON.stringify(runsFile)}]`,
        '  interactiveMode: Never'
      ]
    }
  }

  // the fake API server speaks plain HTTP: allowed with insecure-skip-tls-verify only
  const kubeconfigFor = (body: string[]) =>
    kubeconfig({
      clusters: [{ name: 'fake', server: server.url }],
      users: [{ name: 'ci-bot', body }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'ci-bot' }],
      current: 'fake'
    }).replace('insecure-skip-tls-verify: false', 'insecure-skip-tls-verify: true')
  const client = (c: Credentials) => new KubeHttp(c.auth, 'kube-job-wait-test', 5_000)
  const bearer = (o: RequestOptions) => (o.headers as Record<string, unknown> | undefined)?.Authorization
  const statuses = () => server.requestsMatching({ resource: 'pods', verb: 'list' }).map((r) => r.status)

  test('exec plugin: the server stops accepting its token mid-wait; the plugin is run again and the request retried', async () => {
    const plugin = execPlugin()
    plugin.setToken('exec-token-one-7c1d')
    server.addUser('ci-bot', '*', 'exec-token-one-7c1d')
    const http = client(fromInput(kubeconfigFor(plugin.userBody)))
    await http.getJSON(PODS, {}, 'list pods')
    // The token is revoked and the plugin would now log in afresh; it has no expirationTimestamp, so
    // client-node alone would keep sending the old one.
    server.addUser('ci-bot', '*', 'exec-token-two-9e2f')
    plugin.setToken('exec-token-two-9e2f')
    await http.getJSON(PODS, {}, 'list pods')
    await http.getJSON(PODS, {}, 'list pods')
    expect(statuses()).toEqual([200, 401, 200, 200])
    expect(plugin.runs()).toBe(2)
    // each token the plugin gave was masked before a request carried it
    expect(masked).toEqual(expect.arrayContaining(['exec-token-one-7c1d', 'exec-token-two-9e2f']))
    await http.close()
  })

  test('a watch refused on re-watch is retried with the fresh token', async () => {
    const plugin = execPlugin()
    plugin.setToken('exec-token-one-7c1d')
    server.addUser('ci-bot', '*', 'exec-token-one-7c1d')
    const http = client(fromInput(kubeconfigFor(plugin.userBody)))
    await http.getJSON(PODS, {}, 'list pods')
    server.addUser('ci-bot', '*', 'exec-token-two-9e2f')
    plugin.setToken('exec-token-two-9e2f')
    const stop = new AbortController()
    const events: string[] = []
    const ended = watchStream(http, PODS, {}, 'watch pods', (e) => events.push(e.type), { idleTimeoutMs: 5_000, signal: stop.signal })
    await server.waitForWatch({ resource: 'pods' })
    server.createPod('default', { metadata: { name: 'p1' } })
    await server.waitForRequest({ resource: 'pods', watch: true, status: 200 })
    for (let i = 0; i < 50 && !events.length; i++) await new Promise((r) => setTimeout(r, 20))
    stop.abort()
    expect(await ended).toEqual({ kind: 'aborted' })
    expect(events).toEqual(['ADDED'])
    expect(server.requestsMatching({ resource: 'pods', watch: true }).map((r) => r.status)).toEqual([401, 200])
    await http.close()
  })

  test('requests refused together run the plugin once', async () => {
    const plugin = execPlugin()
    plugin.setToken('exec-token-one-7c1d')
    server.addUser('ci-bot', '*', 'exec-token-one-7c1d')
    const http = client(fromInput(kubeconfigFor(plugin.userBody)))
    await http.getJSON(PODS, {}, 'list pods')
    server.addUser('ci-bot', '*', 'exec-token-two-9e2f')
    plugin.setToken('exec-token-two-9e2f')
    await Promise.all([1, 2, 3].map(() => http.getJSON(PODS, {}, 'list pods')))
    expect(plugin.runs()).toBe(2)
    expect(statuses().filter((s) => s === 200)).toHaveLength(4)
    await http.close()
  })

  test('the fresh token refused too: one refresh, then a 401 that names the plugin, the user and the source', async () => {
    const plugin = execPlugin()
    plugin.setToken('exec-token-one-7c1d')
    server.addUser('ci-bot', '*', 'exec-token-one-7c1d')
    const http = client(fromInput(kubeconfigFor(plugin.userBody)))
    await http.getJSON(PODS, {}, 'list pods')
    server.addUser('ci-bot', '*', 'a-token-nobody-has')
    plugin.setToken('exec-token-two-9e2f')
    const err = (await http.getJSON(PODS, {}, 'list pods').catch((e: unknown) => e)) as KubeError
    expect(err).toBeInstanceOf(KubeError)
    expect(err.code).toBe(401)
    expect(err.transient).toBe(false)
    expect(err.message).toBe(
      `list pods: the API server rejected the credentials (401 Unauthorized): the exec plugin '${process.execPath}' of user 'ci-bot' of the 'kubeconfig' input was run again and its fresh credentials were refused too: check that the identity it logs in as may still use the cluster`
    )
    expect(statuses()).toEqual([200, 401, 401])
    expect(plugin.runs()).toBe(2)
    await http.close()
  })

  test('the plugin fails when run again: the 401 says so, in one line', async () => {
    const plugin = execPlugin()
    plugin.setToken('exec-token-one-7c1d')
    server.addUser('ci-bot', '*', 'exec-token-one-7c1d')
    const http = client(fromInput(kubeconfigFor(plugin.userBody)))
    await http.getJSON(PODS, {}, 'list pods')
    server.addUser('ci-bot', '*', 'a-token-nobody-has')
    plugin.setToken('fail')
    const err = (await http.getJSON(PODS, {}, 'list pods').catch((e: unknown) => e)) as KubeError
    expect(err.code).toBe(401)
    expect(err.message).toMatch(/was run again for fresh credentials and failed: error: the login session has ended$/)
    expect(statuses()).toEqual([200, 401])
    await http.close()
  })

  test("a kubeconfig's tokenFile is sent (client-node ignores it), read again on a 401, and read again after a minute", async () => {
    const file = write('tokens/ci-bot', 'file-token-one-3a8b\n')
    server.addUser('ci-bot', '*', 'file-token-one-3a8b')
    const c = fromInput(kubeconfigFor([`tokenFile: ${file}`]))
    expect(masked).toContain('file-token-one-3a8b')
    const http = client(c)
    await http.getJSON(PODS, {}, 'list pods')
    // rotated by whatever writes the file: used at the next 401
    fs.writeFileSync(file, 'file-token-two-5d0c')
    server.addUser('ci-bot', '*', 'file-token-two-5d0c')
    await http.getJSON(PODS, {}, 'list pods')
    expect(statuses()).toEqual([200, 401, 200])
    expect(masked).toContain('file-token-two-5d0c')
    // rotated again: used within a minute, before any 401
    fs.writeFileSync(file, 'file-token-three-6e1d')
    const now = Date.now()
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 59_000)
    try {
      const early: RequestOptions = {}
      await c.auth.apply(early)
      expect(bearer(early)).toBe('Bearer file-token-two-5d0c')
      clock.mockReturnValue(now + TOKEN_FILE_MAX_AGE_MS + 1)
      const late: RequestOptions = {}
      await c.auth.apply(late)
      expect(bearer(late)).toBe('Bearer file-token-three-6e1d')
    } finally {
      clock.mockRestore()
    }
    expect(masked).toContain('file-token-three-6e1d')
    await http.close()
  })

  test('a token file that still holds the refused token: no second attempt, and the 401 says what to check', async () => {
    const file = write('tokens/ci-bot', 'file-token-one-3a8b')
    server.addUser('ci-bot', '*', 'file-token-one-3a8b')
    const http = client(fromInput(kubeconfigFor([`tokenFile: ${file}`])))
    server.addUser('ci-bot', '*', 'a-token-nobody-has')
    const err = (await http.getJSON(PODS, {}, 'list pods').catch((e: unknown) => e)) as KubeError
    expect(err.message).toBe(
      `list pods: the API server rejected the credentials (401 Unauthorized): the token file ${file} (user 'ci-bot' of the 'kubeconfig' input) still holds the refused token: check that what writes it keeps it current (for a service account, the kubelet's projected token)`
    )
    expect(statuses()).toEqual([401])
    await http.close()
  })

  test('a token file gone: its last token is used until a 401, which then says the file cannot be read', async () => {
    const file = write('tokens/ci-bot', 'file-token-one-3a8b')
    server.addUser('ci-bot', '*', 'file-token-one-3a8b')
    const c = fromInput(kubeconfigFor([`tokenFile: ${file}`]))
    const http = client(c)
    fs.rmSync(file)
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + TOKEN_FILE_MAX_AGE_MS + 1)
    try {
      const opts: RequestOptions = {}
      await c.auth.apply(opts)
      expect(bearer(opts)).toBe('Bearer file-token-one-3a8b')
    } finally {
      clock.mockRestore()
    }
    server.addUser('ci-bot', '*', 'a-token-nobody-has')
    const err = (await http.getJSON(PODS, {}, 'list pods').catch((e: unknown) => e)) as KubeError
    expect(err.message).toBe(
      `list pods: the API server rejected the credentials (401 Unauthorized): the token file ${file} (the 'kubeconfig' input) cannot be read: ENOENT`
    )
    expect(statuses()).toEqual([401])
    await http.close()
  })

  test('a static token: nothing to refresh, one request, and the 401 says the token must be replaced', async () => {
    const http = client(fromInput(kubeconfigFor(['token: a-token-nobody-has'])))
    const err = (await http.getJSON(PODS, {}, 'list pods').catch((e: unknown) => e)) as KubeError
    expect(err.message).toBe(
      "list pods: the API server rejected the credentials (401 Unauthorized): the token of user 'ci-bot' of the 'kubeconfig' input is wrong or expired, and a token written in a kubeconfig cannot be refreshed: give a current one, or use a tokenFile or an exec plugin (e.g. aws eks get-token) that fetches fresh tokens"
    )
    expect(statuses()).toEqual([401])
    await http.close()
  })

  test('the in-cluster service account token, rotated by the kubelet, is read again on a 401', async () => {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT }
    process.env.KUBERNETES_SERVICE_HOST = '10.96.0.1'
    process.env.KUBERNETES_SERVICE_PORT = '443'
    try {
      const root = path.join(tmp, 'root')
      const token = write('root/var/run/secrets/kubernetes.io/serviceaccount/token', 'sa-token-one-1f2e\n')
      write('root/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', testPki().ca.cert)
      const c = loadCredentials({}, env({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, root))
      expect(c.source).toBe('in-cluster')
      const first: RequestOptions = {}
      await c.auth.apply(first)
      expect(bearer(first)).toBe('Bearer sa-token-one-1f2e')
      fs.writeFileSync(token, 'sa-token-two-4b5c\n')
      expect(await c.auth.refresh()).toBe(true)
      const second: RequestOptions = {}
      await c.auth.apply(second)
      expect(bearer(second)).toBe('Bearer sa-token-two-4b5c')
      expect(masked).toEqual(expect.arrayContaining(['sa-token-one-1f2e', 'sa-token-two-4b5c']))
      expect(await c.auth.refresh()).toBe(false) // unchanged: no point in a second attempt
      expect(c.auth.unauthorized()).toMatch(/^the service account token \S+\/token still holds the refused token/)
    } finally {
      for (const [k, v] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port]
      ] as const)
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
    }
  })
})
