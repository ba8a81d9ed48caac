// What each face's bundle evaluates before its first API request (issue 20):
// only what that request needs. The report, a manifest's creation, the log
// follower and the diagnosis live in chunks that load later, and the bundle
// keeps webpack's parentheses around each module's function (V8 compiles
// those with the file instead of parsing them twice). And at the other end:
// once the report is written, the process exits, without closing its watches
// first (the exit closes them).
import { expect, test } from '@jest/globals'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { FakeApiServer } from './support/fake-apiserver.js'
import { DIST, runDist } from './support/run-dist.js'

const FACES = { action: DIST, cli: path.join(path.dirname(DIST), 'cli', 'index.js') }
const read = (file: string) => fs.readFileSync(file, 'utf8')
const chunksOf = (entry: string) =>
  fs
    .readdirSync(path.dirname(entry))
    .filter((f) => /^\d+\.index\.js$/.test(f))
    .map((f) => ({ file: f, text: read(path.join(path.dirname(entry), f)) }))

// A module's function as webpack writes it, `123:((module, exports, require) => {`, and without its
// parentheses, `123:(module, exports, require) => {` or `123:module => {`, as terser leaves it.
const ID = '[A-Za-z_$][\\w$]*'
const WRAPPED = new RegExp(`[{,]\\d+:\\(\\((?:${ID}(?:,${ID})*)?\\)=>|[{,]\\d+:\\(${ID}=>`, 'g')
const BARE = new RegExp(`[{,]\\d+:(?:\\((?:${ID}(?:,${ID})*)?\\)|${ID})=>`, 'g')

test.each(Object.entries(FACES))("the %s bundle keeps the parentheses around each module's function", (_face, entry) => {
  const text = read(entry)
  expect((text.match(BARE) ?? []).slice(0, 3)).toEqual([])
  expect((text.match(WRAPPED) ?? []).length).toBeGreaterThan(50)
})

// Names the minified bundle keeps, as strings where each is defined (its functions and classes keep their
// names); a name used elsewhere is a property, unquoted.
const LATER = {
  action: ['summaryMarkdown', 'createdMarkdown', 'reportCleanup', 'createJobs', 'LogFollower', 'collectDiagnosis'],
  cli: ['junitXml', 'buildkiteAnnotation', 'jsonOutput', 'createJobs', 'LogFollower', 'collectDiagnosis']
}

test.each(Object.entries(FACES))('the %s bundle leaves out of its start-up what only comes after the first answer', (face, entry) => {
  const main = read(entry)
  const chunks = chunksOf(entry)
  for (const name of LATER[face as keyof typeof LATER]) {
    // (booleans: a failure must not print the whole bundle)
    const defined = (text: string) => text.includes(`"${name}"`)
    expect([name, defined(main)]).toEqual([name, false])
    expect([name, chunks.some((c) => defined(c.text))]).toEqual([name, true])
  }
})

