// An Outcome as JUnit XML, the test report GitLab (artifacts:reports:junit),
// Jenkins (junit) and Buildkite's test analytics read: one testsuite per Job,
// one testcase per pod. A pod with a cause is a failure whose message is the
// cause and whose body is the cause's message and the pod's events; its log
// tail, when the diagnosis has one, is its system-out. Pure: it renders and
// writes nothing. Cluster text is untrusted: every escape sequence and
// control goes, what XML 1.0 cannot hold goes, and markup characters are
// entities, so no `]]>`, `</system-out>` or quote can end what it is in.
import { podCause, type PodCause } from '../decide/explain.js'
import type { Verdict } from '../decide/verdict.js'
import type { Diagnosis, PodEvidence } from '../diagnose/collect.js'
import type { PodInfo, Snapshot } from '../model.js'
import { splitLines, stripControls } from '../text/gate.js'
import type { Outcome, Result } from './outcome.js'
import { sortedPods } from './render.js'
import { podTimes } from './summary.js'

// Characters XML 1.0 cannot hold at all (lone surrogates, U+FFFE, U+FFFF);
// stripControls has already removed the C0 and C1 controls but tab.
const NOT_XML = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\ufffe\uffff]/g

/** Untrusted text as XML character data: each line cleaned, lines kept. */
export function xmlText(text: string): string {
  const clean = splitLines(text)
    .map((l) => stripControls(l).replace(NOT_XML, ''))
    .join('\n')
  return clean.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
}

/** Untrusted text as an attribute value: one line (an attribute's line break would be read as a space anyway). */
export function xmlAttr(text: string): string {
  return xmlText(text.replace(/\r\n|[\r\n]/g, ' ')).replace(/"/g, '&quot;')
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3)

interface Case {
  name: string
  classname: string
  timeMs?: number
  failure?: { message: string; type: string; text: string }
  /** an end from outside (timeout, cancel, error): JUnit's error, not a failure of the pod */
  error?: { message: string; type: string }
  skipped?: string
  out?: string
}

interface Suite {
  name: string
  timeMs: number
  timestamp?: string
  properties: [string, string][]
  cases: Case[]
}

function evidenceText(cause: PodCause, ev: PodEvidence | undefined): string {
  const lines: string[] = []
  if (cause.message) lines.push(cause.message)
  for (const e of ev?.events ?? []) lines.push(`event ${e.reason}${e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`)
  return lines.join('\n')
}

function logText(ev: PodEvidence | undefined): string | undefined {
  if (!ev?.log) return undefined
  const head = `log of container ${ev.log.container}${ev.log.previous ? ' (previous instance)' : ''}, last ${ev.log.lines.length} lines:`
  return [head, ...ev.log.lines].join('\n')
}

function podCase(p: PodInfo, classname: string, state: Verdict['state'] | Result, d: Diagnosis | undefined, now: number): Case {
  const t = podTimes(p)
  const from = t.started ?? t.created
  const c: Case = {
    name: p.completionIndex !== undefined ? `${p.name} [index ${p.completionIndex}]` : p.name,
    classname,
    timeMs: from === undefined ? undefined : (t.finished ?? now) - from
  }
  const cause = podCause(p)
  const ev = d?.evidence.find((e) => e.pod === p.name)
  if (cause) {
    c.failure = {
      message: `${cause.cause}${cause.subject ? `: ${cause.subject}` : ''}`,
      type: cause.cause,
      text: evidenceText(cause, ev)
    }
  } else if (p.phase !== 'Succeeded' && (state === 'timeout' || state === 'cancelled')) {
    c.skipped = `${p.phase} when the wait ended (${state})`
  }
  c.out = logText(ev)
  return c
}

function jobTimes(s: Snapshot | undefined, now: number): { timeMs: number; timestamp?: string } {
  const job = s?.job
  const start = job?.startTime ?? job?.creationTimestamp
  const from = start ? Date.parse(start) : NaN
  if (Number.isNaN(from)) return { timeMs: 0 }
  const failedAt = job?.conditions.find((c) => c.type === 'Failed' && c.status === 'True')?.lastTransitionTime
  const end = Date.parse(job?.completionTime ?? failedAt ?? '')
  return { timeMs: (Number.isNaN(end) ? now : end) - from, timestamp: new Date(from).toISOString().replace(/\.\d{3}Z$/, '') }
}

function jobSuite(
  o: Outcome,
  name: string,
  state: Verdict['state'] | Result,
  message: string,
  s: Snapshot | undefined,
  d: Diagnosis | undefined,
  now: number
): Suite {
  const ns = s?.namespace ?? o.namespace
  const full = ns ? `${ns}/${name}` : name
  const classname = full.replace('/', '.')
  const cases = sortedPods(s).map((p) => podCase(p, classname, state, d, now))
  // A Job that did not meet the target and whose pods say nothing of why
  // (none yet, all gone, or a timeout) gets a case of its own: the report is
  // never green for a wait that was not.
  if (state !== 'met' && !cases.some((c) => c.failure)) {
    const own: Case = { name: `job ${full}`, classname }
    if (state === 'failed') own.failure = { message, type: 'JobFailed', text: jobEventsText(d) }
    else own.error = { message, type: state === 'waiting' ? String(o.result) : state }
    cases.unshift(own)
  }
  return {
    name: full,
    ...jobTimes(s, now),
    properties: [
      ['result', state === 'waiting' ? o.result : state],
      ['message', message]
    ],
    cases
  }
}

function jobEventsText(d: Diagnosis | undefined): string {
  return [...(d?.jobEvents ?? []).map((e) => `job event ${e.reason}: ${e.message}`), ...(d?.notes ?? [])].join('\n')
}

function suites(o: Outcome, now: number): Suite[] {
  if (o.jobs) return o.jobs.map((j) => jobSuite(o, j.name, j.verdict.state, j.verdict.message, j.snapshot, j.diagnosis, now))
  if (o.job) return [jobSuite(o, o.job, o.verdict?.state ?? o.result, o.message, o.snapshot, o.diagnosis, now)]
  // No Job known (bad credentials, no access): one case that says why.
  return [
    {
      name: 'kube-job-wait',
      timeMs: o.elapsedMs,
      properties: [['result', o.result]],
      cases: [{ name: 'kube-job-wait', classname: 'kube-job-wait', error: { message: o.message, type: o.result } }]
    }
  ]
}

const attrs = (pairs: [string, string | number | undefined][]): string =>
  pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? v : xmlAttr(v!)}"`)
    .join('')

