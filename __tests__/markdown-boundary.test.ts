// Cluster text cannot change the page. Every string field of the pods, the
// Jobs, the verdict and the diagnosis is filled with hostile text; the job
// summary and the PR comment are rendered for one and for several Jobs and
// every outcome, and parsed as GitHub parses them (micromark's GFM). Each
// render is compared with its twin: the same outcome with every hostile
// string swapped for a plain word (the same word for the same string, so
// that every comparison the renderer makes comes out the same). Hostile text
// may change the words on the page, never its shape: not one heading, table
// cell, link, code block or HTML node more or less. What the parse does not
// show (GitHub's mentions and references, the mermaid chart's own syntax,
// the raw HTML lines) is checked on the parsed nodes.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from '@jest/globals'
import type { V1Pod } from '@kubernetes/client-node'
import ts from 'typescript'
import { groupCauses } from '../src/decide/explain.js'
import type { Verdict } from '../src/decide/verdict.js'
import type { Diagnosis, EventLine } from '../src/diagnose/collect.js'
import type { ContainerInfo, JobInfo, PodInfo, Snapshot, Target } from '../src/model.js'
import { podInfo } from '../src/observe/convert.js'
import type { JobReport, Outcome, Result } from '../src/report/outcome.js'
import { commentBody } from '../src/github/pr-comment.js'
import { MAX_POD_ROWS, summaryMarkdown } from '../src/report/summary.js'
import { parse, problems, shape, text, walk } from './support/gfm-page.js'

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

// ---------------------------------------------------------------- hostile text

/** A fixed list of pieces that each try to change a page; a seeded generator combines them. */
const PIECES = [
  'a | b',
  '|',
  '\\|',
  '`',
  '``',
  '```',
  '````',
  '~~~',
  '```mermaid',
  '```\n# Owned\n```',
  '\n',
  '\r\n',
  '\r',
  '\n\n## Heading',
  '\n---\n',
  '\n| a | b |\n| --- | --- |\n| c | d |',
  '# h1',
  '### h3',
  '- item',
  '* item',
  '+ item',
  '1. one',
  '2) two',
  '> quote',
  '    indented',
  '---',
  '===',
  '***',
  '___',
  '<img src=x onerror=alert(1)>',
  '<b>bold</b>',
  '</details>',
  '<details open>',
  '</summary>',
  '</code>',
  '<code>',
  '</sub>',
  '<script>alert(1)</script>',
  '<a href="https://evil.example">x</a>',
  '<!-- c -->',
  '<!--',
  '-->',
  '--!>',
  '[link](https://evil.example)',
  '![img](https://evil.example/i.png)',
  '[ref][1]',
  '[1]: https://evil.example',
  '[^note]',
  '<https://evil.example>',
  'https://evil.example/x',
  'http://evil.example',
  'www.evil.example',
  'mailto:a@evil.example',
  'someone@evil.example',
  '@octocat',
  '@org/team',
  'cc @octocat',
  '#123',
  'owner/repo#45',
  'GH-67',
  'gh-8',
  '&lt;img&gt;',
  '&#64;octocat',
  '&#x23;9',
  '&amp;',
  '&',
  '\\',
  '\\`',
  '**bold**',
  '_em_',
  '~~del~~',
  '$x^2$',
  '$$',
  ':+1:',
  '[ ] task',
  '[x] done',
  '%%{init: {"theme":"dark"}}%%',
  '%% comment',
  'section evil',
  ': crit, 1, 2',
  '; click x call alert()',
  '#35;',
  'x --> y',
  '\x1b[31mred\x1b[0m',
  '\x1b]8;;https://evil.example\x07link\x1b]8;;\x07',
  '\u202egnp.exe',
  '\u2028',
  '\u0000',
  '\t',
  '😀',
  'Ω',
  'é'
]

