// Bad inputs, bad kubeconfigs and unusable API servers, through dist/index.js
// as the runner runs it. Every case must end the same way: exit code 1, the
// outputs written (result=error and the message), exactly one ::error:: line
// with exactly the message, and no stack trace anywhere a user looks (stack
// traces belong in ::debug:: lines only). A bad input or kubeconfig must be
// caught before any request: the fake API server the kubeconfig points at
// must see none.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { b64, testPki } from './support/certs.js'
import { FakeApiServer } from './support/fake-apiserver.js'
import { closedPort, startTlsFront, startWebServer, type Front } from './support/servers.js'
import { failures, kubeconfigYaml, runStep, stackFrames, type KubeconfigSpec, type StepDirs, type StepRun } from './support/step.js'

const NS = 'ci'

/** The defaults action.yml gives (the runner passes them as INPUT_* too), for a Job "build" in "ci". */
const defaults = (kubeconfig: string): Record<string, string> => ({
  job: 'build',
  namespace: NS,
  phase: '',
  'expected-count': '',
  match: 'at-least',
  condition: '',
  timeout: '15m',
  kubeconfig,
  context: '',
  mode: 'watch',
  'poll-interval': '2s',
  'pod-error-grace': '60s',
  'log-lines': '30',
  logs: 'failed',
  'log-max-streams': '20',
  'comment-on-pr': 'false',
  'github-token': 'ghs_not-a-real-token'
})

// Some sixty runs of a 5 MB bundle on a small machine: V8's compile cache
// (keyed by the file's content) saves about a third of each start. Nothing
// else about the run changes.
const COMPILE_CACHE = path.join(os.tmpdir(), 'kjw-node-compile-cache')
const step = (o: Parameters<typeof runStep>[0]) => runStep({ ...o, env: { NODE_COMPILE_CACHE: COMPILE_CACHE, ...o.env } })

/** A kubeconfig with a token for any server (not the fake one). */
const tokenKubeconfig = (url: string): string =>
  kubeconfigYaml({
    clusters: [{ name: 'c', server: url, insecure: true }],
    users: [{ name: 'ci', fields: { token: 'abcdefgh' } }],
    contexts: [{ name: 'c', cluster: 'c', user: 'ci' }],
    currentContext: 'c'
  })

/** Everything a failed step must show, whatever failed. */
function expectError(r: StepRun, message: string): void {
  expect({ code: r.code, signal: r.signal, failures: failures(r.stdout) }).toEqual({ code: 1, signal: null, failures: [message] })
  expect(r.outputs.result).toBe('error')
  expect(r.outputs.message).toBe(message)
  expect(r.outputs.count).toBe('0')
  expect(r.outputs.job).toBe('null')
  expect(stackFrames(r.stdout)).toEqual([])
  expect(stackFrames(r.stderr)).toEqual([])
  expect(r.stderr).toBe('')
  // The summary says it too.
  expect(r.summary).toContain('error')
}

// --- caught before any request: the cases ------------------------------------

interface Ctx {
  url: string
  /** a working kubeconfig for the fake server */
  kubeconfig: string
  token: string
}

interface Case {
  name: string
  inputs?: (c: Ctx) => Record<string, string>
  /** files to write before the step starts; returns environment variables to set */
  setup?: (d: StepDirs, c: Ctx) => Record<string, string>
  message: string | ((c: Ctx, d: StepDirs) => string)
}

const cluster = (c: Ctx, name = 'fake') => ({ name, server: c.url, insecure: true })
const user = (c: Ctx, name = 'ci') => ({ name, fields: { token: c.token } })
const kc = (spec: (c: Ctx) => KubeconfigSpec) => (c: Ctx) => ({ kubeconfig: kubeconfigYaml(spec(c)) })
/** dev and staging, both usable */
const twoContexts = (c: Ctx, currentContext?: string): KubeconfigSpec => ({
  clusters: [cluster(c)],
  users: [user(c)],
  contexts: [
    { name: 'dev', cluster: 'fake', user: 'ci' },
    { name: 'staging', cluster: 'fake', user: 'ci' }
  ],
  currentContext
})