test('dist/index.js loads no chunk before its first connection, and the report code while the Job runs', async () => {
  const server = new FakeApiServer({ namespaces: ['ci'] })
  await server.start()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-load-'))
  // Records each chunk the bundle imports, and which ones were in by the first connection it opens.
  const preload = path.join(dir, 'record.mjs')
  const record = path.join(dir, 'loaded.jsonl')
  fs.writeFileSync(
    preload,
    [
      "import { registerHooks } from 'node:module'",
      "import dc from 'node:diagnostics_channel'",
      "import fs from 'node:fs'",
      'const chunks = []',
      'registerHooks({ load(url, context, next) { if (/\\/\\d+\\.index\\.js$/.test(url)) chunks.push(url.split("/").pop()); return next(url, context) } })',
      'let first = true',
      `const write = (at) => fs.appendFileSync(${JSON.stringify(record)}, JSON.stringify({ at, chunks }) + "\\n")`,
      "dc.subscribe('net.client.socket', () => { if (first) write('connect'); first = false })",
      "process.on('exit', () => write('exit'))"
    ].join('\n')
  )
  try {
    const job = server.createJob('ci', { metadata: { name: 'build' } })
    const pod = server.createPodForJob(job)
    server.startPod('ci', pod.metadata.name)
    const run = await runDist({
      inputs: { job: 'build', namespace: 'ci', kubeconfig: server.kubeconfig(), timeout: '20s' },
      env: { NODE_OPTIONS: `--import=${preload}` }
    })
    expect(run.stderr).toBe('')
    expect(run.outputs.result).toBe('met')
    expect(run.summary).toContain('ci/build')
    const seen = read(record)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { at: string; chunks: string[] })
    expect(seen.map((s) => s.at)).toEqual(['connect', 'exit'])
    expect(seen[0].chunks).toEqual([])
    // the report's code came in after it, from a chunk of its own
    const reportChunk = chunksOf(DIST).find((c) => c.text.includes('"summaryMarkdown"'))?.file
    expect(seen[1].chunks).toContain(reportChunk)
  } finally {
    await server.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

/**
 * A preload that counts what is aborted (watches' requests, timers' signals) after the report's file is
 * written; `reportFile`: a JavaScript expression for its path, in the child.
 */
function abortsAfterReport(dir: string, reportFile: string): { preload: string; record: string } {
  const preload = path.join(dir, 'record.mjs')
  const record = path.join(dir, 'record.json')
  fs.writeFileSync(
    preload,
    [
      "import fs from 'node:fs'",
      "import { syncBuiltinESMExports } from 'node:module'",
      'let reported = false',
      'let aborts = 0',
      `const mark = (file) => { if (String(file) === ${reportFile}) reported = true }`,
      'const append = fs.appendFileSync',
      'const write = fs.writeFileSync',
      'fs.appendFileSync = function (file, ...rest) { const r = append.call(this, file, ...rest); mark(file); return r }',
      'fs.writeFileSync = function (file, ...rest) { const r = write.call(this, file, ...rest); mark(file); return r }',
      'syncBuiltinESMExports()',
      'const abort = AbortController.prototype.abort',
      'AbortController.prototype.abort = function (...a) { if (reported) aborts++; return abort.apply(this, a) }',
      `process.on('exit', () => write(${JSON.stringify(record)}, JSON.stringify({ reported, aborts })))`
    ].join('\n')
  )
  return { preload, record }
}

test('dist/index.js exits once the report is written: no watch closed after it', async () => {
  const server = new FakeApiServer({ namespaces: ['ci'] })
  await server.start()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-exit-'))
  try {
    const job = server.createJob('ci', { metadata: { name: 'build' } })
    const pod = server.createPodForJob(job)
    const { preload, record } = abortsAfterReport(dir, 'process.env.GITHUB_STEP_SUMMARY')
    const run = runDist({
      inputs: { job: 'build', namespace: 'ci', kubeconfig: server.kubeconfig(), timeout: '20s', mode: 'watch' },
      env: { NODE_OPTIONS: `--import=${preload}` }
    })
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 })
    server.startPod('ci', pod.metadata.name)
    const r = await run
    expect(r.stderr).toBe('')
    expect(r.outputs.result).toBe('met')
    expect(JSON.parse(read(record))).toEqual({ reported: true, aborts: 0 })
  } finally {
    await server.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('dist/cli/index.js exits once the report is written: no watch closed after it', async () => {
  const server = new FakeApiServer({ namespaces: ['ci'] })
  await server.start()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-cli-exit-'))
  try {
    const job = server.createJob('ci', { metadata: { name: 'build' } })
    const pod = server.createPodForJob(job)
    const summary = path.join(dir, 'summary.md')
    const kubeconfig = path.join(dir, 'config')
    fs.writeFileSync(kubeconfig, server.kubeconfig())
    const { preload, record } = abortsAfterReport(dir, JSON.stringify(summary))
    const child = spawn(
      process.execPath,
      [FACES.cli, 'job/build', '-n', 'ci', '--kubeconfig', kubeconfig, '--for=phase=Running', '--timeout=20s', `--summary=${summary}`],
      { env: { PATH: process.env.PATH ?? '', HOME: dir, NODE_OPTIONS: `--import=${preload}` }, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.stdout.resume()
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    await server.waitForWatch({ resource: 'pods' }, { timeoutMs: 10_000 })
    server.startPod('ci', pod.metadata.name)
    expect(await exited).toBe(0)
    expect(stderr).toBe('')
    expect(JSON.parse(read(record))).toEqual({ reported: true, aborts: 0 })
  } finally {
    await server.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