/** mulberry32: a small seeded generator, so that every run tests the same strings. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

class Hostile {
  readonly #next: () => number
  constructor(seed: number) {
    this.#next = random(seed)
  }
  int(n: number): number {
    return Math.floor(this.#next() * n)
  }
  chance(p: number): boolean {
    return this.#next() < p
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!
  }
  /** One to four pieces with a word at one end (never blank once cleaned); now and then a long one. */
  text(): string {
    const parts: string[] = []
    for (let i = 0, n = 1 + this.int(4); i < n; i++) parts.push(this.pick(PIECES))
    let s = parts.join(this.pick(['', ' ', '\n']))
    s = this.chance(0.5) ? `evil ${s}` : `${s} evil`
    if (this.chance(0.05)) s = s.repeat(Math.ceil(2500 / s.length))
    return s
  }
  /** Hostile text that is no date (a timestamp the renderer shows but cannot read). */
  timestamp(): string {
    // Date.parse reads much as a date: the twin's words read as none, so the hostile text must not either.
    for (let i = 0; i < 10; i++) {
      const s = this.text()
      if (Number.isNaN(Date.parse(s))) return s
    }
    return '<img src=x> | @octocat'
  }
  lines(): string[] {
    return Array.from({ length: 1 + this.int(6) }, () => this.text())
  }
}

// ---------------------------------------------------------------- outcomes

const T0 = Date.parse('2026-12-04T10:00:00Z')
const NOW = T0 + 600_000
const iso = (s: number) => new Date(T0 + s * 1000).toISOString()
const RUN_URL = 'https://github.com/acme/app/actions/runs/42'

function container(h: Hostile, timed: boolean, fate: number): ContainerInfo {
  const time = (s: number) => (timed ? iso(s) : h.timestamp())
  const base = { name: h.text(), init: h.chance(0.2), image: h.text(), restartCount: h.int(3) }
  switch (fate) {
    case 0:
      return { ...base, state: 'running', startedAt: time(5) }
    case 1:
      return { ...base, state: 'terminated', reason: h.text(), message: h.text(), exitCode: 0, startedAt: time(5), finishedAt: time(30) }
    case 2:
      return { ...base, state: 'terminated', reason: h.text(), message: h.text(), exitCode: 3, startedAt: time(5), finishedAt: time(20) }
    case 3:
      return { ...base, state: 'waiting', reason: h.pick(['ImagePullBackOff', 'CreateContainerConfigError']), message: h.text() }
    case 4:
      return {
        ...base,
        state: 'waiting',
        reason: 'CrashLoopBackOff',
        message: h.text(),
        restartCount: 4,
        lastStartedAt: time(10),
        lastFinishedAt: time(12)
      }
    default:
      return { ...base, state: 'unknown' }
  }
}

const PHASE_OF_FATE = ['Running', 'Succeeded', 'Failed', 'Pending', 'Running', 'Unknown'] as const

function pod(h: Hostile, timed: boolean): PodInfo {
  const fate = h.int(6)
  const time = (s: number) => (timed ? iso(s) : h.timestamp())
  const p: PodInfo = {
    name: h.text(),
    uid: h.text(),
    // Now and then a phase the API server would never send: it is shown too.
    phase: h.chance(0.15) ? (h.text() as PodInfo['phase']) : PHASE_OF_FATE[fate]!,
    node: h.text(),
    creationTimestamp: time(0),
    startTime: time(1),
    ownerUid: h.text(),
    completionIndex: h.chance(0.5) ? h.text() : undefined,
    ready: h.chance(0.5),
    restarts: h.int(5),
    containers: [container(h, timed, fate), ...(h.chance(0.3) ? [container(h, timed, h.int(6))] : [])]
  }
  if (h.chance(0.15)) p.deletionTimestamp = time(40)
  if (h.chance(0.2)) {
    p.podReason = h.text()
    p.podMessage = h.text()
  }
  if (h.chance(0.15)) p.unschedulable = { reason: h.text(), message: h.text(), since: time(2) }
  return p
}

function jobInfo(h: Hostile, timed: boolean): JobInfo {
  const time = (s: number) => (timed ? iso(s) : h.timestamp())
  return {
    name: h.text(),
    namespace: h.text(),
    uid: h.text(),
    creationTimestamp: time(0),
    parallelism: 3,
    completions: 3,
    completionMode: h.text(),
    backoffLimit: 1,
    suspend: false,
    managedBy: h.text(),
    selector: h.text(),
    active: h.int(4),
    ready: h.int(4),
    succeeded: h.int(4),
    failed: h.int(4),
    terminating: 0,
    startTime: time(1),
    completionTime: h.chance(0.5) ? time(60) : undefined,
    conditions: Array.from({ length: h.int(3) }, () => ({
      type: h.text(),
      status: h.text(),
      reason: h.chance(0.8) ? h.text() : undefined,
      message: h.chance(0.8) ? h.text() : undefined,
      lastTransitionTime: time(50)
    }))
  }
}