const DURATION = 'expected a duration such as 90s, 15m or 1h30m (a bare number is seconds) up to 120h'
const JOB_NAME =
  'expected a Job name: lower-case letters, digits, "-" and ".", at most 63 characters, starting and ending with a letter or digit'
const NS_NAME = 'expected a namespace name: lower-case letters, digits and "-", at most 63 characters'
const NO_CREDENTIALS =
  "no cluster credentials: set the 'kubeconfig' input (e.g. kubeconfig: ${{ secrets.KUBECONFIG }}), or write KUBECONFIG or ~/.kube/config in an earlier step, or run the runner as a pod with a service account"

const SELECTOR =
  'expected a label selector such as app=migrate,tier!=web or "suite in (a,b)": key=value, key==value, key!=value, key in (v1,v2), key notin (v1,v2), key, !key, separated by commas'

const cases: Case[] = [
  // what to wait for
  {
    name: 'unknown phase',
    inputs: () => ({ phase: 'Runing' }),
    message: "Input 'phase' has an invalid value 'Runing': expected one of Pending, Running, Succeeded, Failed"
  },
  {
    name: 'phase Unknown (a pod phase, not one to wait for)',
    inputs: () => ({ phase: 'Unknown' }),
    message: "Input 'phase' has an invalid value 'Unknown': expected one of Pending, Running, Succeeded, Failed"
  },
  {
    name: 'negative count',
    inputs: () => ({ 'expected-count': '-1' }),
    message: "Input 'expected-count' has an invalid value '-1': expected a whole number from 1 to 1000000"
  },
  {
    name: 'non-numeric count',
    inputs: () => ({ 'expected-count': 'two' }),
    message: "Input 'expected-count' has an invalid value 'two': expected a whole number from 1 to 1000000"
  },
  {
    name: 'zero count',
    inputs: () => ({ 'expected-count': '0' }),
    message: "Input 'expected-count' has an invalid value '0': expected a whole number from 1 to 1000000"
  },
  {
    name: 'fractional count',
    inputs: () => ({ 'expected-count': '1.5' }),
    message: "Input 'expected-count' has an invalid value '1.5': expected a whole number from 1 to 1000000"
  },
  {
    name: 'unknown match',
    inputs: () => ({ match: 'most' }),
    message: "Input 'match' has an invalid value 'most': expected one of at-least, exact"
  },
  {
    name: 'unknown condition',
    inputs: () => ({ condition: 'Succeeded' }),
    message: "Input 'condition' has an invalid value 'Succeeded': expected one of Complete, Failed, Finished, Suspended"
  },
  {
    name: 'both phase and condition',
    inputs: () => ({ phase: 'Running', condition: 'Complete' }),
    message: "Inputs 'phase' ('Running') and 'condition' ('Complete') were both given: give one, a pod phase or a Job condition"
  },
  {
    name: 'expected-count with condition',
    inputs: () => ({ condition: 'Complete', 'expected-count': '2' }),
    message: "Input 'expected-count' ('2') applies to a pod phase, not to 'condition' ('Complete')"
  },
  // durations
  {
    name: 'timeout not a duration',
    inputs: () => ({ timeout: 'soon' }),
    message: `Input 'timeout' has an invalid value 'soon': ${DURATION}`
  },
  { name: 'timeout zero', inputs: () => ({ timeout: '0' }), message: `Input 'timeout' has an invalid value '0': ${DURATION}` },
  { name: 'timeout negative', inputs: () => ({ timeout: '-5m' }), message: `Input 'timeout' has an invalid value '-5m': ${DURATION}` },
  {
    name: 'timeout with a space',
    inputs: () => ({ timeout: '15 m' }),
    message: `Input 'timeout' has an invalid value '15 m': ${DURATION}`
  },
  { name: 'timeout beyond 120h', inputs: () => ({ timeout: '121h' }), message: `Input 'timeout' has an invalid value '121h': ${DURATION}` },
  {
    name: 'poll-interval too short',
    inputs: () => ({ 'poll-interval': '50ms' }),
    message: "Input 'poll-interval' has an invalid value '50ms': expected at least 100ms"
  },
  {
    name: 'poll-interval not a duration',
    inputs: () => ({ 'poll-interval': 'fast' }),
    message: `Input 'poll-interval' has an invalid value 'fast': ${DURATION}`
  },
  {
    name: 'pod-error-grace not a duration',
    inputs: () => ({ 'pod-error-grace': 'never' }),
    message: `Input 'pod-error-grace' has an invalid value 'never': ${DURATION}, or 0`
  },
  {
    name: 'log-lines too many',
    inputs: () => ({ 'log-lines': '5000' }),
    message: "Input 'log-lines' has an invalid value '5000': expected a whole number from 0 to 1000"
  },
  {
    name: 'logs not a mode',
    inputs: () => ({ logs: 'all' }),
    message: "Input 'logs' has an invalid value 'all': expected one of failed, follow, none"
  },
  {
    name: 'log-max-streams not a number',
    inputs: () => ({ 'log-max-streams': 'many' }),
    message: "Input 'log-max-streams' has an invalid value 'many': expected a whole number from 1 to 100"
  },
  // names
  {
    name: 'empty job',
    inputs: () => ({ job: '' }),
    message:
      "Input 'job' is required: the name of the Job to wait for (or several, one per line or separated by commas), or give 'selector', 'manifest' or 'from-cronjob'"
  },
  {
    name: 'blank job',
    inputs: () => ({ job: '   ' }),
    message:
      "Input 'job' is required: the name of the Job to wait for (or several, one per line or separated by commas), or give 'selector', 'manifest' or 'from-cronjob'"
  },
  {
    name: 'job with capitals and _',
    inputs: () => ({ job: 'Build_1' }),
    message: `Input 'job' has an invalid value 'Build_1': ${JOB_NAME}`
  },
  { name: 'job starting with -', inputs: () => ({ job: '-build' }), message: `Input 'job' has an invalid value '-build': ${JOB_NAME}` },
  {
    name: 'job of 64 characters',
    inputs: () => ({ job: 'a'.repeat(64) }),
    message: `Input 'job' has an invalid value '${'a'.repeat(64)}': ${JOB_NAME}`
  },
  {
    name: 'job of two lines with an empty one between: the message stays one line',
    inputs: () => ({ job: 'build\n\nother' }),
    message: "Input 'job' has an invalid value 'build\\n\\nother': a name is empty: give Job names one per line or separated by commas"
  },
  // several Jobs
  {
    name: 'job and selector together',
    inputs: () => ({ job: 'build', selector: 'app=x' }),
    message: "Inputs 'job' ('build') and 'selector' ('app=x') were both given: give one, Job names or a label selector"
  },
  {
    name: 'a Job named twice',
    inputs: () => ({ job: 'a, b, a' }),
    message: `Input 'job' has an invalid value 'a, b, a': "a" is named twice`
  },
  {
    name: 'a selector that does not parse',
    inputs: () => ({ job: '', selector: 'app in x' }),
    message: `Input 'selector' has an invalid value 'app in x': ${SELECTOR}`
  },
  {
    name: 'expected-jobs without a selector',
    inputs: () => ({ 'expected-jobs': '2' }),
    message: "Input 'expected-jobs' ('2') applies to 'selector', which is not given"
  },
  {
    name: 'expected-jobs below 1',
    inputs: () => ({ job: '', selector: 'app=x', 'expected-jobs': '0' }),
    message: "Input 'expected-jobs' has an invalid value '0': expected a whole number from 1 to 1000"
  },
  {
    name: 'fail-fast not a boolean',
    inputs: () => ({ 'fail-fast': 'yes' }),
    message: "Input 'fail-fast' has an invalid value 'yes': expected one of true, false"
  },
  {
    name: 'delete with phase Running',
    inputs: () => ({ delete: 'on-success', phase: 'Running' }),
    message:
      "Input 'delete' ('on-success') with phase Running would delete a Job that has just started: use it with phase Succeeded or Failed, or a condition"
  },
  {
    name: 'on-cancel unknown',
    inputs: () => ({ 'on-cancel': 'purge' }),
    message: "Input 'on-cancel' has an invalid value 'purge': expected one of keep, delete"
  },
  {
    name: 'namespace with capitals',
    inputs: () => ({ namespace: 'CI' }),
    message: `Input 'namespace' has an invalid value 'CI': ${NS_NAME}`
  },
  {
    name: 'namespace with a dot',
    inputs: () => ({ namespace: 'team.a' }),
    message: `Input 'namespace' has an invalid value 'team.a': ${NS_NAME}`
  },
  // how to wait
  {
    name: 'unknown mode',
    inputs: () => ({ mode: 'stream' }),
    message: "Input 'mode' has an invalid value 'stream': expected one of watch, poll"
  },
  {
    name: 'comment-on-pr not a boolean',
    inputs: () => ({ 'comment-on-pr': 'yes' }),
    message: "Input 'comment-on-pr' has an invalid value 'yes': expected one of true, false"
  },
  {
    name: 'comment-on-pr without a token',
    inputs: () => ({ 'comment-on-pr': 'true', 'github-token': '' }),
    message: "Input 'comment-on-pr' is true but 'github-token' is empty: give a token that may write pull-request comments"
  },
  // the kubeconfig input
  {
    name: 'kubeconfig neither YAML nor base64',
    inputs: () => ({ kubeconfig: 'not a kubeconfig!' }),
    message: "Input 'kubeconfig' is neither kubeconfig YAML nor base64 of it (value not shown: it is a secret)"
  },
  {
    name: 'kubeconfig base64 of binary garbage',
    inputs: () => ({
      kubeconfig: Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x9c, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]).toString('base64')
    }),
    message: "Input 'kubeconfig' is base64, but what it decodes to is not kubeconfig YAML (value not shown: it is a secret)"
  },
  {
    name: 'kubeconfig base64 of text that is not YAML',
    inputs: () => ({ kubeconfig: b64('hello world, this is not a kubeconfig') }),
    message: "Input 'kubeconfig' is base64, but what it decodes to is not kubeconfig YAML (value not shown: it is a secret)"
  },
  {
    name: 'kubeconfig that is not valid YAML',
    inputs: (c) => ({ kubeconfig: `apiVersion: v1\nclusters:\n- name: fake\n  cluster: {server: ${c.url}\nusers: [` }),
    message: "Input 'kubeconfig' could not be read: it is not valid YAML (line 5)"
  },
  {
    name: 'kubeconfig YAML without clusters',
    inputs: (c) => ({
      kubeconfig: kubeconfigYaml({ users: [user(c)], contexts: [{ name: 'fake', cluster: 'fake', user: 'ci' }], currentContext: 'fake' })
    }),
    message: "Input 'kubeconfig' has no clusters: is it a kubeconfig?"
  },
  {
    name: 'kubeconfig base64 of YAML that is not a kubeconfig',
    inputs: () => ({ kubeconfig: b64('name: build\nimage: busybox\n') }),
    message: "Input 'kubeconfig' has no clusters: is it a kubeconfig?"
  },
  {
    name: 'kubeconfig cluster without server',
    inputs: kc((c) => ({
      clusters: [{ name: 'fake', insecure: true }],
      users: [user(c)],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'ci' }],
      currentContext: 'fake'
    })),
    message: "Input 'kubeconfig' could not be read: clusters[0].cluster.server is missing"
  },
  {
    name: 'kubeconfig server without a scheme',
    inputs: kc((c) => ({
      clusters: [{ name: 'fake', server: c.url.replace('http://', ''), insecure: true }],
      users: [user(c)],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'ci' }],
      currentContext: 'fake'
    })),
    message: (c) => `the kubeconfig (input) cluster 'fake' has no valid server URL (got '${c.url.replace('http://', '')}')`
  },
  {
    name: 'unknown context: the available ones are listed',
    inputs: (c) => ({ kubeconfig: kubeconfigYaml(twoContexts(c, 'dev')), context: 'prod' }),
    message: "Input 'context' has an invalid value 'prod': the kubeconfig (input) has the contexts dev, staging"
  },
  {
    name: 'context naming a missing user',
    inputs: kc((c) => ({
      clusters: [cluster(c)],
      users: [user(c)],
      contexts: [{ name: 'dev', cluster: 'fake', user: 'ghost' }],
      currentContext: 'dev'
    })),
    message: "the kubeconfig (input) context 'dev' names user 'ghost', which it does not define"
  },
  {
    name: 'context naming a missing cluster',
    inputs: kc((c) => ({
      clusters: [cluster(c)],
      users: [user(c)],
      contexts: [{ name: 'dev', cluster: 'ghost', user: 'ci' }],
      currentContext: 'dev'
    })),
    message: "the kubeconfig (input) context 'dev' names cluster 'ghost', which it does not define"
  },
  {
    name: 'no current-context and several contexts',
    inputs: (c) => ({ kubeconfig: kubeconfigYaml(twoContexts(c)) }),
    message: "the kubeconfig (input) sets no current-context: set the 'context' input to one of: dev, staging"
  },
  {
    name: 'current-context naming a missing context',
    inputs: (c) => ({ kubeconfig: kubeconfigYaml(twoContexts(c, 'prod')) }),
    message: "the kubeconfig (input) has current-context 'prod', but no context of that name"
  },
  {
    name: 'http:// server without insecure-skip-tls-verify (client-node refuses plain HTTP)',
    inputs: kc((c) => ({
      clusters: [{ name: 'fake', server: c.url }],
      users: [user(c)],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'ci' }],
      currentContext: 'fake'
    })),
    message: (c) =>
      `list jobs: the server URL ${c.url} is plain http: allowed only when the kubeconfig's cluster sets insecure-skip-tls-verify: true`
  },
  {
    name: 'exec credential plugin not on PATH',
    inputs: kc((c) => ({
      clusters: [cluster(c)],
      users: [
        {
          name: 'ci',
          fields: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: 'kubectl-login-not-installed',
              args: ['get-token'],
              interactiveMode: 'Never'
            }
          }
        }
      ],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'ci' }],
      currentContext: 'fake'
    })),
    message: 'list jobs: could not get credentials from the kubeconfig: spawn kubectl-login-not-installed ENOENT'
  },
  // credentials from the runner's environment
  {
    name: 'KUBECONFIG pointing to a missing file',
    inputs: () => ({ kubeconfig: '' }),
    setup: (d) => ({ KUBECONFIG: path.join(d.temp, 'missing', 'kubeconfig') }),
    message: (_c, d) =>
      `KUBECONFIG is set to ${path.join(d.temp, 'missing', 'kubeconfig')}, but no such file exists: set the 'kubeconfig' input or fix the earlier step that writes it`
  },
  {
    name: 'KUBECONFIG file that is not valid YAML',
    inputs: () => ({ kubeconfig: '' }),
    setup: (d) => {
      fs.writeFileSync(path.join(d.temp, 'kubeconfig'), 'clusters: [\n')
      return { KUBECONFIG: path.join(d.temp, 'kubeconfig') }
    },
    message: (_c, d) => `KUBECONFIG file ${path.join(d.temp, 'kubeconfig')} could not be read: it is not valid YAML (line 2)`
  },
  {
    name: '~/.kube/config with several contexts and no current-context',
    inputs: () => ({ kubeconfig: '' }),
    setup: (d, c) => {
      fs.mkdirSync(path.join(d.home, '.kube'))
      fs.writeFileSync(path.join(d.home, '.kube', 'config'), kubeconfigYaml(twoContexts(c)))
      return {}
    },
    message: "the kubeconfig (~/.kube/config) sets no current-context: set the 'context' input to one of: dev, staging"
  },
  { name: 'no credentials at all', inputs: () => ({ kubeconfig: '' }), message: NO_CREDENTIALS },
  {
    name: 'in-cluster variables but no service account token',
    inputs: () => ({ kubeconfig: '' }),
    setup: () => ({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }),
    message: NO_CREDENTIALS
  }
]

