// The JUnit XML: one testsuite per Job, one testcase per pod, the cause as
// the failure, the log tail as system-out; valid against the JUnit schema
// Jenkins uses (junit-10.xsd, see its header), with hostile cluster text
// unable to break out. A golden file for three Jobs with one failed
// (UPDATE_GOLDEN=1 rewrites it).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from '@jest/globals'
import { validateXML } from 'xmllint-wasm'
import { junitXml, xmlAttr, xmlText } from '../src/report/junit.js'
import type { Outcome } from '../src/report/outcome.js'
import { HOSTILE_LINE, NOW, T0, byName, met, migrate, severalFailed, severalOutcome, stuckPull } from './support/cli-outcomes.js'

const THIS = fileURLToPath(import.meta.url)
const HERE = path.dirname(THIS)
const SCHEMA = fs.readFileSync(path.join(HERE, 'support', 'junit-10.xsd'), 'utf8')

async function schemaErrors(xml: string): Promise<string[]> {
  const r = await validateXML({
    xml: [{ fileName: 'report.xml', contents: xml }],
    schema: [{ fileName: 'junit-10.xsd', contents: SCHEMA }]
  })
  return r.errors.map((e) => e.rawMessage)
}

function golden(name: string, actual: string): void {
  const file = path.join(HERE, 'golden', name)
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, actual)
  else if (!fs.existsSync(file)) throw new Error(`golden file ${name} is missing: run UPDATE_GOLDEN=1 npm test -- ${path.basename(THIS)}`)
  expect(actual).toBe(fs.readFileSync(file, 'utf8'))
}

/** Each testcase's name with what it holds, read with a regex over our own fixed layout. */
function cases(xml: string): { name: string; failure?: string; error?: string; skipped?: string; out: boolean }[] {
  return [...xml.matchAll(/<testcase name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => {
    const body = m[2] ?? ''
    return {
      name: m[1],
      ...(/<failure message="([^"]*)"/.exec(body) ? { failure: /<failure message="([^"]*)"/.exec(body)![1] } : {}),
      ...(/<error message="([^"]*)"/.exec(body) ? { error: /<error message="([^"]*)"/.exec(body)![1] } : {}),
      ...(/<skipped message="([^"]*)"/.exec(body) ? { skipped: /<skipped message="([^"]*)"/.exec(body)![1] } : {}),
      out: body.includes('<system-out>')
    }
  })
}

describe('three Jobs, one failed', () => {
  const o = severalFailed()
  const xml = junitXml(o, NOW)

  test('golden file', () => {
    golden('several-failed.junit.xml', xml)
  })

  test('valid against the JUnit schema', async () => {
    expect(await schemaErrors(xml)).toEqual([])
  })

  test('a testsuite per Job, a testcase per pod; the failed pods carry the cause, the first its log tail', () => {
    expect([...xml.matchAll(/<testsuite name="([^"]*)" tests="(\d+)" failures="(\d+)"/g)].map((m) => m.slice(1))).toEqual([
      ['prod/migrate', '1', '0'],
      ['prod/seed', '1', '0'],
      ['prod/smoke', '2', '2']
    ])
    expect(cases(xml)).toEqual([
      { name: 'migrate-7kq2x', out: false },
      { name: 'seed-m4t8c', out: false },
      { name: 'smoke-r2d9v', failure: 'Error, exit code 3: container main', out: true },
      { name: 'smoke-hx5wq', failure: 'Error, exit code 3: container main', out: false }
    ])
    expect(xml).toMatch(/<testsuites name="kube-job-wait" tests="4" failures="2" errors="0" time="23.400">/)
    expect(xml).toContain('smoke: 1 of 12 checks failed</system-out>')
    expect(xml).toContain('event BackOff (x2): Back-off restarting failed container main</failure>')
    expect(xml).toContain('<property name="result" value="failed"/>')
  })

  test('hostile log text: no escape sequence, no control, no markup survives; the words stay', () => {
    const line = xml.split('\n').find((l) => l.includes('FAIL'))!
    expect(line).toBe('FAIL &lt;/system-out&gt;]]&gt;&lt;x a="1"&gt;&amp;end')
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/)
    expect(xml).not.toContain(']]>')
    expect(HOSTILE_LINE).toContain(']]>')
  })
})