const events = (h: Hostile): EventLine[] =>
  Array.from({ length: h.int(4) }, () => ({ object: h.text(), reason: h.text(), message: h.text(), count: 1 + h.int(3) }))

/** One Job: its snapshot, a verdict whose problems the real grouping made of the hostile pods, and a diagnosis. */
function oneJob(h: Hostile, state: Verdict['state']): { snapshot: Snapshot; verdict: Verdict; diagnosis: Diagnosis } {
  const timed = h.chance(0.6)
  const many = h.chance(0.08)
  const pods = Array.from({ length: many ? MAX_POD_ROWS + 1 + h.int(10) : h.int(7) }, () => pod(h, timed))
  const job = h.chance(0.9) ? jobInfo(h, timed) : undefined
  const snapshot: Snapshot = {
    namespace: h.text(),
    name: h.text(),
    job,
    jobDeleted: h.chance(0.2),
    inferred: h.chance(0.2)
      ? { condition: { type: h.text(), status: 'True', reason: h.text(), message: h.text() }, source: 'events' }
      : undefined,
    pods
  }
  const groups = groupCauses(pods)
  const verdict: Verdict = {
    state,
    summary: h.text(),
    detail: h.text(),
    message: h.text(),
    count: h.int(4),
    expected: 3,
    problems: groups,
    notes: Array.from({ length: h.int(3) }, () => ({ title: h.text(), message: h.text() }))
  }
  const diagnosis: Diagnosis = {
    evidence: groups.slice(0, 3).map((g) => ({
      pod: g.pods[0]!.name,
      cause: g.first,
      log: h.chance(0.8) ? { container: h.text(), previous: h.chance(0.5), lines: h.chance(0.1) ? [] : h.lines() } : undefined,
      events: events(h)
    })),
    jobEvents: events(h),
    notes: Array.from({ length: h.int(3) }, () => h.text())
  }
  return { snapshot, verdict, diagnosis }
}

const TARGETS: Target[] = [
  { kind: 'condition', condition: 'Complete' },
  { kind: 'phase', phase: 'Succeeded', expectedCount: 3, match: 'exact' },
  { kind: 'phase', phase: 'Running', match: 'at-least' }
]
const RESULTS: Result[] = ['met', 'failed', 'timeout', 'cancelled', 'error']
const STATES: Verdict['state'][] = ['met', 'failed', 'timeout', 'cancelled', 'waiting']

function outcome(seed: number, result: Result, several: boolean): Outcome {
  const h = new Hostile(seed)
  const base = {
    result,
    message: h.text(),
    namespace: h.chance(0.9) ? h.text() : undefined,
    target: h.pick(TARGETS),
    elapsedMs: h.int(1_000_000),
    mode: h.pick(['watch', 'poll', undefined]),
    requests: h.int(100),
    runUrl: h.chance(0.8) ? RUN_URL : undefined
  }
  if (!several) {
    const { snapshot, verdict, diagnosis } = oneJob(h, result === 'error' ? 'waiting' : result)
    return { ...base, job: h.chance(0.95) ? h.text() : undefined, verdict, snapshot, diagnosis }
  }
  const jobs: JobReport[] = Array.from({ length: 2 + h.int(3) }, () => {
    const { snapshot, verdict, diagnosis } = oneJob(h, h.pick(STATES))
    return { name: h.text(), snapshot, verdict, diagnosis }
  })
  return { ...base, jobs, count: h.int(9), notes: Array.from({ length: h.int(3) }, () => ({ title: h.text(), message: h.text() })) }
}

/** Strings the renderer compares with its own words, and valid timestamps: kept in the twin. */
const KEEP = new Set<string>([
  ...RESULTS,
  ...STATES,
  ...PHASE_OF_FATE,
  'Pending',
  'running',
  'terminated',
  'waiting',
  'unknown',
  'ImagePullBackOff',
  'CreateContainerConfigError',
  'CrashLoopBackOff',
  'True',
  'events',
  'watch',
  'poll',
  'condition',
  'phase',
  'Complete',
  'Succeeded',
  'Running',
  'exact',
  'at-least',
  RUN_URL
])