// One group: jest runs the concurrent tests of a describe block together, and
// the unreachable-server case (10 s and more) should overlap all the others.
describe('every way to fail: exit 1, one ::error:: line, outputs, no stack trace', () => {
  const pki = testPki()
  let server: FakeApiServer
  let tls: Front
  beforeAll(async () => {
    server = new FakeApiServer({ namespaces: ['default', NS] })
    await server.start()
    tls = await startTlsFront({ server: pki.server, clientCa: pki.ca, upstream: server.url, upstreamToken: server.tokenFor('admin') })
  })
  afterAll(async () => {
    await tls.stop()
    await server.stop()
  })

  const tlsKubeconfig = (o: { caData: string; client: { cert: string; key: string } }) =>
    kubeconfigYaml({
      clusters: [{ name: 'tls', server: tls.url, caData: b64(o.caData) }],
      users: [{ name: 'ci', fields: { 'client-certificate-data': b64(o.client.cert), 'client-key-data': b64(o.client.key) } }],
      contexts: [{ name: 'tls', cluster: 'tls', user: 'ci', namespace: NS }],
      currentContext: 'tls'
    })
  // A 401 says which credential was refused and what to do about it.
  const UNAUTHORIZED = 'list jobs: the API server rejected the credentials (401 Unauthorized): '

  test.concurrent(
    'unreachable server (nothing listens on the port): "cannot reach the API server" after the grace period',
    async () => {
      const port = await closedPort()
      const url = `http://127.0.0.1:${port}`
      const r = await step({ inputs: defaults(tokenKubeconfig(url)) })
      expectError(r, `list jobs: cannot reach the API server ${url}: connect ECONNREFUSED 127.0.0.1:${port}`)
      // unreachableGraceMs is 10 s in dist/ (and not a whole backoff step more: see faults.test.ts)
      expect(r.ms).toBeGreaterThanOrEqual(10_000)
      expect(r.ms).toBeLessThan(13_000)
    },
    40_000
  )

  test.concurrent('wrong token: 401 in plain words', async () => {
    const r = await step({ inputs: { ...defaults(server.kubeconfig('admin', { token: 'wrong-token-0123456789' })) } })
    expectError(
      r,
      UNAUTHORIZED +
        "the token of user 'admin' of the 'kubeconfig' input is wrong or expired, and a token written in a kubeconfig cannot be refreshed: give a current one, or use a tokenFile or an exec plugin (e.g. aws eks get-token) that fetches fresh tokens"
    )
  })

  test.concurrent('a basic-auth user the server does not know: 401', async () => {
    const r = await step({
      inputs: defaults(
        kubeconfigYaml({
          clusters: [{ name: 'fake', server: server.url, insecure: true }],
          users: [{ name: 'ci', fields: { username: 'ci-bot', password: 'hunter2-but-longer' } }],
          contexts: [{ name: 'fake', cluster: 'fake', user: 'ci' }],
          currentContext: 'fake'
        })
      )
    })
    expectError(r, UNAUTHORIZED + "the username and password of user 'ci' of the 'kubeconfig' input are not accepted")
  })

  test.concurrent('no rights: the RBAC message names the verb and the resource', async () => {
    server.addUser('nobody', [])
    const r = await step({ inputs: defaults(server.kubeconfig('nobody')) })
    expectError(
      r,
      `list jobs: jobs.batch "build" is forbidden: User "nobody" cannot list resource "jobs" in API group "batch" in the namespace "${NS}"`
    )
  })

  test.concurrent('a namespace that does not exist', async () => {
    const r = await step({ inputs: { ...defaults(server.kubeconfig()), namespace: 'does-not-exist' } })
    expectError(r, `namespace "does-not-exist" not found: check the 'namespace' input or the kubeconfig context's namespace`)
  })

  test.concurrent('TLS works end to end with a client certificate (the control case)', async () => {
    const job = server.createJob(NS, { metadata: { name: 'tls-ok' } })
    server.startPod(NS, server.createPodForJob(job).metadata.name)
    const r = await step({
      inputs: { ...defaults(tlsKubeconfig({ caData: pki.ca.cert, client: pki.client })), job: 'tls-ok', namespace: '' }
    })
    expect({ code: r.code, result: r.outputs.result, message: r.outputs.message }).toEqual({
      code: 0,
      result: 'met',
      message: '1 of 1 pod Running'
    })
  })

  test.concurrent('an expired client certificate: 401, the server saw CERT_HAS_EXPIRED', async () => {
    const r = await step({ inputs: defaults(tlsKubeconfig({ caData: pki.ca.cert, client: pki.expiredClient })) })
    expectError(
      r,
      UNAUTHORIZED +
        "the client certificate of user 'ci' of the 'kubeconfig' input is not accepted: it may have expired, or the cluster's CA may not have signed it"
    )
    expect(tls.requests.some((q) => q.authorizationError === 'CERT_HAS_EXPIRED')).toBe(true)
  })

  test.concurrent(
    'a certificate-authority-data that did not sign the server certificate: a TLS message that says where to look',
    async () => {
      const r = await step({ inputs: defaults(tlsKubeconfig({ caData: pki.otherCa.cert, client: pki.client })) })
      expectError(
        r,
        `list jobs: TLS to ${tls.url} failed: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN); check certificate-authority-data in the kubeconfig`
      )
    }
  )

  test.concurrent('a web server that answers HTML 200: not a Kubernetes API server', async () => {
    const web = await startWebServer(200)
    try {
      const r = await step({ inputs: defaults(tokenKubeconfig(web.url)) })
      expectError(r, `list jobs: ${web.url} did not answer with JSON: is it a Kubernetes API server?`)
      expect(web.requests).toHaveLength(1)
    } finally {
      await web.stop()
    }
  })

  // Was "list jobs: HTTP 404" (found here, fixed in src 2a3c725): a real API
  // server answers 404 only with a Status body.
  test.concurrent('a web server that answers HTML 404: not a Kubernetes API server, no retry', async () => {
    const web = await startWebServer(404, '<html><body><h1>404 Not Found</h1></body></html>')
    try {
      const r = await step({ inputs: defaults(tokenKubeconfig(web.url)) })
      expectError(
        r,
        'list jobs: HTTP 404 without a Kubernetes Status: is it a Kubernetes API server? Check the server URL in the kubeconfig'
      )
      expect(web.requests).toHaveLength(1)
    } finally {
      await web.stop()
    }
  })

  test('there are at least 30 cases caught before any request', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30)
  })

  test.concurrent.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const server = new FakeApiServer({ namespaces: ['default', NS] })
    await server.start()
    try {
      const ctx: Ctx = { url: server.url, kubeconfig: server.kubeconfig(), token: server.tokenFor('admin') }
      let dirs: StepDirs | undefined
      const r = await step({
        inputs: { ...defaults(ctx.kubeconfig), ...c.inputs?.(ctx) },
        setup: (d) => {
          dirs = d
          return c.setup?.(d, ctx) ?? {}
        }
      })
      expectError(r, typeof c.message === 'string' ? c.message : c.message(ctx, dirs!))
      expect(server.requests).toEqual([])
    } finally {
      await server.stop()
    }
  })
})
