// The one deep import of src/ (src/kube/kubeconfig.ts): client-node's
// KubeConfig from its dist/config.js, so that its generated API is neither
// loaded nor bundled (npm run bundle puts src/kube/gen-stub.js in its place).
// These fail when client-node changes under it.
import { expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import * as clientNode from '@kubernetes/client-node'
import { KubeConfig } from '../src/kube/kubeconfig.js'
import { ROOT } from './support/run-dist.js'

const require = createRequire(path.join(ROOT, 'package.json'))
const configJs = fs.readFileSync(require.resolve('@kubernetes/client-node/dist/config.js'), 'utf8')

test("dist/config.js's KubeConfig is the package's, with every method we call", () => {
  expect(KubeConfig).toBe(clientNode.KubeConfig)
  const used = [
    'loadFromString',
    'loadFromOptions',
    'loadFromCluster',
    'makePathsAbsolute',
    'applyToHTTPSOptions',
    'getCurrentCluster',
    'getCurrentUser',
    'getCurrentContext',
    'setCurrentContext',
    'getContextObject',
    'getClusters',
    'getContexts',
    'getUsers',
    'exportConfig'
  ]
  expect(used.filter((m) => typeof (KubeConfig.prototype as unknown as Record<string, unknown>)[m] !== 'function')).toEqual([])
})

test('the generated API that gen-stub.js stands in for is imported by config.js for these two names, used in makeApiClient only', () => {
  const imports = [...configJs.matchAll(/import\s*\{([^}]*)\}\s*from\s*'\.\/gen\/index\.js'/g)].map((m) =>
    m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  )
  expect(imports).toEqual([['createConfiguration', 'ServerConfiguration']])
  const stub = fs.readFileSync(path.join(ROOT, 'src', 'kube', 'gen-stub.js'), 'utf8')
  for (const name of imports[0]) expect(stub).toMatch(new RegExp(`export (function|class) ${name}\\b`))
  // every use of them lies in the body of makeApiClient, which src/ never calls
  const start = configJs.indexOf('    makeApiClient(')
  const end = configJs.indexOf('\n    }\n', start)
  expect(start).toBeGreaterThan(0)
  for (const use of configJs.matchAll(/createConfiguration\(|new ServerConfiguration\(/g)) {
    expect(use.index).toBeGreaterThan(start)
    expect(use.index).toBeLessThan(end)
  }
  const callers = fs
    .readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ts$/.test(f) && /\.makeApiClient\(/.test(fs.readFileSync(path.join(ROOT, 'src', f), 'utf8')))
  expect(callers).toEqual([])
})

test('applyToHTTPSOptions still gives the TLS options and headers the connection is built from', async () => {
  const kc = new KubeConfig()
  kc.loadFromString(
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://k.example:6443", certificate-authority-data: Y2E=, tls-server-name: api.k, proxy-url: "http://p:3128"}}]',
      'users: [{name: u, user: {token: abc, client-certificate-data: Y2VydA==, client-key-data: a2V5}}]',
      'contexts: [{name: c, context: {cluster: c, user: u}}]',
      'current-context: c',
      ''
    ].join('\n')
  )
  const opts: Record<string, unknown> & { headers?: Record<string, string> } = {}
  await kc.applyToHTTPSOptions(opts)
  expect(opts).toMatchObject({ ca: Buffer.from('ca'), cert: Buffer.from('cert'), key: Buffer.from('key'), servername: 'api.k' })
  expect(opts.headers?.Authorization).toBe('Bearer abc')
  expect(kc.getCurrentCluster()?.proxyUrl).toBe('http://p:3128')
})