/** The same outcome with every other string swapped for a plain word, the same word for the same string. */
function twin(o: Outcome): Outcome {
  const words = new Map<string, string>()
  const seen = new Map<object, unknown>()
  const swap = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (KEEP.has(v) || (/^\d{4}-\d\d-\d\dT/.test(v) && !Number.isNaN(Date.parse(v)))) return v
      if (!words.has(v)) words.set(v, `word${words.size}`)
      return words.get(v)
    }
    if (v === null || typeof v !== 'object') return v
    if (seen.has(v)) return seen.get(v)
    const copy: Record<string, unknown> | unknown[] = Array.isArray(v) ? [] : {}
    seen.set(v, copy)
    for (const [k, x] of Object.entries(v)) (copy as Record<string, unknown>)[k] = swap(x)
    return copy
  }
  return swap(o) as Outcome
}

const SEEDS = Array.from({ length: 16 }, (_, i) => 1000 + i * 7919)

// ---------------------------------------------------------------- tests

describe('hostile cluster text cannot change the summary or the PR comment', () => {
  const cases = RESULTS.flatMap((result) => [false, true].map((several) => [result, several] as const))

  test.each(cases)('%s, several jobs: %s', (result, several) => {
    let tables = 0
    let mermaid = 0
    let logs = 0
    for (const seed of SEEDS) {
      const o = outcome(seed, result, several)
      const summary = summaryMarkdown(o, NOW)
      const plain = summaryMarkdown(twin(o), NOW)
      const tree = parse(summary)
      expect({ seed, problems: problems(tree, o.runUrl) }).toEqual({ seed, problems: [] })
      expect(problems(parse(plain), o.runUrl)).toEqual([])
      // The benign twin has the shape meant; hostile text changed none of it.
      expect(shape(tree)).toEqual(shape(parse(plain)))

      // The comment is the marker and the summary.
      const comment = commentBody(o, undefined, NOW)
      expect(comment.endsWith(summary)).toBe(true)
      const first = parse(comment.slice(0, comment.length - summary.length)).children
      expect(first).toHaveLength(1)
      expect(problems(first[0]!, o.runUrl)).toEqual([])
      expect(first[0]!.type === 'html' && first[0].value.startsWith('<!-- kube-job-wait: ')).toBe(true)

      // A comment cut short ends at a whole part: everything still closed, the note last.
      const max = 300 + (seed % 4000)
      const cut = parse(commentBody(o, max, NOW))
      expect(problems(cut, o.runUrl)).toEqual([])
      if (comment.length > max) expect(text(cut.children.at(-1)!)).toBe('…(cut; the job summary of the run has it all)')

      for (const { node } of walk(tree)) {
        if (node.type === 'table') tables++
        if (node.type === 'code' && node.lang === 'mermaid') mermaid++
        if (node.type === 'code' && node.lang === 'text') logs++
      }
    }
    // The cases reach the parts that matter: tables, charts and logs.
    expect(tables).toBeGreaterThan(SEEDS.length / 2)
    if (result === 'failed' || result === 'timeout' || several) expect(logs).toBeGreaterThan(0)
    expect(mermaid).toBeGreaterThan(0)
  })

  test('the checks catch what they look for (each broken page is found)', () => {
    const table = '| Pod | Phase | Node | Started | Duration | Restarts | Reason |\n| --- | --- | --- | --- | --- | --- | --- |\n'
    expect(problems(`${table}| a | b | c | d | e | 0 | x | y |\n`, undefined)).toEqual(['a row of 8 cells under 7'])
    expect(problems(`${table}| a | b | c | d | e | 0 | \`x\` |\n`, undefined)).toEqual(['a cell that is not plain text: inlineCode'])
    expect(problems('## a\n\n# Owned\n', undefined)).toEqual(['a heading of depth 1: Owned'])
    expect(problems('[x](https://evil.example)', RUN_URL)).toEqual(['a link: https://evil.example'])
    expect(problems('see www.evil.example', undefined)).toEqual(['a link: http://www.evil.example'])
    expect(problems('cc @octocat', undefined)).toEqual(['a live reference: @o in "cc @octocat"'])
    expect(problems('fixes #12', undefined)).toEqual(['a live reference: #1 in "fixes #12"'])
    expect(problems('<details><summary><img src=x></summary>\n\nx\n\n</details>', undefined)).toEqual([
      'HTML not ours: <details><summary><img src=x></summary>'
    ])
    expect(problems('```mermaid\ngantt\n  section a: b\n```', undefined)).toEqual(['a mermaid line not ours:   section a: b'])
    expect(problems('<!-- kube-job-wait: a -- --> -->', undefined)).toEqual(['HTML not ours: <!-- kube-job-wait: a -- --> -->'])
    expect(shape(parse('```text\na\n```\n# b\n```'))).not.toEqual(shape(parse('```text\na\n# b\n```')))
  })
})

