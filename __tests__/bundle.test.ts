// What the bundle holds and loads (issues 13 and 20): client-node's kubeconfig
// and authentication code without its generated API, @actions/github in a
// chunk of its own that only a PR comment loads, undici (once) and socks in
// chunks of their own, loaded on first use, for both faces (the action and
// the CLI).
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { FakeApiServer } from './support/fake-apiserver.js'
import { DIST, runDist } from './support/run-dist.js'

const DIST_DIR = path.dirname(DIST)
const main = fs.readFileSync(DIST, 'utf8')
const chunks = fs.readdirSync(DIST_DIR).filter((f) => /^\d+\.index\.js$/.test(f))
const FACES = { action: DIST_DIR, cli: path.join(DIST_DIR, 'cli') }
const faceFiles = (dir: string) => ({
  main: fs.readFileSync(path.join(dir, 'index.js'), 'utf8'),
  chunks: fs
    .readdirSync(dir)
    .filter((f) => /^\d+\.index\.js$/.test(f))
    .map((f) => ({ name: f, text: fs.readFileSync(path.join(dir, f), 'utf8') }))
})

// The size bound catches the generated models (MBs) or a lazy chunk (180 kB or more) coming back into
// the start-up bundle, with room for the action's own code to grow.
test('the start-up bundle has no generated models and no Octokit, and is under 600 kB', () => {
  // (booleans: a failure must not print the whole bundle)
  expect(/V1PodSpec|BatchV1Api|ObjectSerializer/.test(main)).toBe(false)
  expect(/octokit-core|api\.github\.com/.test(main)).toBe(false)
  expect(Buffer.byteLength(main)).toBeLessThan(600_000)
  // the only module the bundle imports from a file of its own: the stand-in for client-node's gen/
  const imports = [...main.matchAll(/from\s*"(\.[^"]+)"/g)].map((m) => m[1])
  expect(imports).toEqual(['./gen/index.js'])
})

test("@actions/github and undici's fetch (only Octokit calls it) are in chunks of their own", () => {
  const text = chunks.map((c) => fs.readFileSync(path.join(DIST_DIR, c), 'utf8'))
  expect(text.filter((t) => /octokit-core/.test(t))).toHaveLength(1)
  expect(text.filter((t) => /fetch failed/.test(t))).toHaveLength(1)
  expect(/fetch failed|EventSource|MockAgent/.test(main)).toBe(false) // nor the rest of undici's index
})

// the name of undici's diagnostics channel for new requests: once per copy of undici
const UNDICI = 'undici:request:create'

test.each(Object.entries(FACES))(
  '%s: undici and socks are not in the start-up bundle; one copy of each, in chunks of their own',
  (_face, dir) => {
    const f = faceFiles(dir)
    expect(f.main.includes(UNDICI)).toBe(false)
    expect(/Address6/.test(f.main)).toBe(false) // ip-address, which socks loads
    expect(f.chunks.reduce((n, c) => n + c.text.split(UNDICI).length - 1, 0)).toBe(1)
    expect(f.chunks.filter((c) => /Address6/.test(c.text))).toHaveLength(1)
  }
)

test('a whole wait through the bundle with the undici and socks chunks taken away: neither is loaded', async () => {
  const job = kube.createJob('ci', { metadata: { name: 'no-undici' } })
  kube.startPod('ci', kube.createPodForJob(job).metadata.name)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-bundle-'))
  fs.cpSync(DIST_DIR, dir, { recursive: true })
  const removed = faceFiles(dir).chunks.filter((c) => c.text.includes(UNDICI) || /Address6/.test(c.text))
  expect(removed).toHaveLength(2)
  for (const c of removed) fs.rmSync(path.join(dir, c.name))
  const r = await runDist({
    entry: path.join(dir, 'index.js'),
    inputs: { job: 'no-undici', namespace: 'ci', kubeconfig: kube.kubeconfig(), timeout: '20s' }
  })
  fs.rmSync(dir, { recursive: true, force: true })
  expect(r.stderr).toBe('')
  expect(r.outputs.result).toBe('met')
})

test("the stand-in for client-node's gen/ says what is missing if anything calls it", async () => {
  const gen = (await import(path.join(DIST_DIR, 'gen', 'index.js'))) as { createConfiguration: () => unknown }
  expect(() => gen.createConfiguration()).toThrow(/generated API is not in this bundle/)
})

// A PR comment through the bundle: the chunk loads and Octokit posts.
const posts: string[] = []
const gh = http.createServer((req, res) => {
  let body = ''
  req.on('data', (d) => (body += d))
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    if (req.method === 'GET') return res.end('[]')
    posts.push(`${req.method} ${req.url} ${JSON.parse(body).body.split('\n')[0]}`)
    res.statusCode = 201
    res.end(JSON.stringify({ id: 1, html_url: 'https://github.com/acme/app/pull/7#issuecomment-1' }))
  })
})
let kube: FakeApiServer
beforeAll(async () => {
  await new Promise<void>((r) => gh.listen(0, '127.0.0.1', r))
  kube = new FakeApiServer({ namespaces: ['default', 'ci'] })
  await kube.start()
})
afterAll(async () => {
  await kube.stop()
  await new Promise((r) => gh.close(r))
})

test('comment-on-pr through the bundle loads the chunk and posts the comment', async () => {
  const job = kube.createJob('ci', { metadata: { name: 'build' } })
  kube.startPod('ci', kube.createPodForJob(job).metadata.name)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-bundle-'))
  const event = path.join(dir, 'event.json')
  fs.writeFileSync(event, JSON.stringify({ pull_request: { number: 7 } }))
  const r = await runDist({
    inputs: {
      job: 'build',
      namespace: 'ci',
      kubeconfig: kube.kubeconfig(),
      timeout: '20s',
      'comment-on-pr': 'true',
      'github-token': 'ghs_bundletest'
    },
    env: {
      GITHUB_API_URL: `http://127.0.0.1:${(gh.address() as AddressInfo).port}`,
      GITHUB_REPOSITORY: 'acme/app',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event
    }
  })
  fs.rmSync(dir, { recursive: true, force: true })
  expect(r.stderr).toBe('')
  expect(r.outputs.result).toBe('met')
  expect(posts).toEqual(['POST /repos/acme/app/issues/7/comments <!-- kube-job-wait: ci/build -->'])
})