describe('other ends', () => {
  test('a pod stuck pulling: a failure with the event; the note of what could not be read is not a log', async () => {
    const xml = junitXml(stuckPull(), NOW)
    expect(await schemaErrors(xml)).toEqual([])
    expect(cases(xml)).toEqual([
      { name: 'build-p3', failure: 'ImagePullBackOff: image &quot;registry.example/tools:missing&quot;', out: false }
    ])
    expect(xml).toContain('event Failed (x4): Failed to pull image "registry.example/tools:missing": not found</failure>')
  })

  test('met: every case passes', async () => {
    const xml = junitXml(met(), NOW)
    expect(await schemaErrors(xml)).toEqual([])
    expect(cases(xml)).toEqual([{ name: 'migrate-7kq2x', out: false }])
    expect(xml).toContain('failures="0" errors="0"')
  })

  test('timeout with a Job not found: the Job is an error case, never a green suite', async () => {
    const o = severalOutcome(
      [migrate, { namespace: 'prod', name: 'late', jobDeleted: false, synced: true, pods: [] }],
      byName('migrate', 'late'),
      60_000,
      () => undefined,
      { kind: 'timeout', afterMs: 60_000 }
    )
    const xml = junitXml(o, T0 + 60_000)
    expect(await schemaErrors(xml)).toEqual([])
    expect(cases(xml)).toEqual([
      { name: 'migrate-7kq2x', out: false },
      { name: 'job prod/late', error: 'timed out: job prod/late not found yet after 1m', out: false }
    ])
  })

  test('timeout with a pod still running: the pod is skipped, the Job an error', async () => {
    const running: Outcome = {
      result: 'timeout',
      message: 'timed out',
      namespace: 'prod',
      job: 'x',
      snapshot: {
        namespace: 'prod',
        name: 'x',
        jobDeleted: false,
        pods: [{ name: 'x-1', uid: 'u', phase: 'Running', ready: true, restarts: 0, containers: [] }]
      },
      elapsedMs: 5000
    }
    const xml = junitXml(running, NOW)
    expect(await schemaErrors(xml)).toEqual([])
    expect(cases(xml)).toEqual([
      { name: 'job prod/x', error: 'timed out', out: false },
      { name: 'x-1', skipped: 'Running when the wait ended (timeout)', out: false }
    ])
  })

  test('an error before any Job was read: one error case with the message', async () => {
    const xml = junitXml({ result: 'error', message: 'no credentials: "x" <y>', elapsedMs: 10 }, NOW)
    expect(await schemaErrors(xml)).toEqual([])
    expect(cases(xml)).toEqual([{ name: 'kube-job-wait', error: 'no credentials: &quot;x&quot; &lt;y&gt;', out: false }])
  })
})

describe('escaping', () => {
  test('text: controls and escapes gone, markup as entities, lines kept', () => {
    expect(xmlText('a\x1b[2J\x1b]8;;http://x\x07b\r\n<c>&]]>\x00\ud800d\uffff')).toBe('ab\n&lt;c&gt;&amp;]]&gt;d')
  })
  test('attributes: one line, quotes as entities', () => {
    expect(xmlAttr('say "hi"\nthen <go>')).toBe('say &quot;hi&quot; then &lt;go&gt;')
  })
  test('a surrogate pair (an emoji) is kept whole', () => {
    expect(xmlText('ok 🚀')).toBe('ok 🚀')
  })
  test('the validation is real: a testsuite without its failures count is refused', async () => {
    const bad = junitXml(met(), NOW).replace(' failures="0" errors="0" skipped', ' errors="0" skipped')
    expect((await schemaErrors(bad)).join('\n')).toMatch(/failures.*required|required.*failures/)
  })
  test('a raw "<" in a name, as unescaped cluster text would make it, is refused', async () => {
    const bad = junitXml(met(), NOW).replace('name="migrate-7kq2x"', 'name="a<b"')
    expect((await schemaErrors(bad)).length).toBeGreaterThan(0)
  })
})
