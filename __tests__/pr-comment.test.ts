// The sticky pull-request comment, against a local stand-in for GitHub's REST
// API (GITHUB_API_URL), through the real @actions/github (Octokit).
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals'
import * as core from '../__fixtures__/core.js'
import { FakeApiServer } from './support/fake-apiserver.js'

interface Comment {
  id: number
  body: string
  html_url: string
}
const comments: Comment[] = []
const calls: string[] = []
const gh = http.createServer((req, res) => {
  let body = ''
  req.on('data', (d) => (body += d))
  req.on('end', () => {
    calls.push(`${req.method} ${req.url?.split('?')[0]} ${req.headers.authorization}`)
    res.setHeader('content-type', 'application/json')
    if (req.method === 'GET' && req.url?.startsWith('/repos/acme/app/issues/7/comments')) return res.end(JSON.stringify(comments))
    if (req.method === 'POST' && req.url === '/repos/acme/app/issues/7/comments') {
      const c = {
        id: comments.length + 1,
        body: JSON.parse(body).body,
        html_url: `https://github.com/acme/app/pull/7#issuecomment-${comments.length + 1}`
      }
      comments.push(c)
      res.statusCode = 201
      return res.end(JSON.stringify(c))
    }
    const m = /^\/repos\/acme\/app\/issues\/comments\/(\d+)$/.exec(req.url ?? '')
    if (req.method === 'PATCH' && m) {
      const c = comments.find((x) => x.id === Number(m[1]))!
      c.body = JSON.parse(body).body
      return res.end(JSON.stringify(c))
    }
    res.statusCode = 404
    res.end('{"message":"Not Found"}')
  })
})

let kube: FakeApiServer
let run: typeof import('../src/github/main.js').run
beforeAll(async () => {
  await new Promise<void>((r) => gh.listen(0, '127.0.0.1', r))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-gh-'))
  const event = path.join(dir, 'event.json')
  fs.writeFileSync(event, JSON.stringify({ pull_request: { number: 7 } }))
  // @actions/github reads its context from the environment when it is loaded.
  Object.assign(process.env, {
    GITHUB_API_URL: `http://127.0.0.1:${(gh.address() as AddressInfo).port}`,
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: event,
    GITHUB_RUN_ID: '42',
    GITHUB_STEP_SUMMARY: '/dev/null'
  })
  jest.unstable_mockModule('@actions/core', () => core)
  run = (await import('../src/github/main.js')).run
  kube = new FakeApiServer({ namespaces: ['default', 'ci'] })
  await kube.start()
})
afterAll(async () => {
  await kube.stop()
  await new Promise((r) => gh.close(r))
})

test('one comment per Job: created on the first run, updated on the next', async () => {
  const job = kube.createJob('ci', { metadata: { name: 'build' }, spec: { parallelism: 1, completions: 1 } })
  const pod = kube.createPodForJob(job)
  kube.startPod('ci', pod.metadata.name)
  const inputs = {
    job: 'build',
    namespace: 'ci',
    kubeconfig: kube.kubeconfig(),
    'comment-on-pr': 'true',
    'github-token': 'ghs_secret_token_1'
  }
  core.reset(inputs)
  expect((await run({ tickMs: 50 })).result).toBe('met')
  expect(comments).toHaveLength(1)
  expect(comments[0].body.startsWith('<!-- kube-job-wait: ci/build -->\n## ✅ job `ci/build`: met')).toBe(true)
  expect(comments[0].body).toContain(`| ${pod.metadata.name} | Running |`)
  expect(comments[0].body).toContain('([run](https://github.com/acme/app/actions/runs/42))')
  expect(core.state.secrets).toContain('ghs_secret_token_1')

  core.reset({ ...inputs, phase: 'Succeeded', timeout: '1s' })
  expect((await run({ tickMs: 50 })).result).toBe('timeout')
  expect(comments).toHaveLength(1)
  expect(comments[0].body).toContain('## ⏱️ job `ci/build`: timeout')
  expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([
    'POST /repos/acme/app/issues/7/comments token ghs_secret_token_1',
    'PATCH /repos/acme/app/issues/comments/1 token ghs_secret_token_1'
  ])
})

test('a failing GitHub API is a warning, not the step result', async () => {
  core.reset({
    job: 'build',
    namespace: 'ci',
    kubeconfig: kube.kubeconfig(),
    'comment-on-pr': 'true',
    'github-token': 'ghs_secret_token_1'
  })
  const saved = comments.splice(0)
  gh.removeAllListeners('request')
  gh.on('request', (_req, res) => {
    res.statusCode = 500
    res.end('{"message":"boom"}')
  })
  const o = await run({ tickMs: 50 })
  comments.push(...saved)
  expect(o.result).toBe('met')
  const warnings = core.state.log.filter((l) => l.level === 'warning').map((l) => l.message)
  expect(warnings).toHaveLength(1)
  expect(warnings[0]).toMatch(/^could not comment on the pull request: /)
})

test('comment-on-pr without a token is a bad input', async () => {
  core.reset({ job: 'build', 'comment-on-pr': 'true', 'github-token': '' })
  const o = await run()
  expect(o.result).toBe('error')
  expect(core.state.failed).toBe(
    "Input 'comment-on-pr' is true but 'github-token' is empty: give a token that may write pull-request comments"
  )
})