describe('the finding: a completion-index annotation on a NonIndexed Job (issue 17)', () => {
  const PAYLOAD = '0 | x |\n```\n# Owned\n[click](https://evil.example) <img src=x onerror=alert(1)> @octocat'

  const apiPod = (name: string, annotations: Record<string, string>): V1Pod => ({
    metadata: {
      name,
      namespace: 'ci',
      uid: `uid-${name}`,
      creationTimestamp: new Date(T0) as unknown as Date,
      annotations
    },
    spec: { containers: [{ name: 'main', image: 'busybox' }], nodeName: 'node-1' },
    status: {
      phase: 'Running',
      startTime: new Date(T0 + 1000) as unknown as Date,
      containerStatuses: [
        {
          name: 'main',
          image: 'busybox',
          imageID: '',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: new Date(T0 + 2000) } }
        }
      ]
    }
  })

  function summaryOf(pods: PodInfo[]): string {
    const snapshot: Snapshot = { namespace: 'ci', name: 'build', jobDeleted: false, pods }
    return summaryMarkdown(
      { result: 'met', message: '2 of 2 pods Running', namespace: 'ci', job: 'build', snapshot, elapsedMs: 5000 },
      T0 + 10_000
    )
  }

  test('podInfo keeps only a decimal index: the annotation a template set is no index', () => {
    const key = 'batch.kubernetes.io/job-completion-index'
    expect(podInfo(apiPod('a', { [key]: '7' })).completionIndex).toBe('7')
    expect(podInfo(apiPod('b', { [key]: PAYLOAD })).completionIndex).toBeUndefined()
    expect(podInfo(apiPod('c', { [key]: '-1' })).completionIndex).toBeUndefined()
    expect(podInfo(apiPod('d', {})).completionIndex).toBeUndefined()
  })

  test('through podInfo, the page keeps its table, its fence and no heading, link, image or mention', () => {
    const md = summaryOf([
      podInfo(apiPod('build-a', { 'batch.kubernetes.io/job-completion-index': PAYLOAD })),
      podInfo(apiPod('build-b', {}))
    ])
    expect(problems(md, undefined)).toEqual([])
  })

  test('an index that reaches the report anyway is escaped in the cell and the chart', () => {
    const pods = [podInfo(apiPod('build-a', {})), podInfo(apiPod('build-b', {}))]
    pods[0]!.completionIndex = PAYLOAD
    pods[1]!.phase = PAYLOAD as PodInfo['phase']
    const md = summaryOf(pods)
    expect(problems(md, undefined)).toEqual([])
    const tree = parse(md)
    const tables = [...walk(tree)].filter(({ node }) => node.type === 'table')
    expect(tables).toHaveLength(1)
    const charts = [...walk(tree)].filter(({ node }) => node.type === 'code' && node.lang === 'mermaid')
    expect(charts).toHaveLength(1)
    expect(tree.children.filter((n) => n.type === 'heading')).toHaveLength(2)
  })
})

describe('only the gate makes Markdown', () => {
  test('no file under src/ but src/text/gate.ts asserts a string into Markdown, Html or MermaidText', () => {
    const offenders: string[] = []
    const files = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) {
      if (file === path.join('text', 'gate.ts')) continue
      const source = ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, 'src', file), 'utf8'), ts.ScriptTarget.Latest, true)
      const visit = (node: ts.Node): void => {
        if (
          (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) &&
          /\b(Markdown|Html|MermaidText)\b/.test(node.type.getText(source))
        )
          offenders.push(`${file}: ${node.getText(source)}`)
        ts.forEachChild(node, visit)
      }
      visit(source)
    }
    expect(offenders).toEqual([])
  })
})