function caseXml(c: Case): string {
  const open = `    <testcase${attrs([
    ['name', c.name],
    ['classname', c.classname],
    ['time', c.timeMs === undefined ? undefined : seconds(c.timeMs)]
  ])}`
  const body: string[] = []
  if (c.failure) {
    const open = `      <failure${attrs([
      ['message', c.failure.message],
      ['type', c.failure.type]
    ])}`
    body.push(c.failure.text ? `${open}>${xmlText(c.failure.text)}</failure>` : `${open}/>`)
  }
  if (c.error)
    body.push(
      `      <error${attrs([
        ['message', c.error.message],
        ['type', c.error.type]
      ])}/>`
    )
  if (c.skipped) body.push(`      <skipped${attrs([['message', c.skipped]])}/>`)
  if (c.out !== undefined) body.push(`      <system-out>${xmlText(c.out)}</system-out>`)
  return body.length ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`
}

const count = (cases: Case[], key: 'failure' | 'error' | 'skipped') => cases.filter((c) => c[key] !== undefined).length

/** The JUnit XML of an Outcome; `now` ends what had not ended (pods still running). */
export function junitXml(o: Outcome, now = Date.now()): string {
  const all = suites(o, now)
  const cases = all.flatMap((s) => s.cases)
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs([
      ['name', 'kube-job-wait'],
      ['tests', cases.length],
      ['failures', count(cases, 'failure')],
      ['errors', count(cases, 'error')],
      ['time', seconds(o.elapsedMs)]
    ])}>`
  ]
  for (const s of all) {
    lines.push(
      `  <testsuite${attrs([
        ['name', s.name],
        ['tests', s.cases.length],
        ['failures', count(s.cases, 'failure')],
        ['errors', count(s.cases, 'error')],
        ['skipped', count(s.cases, 'skipped')],
        ['time', seconds(s.timeMs)],
        ['timestamp', s.timestamp]
      ])}>`,
      '    <properties>',
      ...s.properties.map(
        ([name, value]) =>
          `      <property${attrs([
            ['name', name],
            ['value', value]
          ])}/>`
      ),
      '    </properties>',
      ...s.cases.map(caseXml),
      '  </testsuite>'
    )
  }
  lines.push('</testsuites>', '')
  return lines.join('\n')
}
