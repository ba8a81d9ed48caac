// The CI helpers: GitLab's collapsible sections (markers exactly as GitLab
// documents them, cluster text unable to forge one) and the Buildkite
// annotation call, made only when buildkite-agent is on PATH.
import * as path from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { buildkiteAnnotation, findOnPath, gitlabReport, gitlabSection, sectionName } from '../src/cli/ci.js'
import { NOW, met, severalFailed, stuckPull } from './support/cli-outcomes.js'

const T = 1_795_900_000

describe('GitLab sections', () => {
  test('the markers: section_start with collapsed=true, the header after \\r, section_end with the same name', () => {
    expect(gitlabSection('my_log', 'Log of pod a', ['one', 'two'], T + 0.7)).toBe(
      `\x1b[0Ksection_start:${T}:my_log[collapsed=true]\r\x1b[0KLog of pod a\none\ntwo\n\x1b[0Ksection_end:${T}:my_log\r\x1b[0K\n`
    )
    expect(gitlabSection('open', 'h', [], T, false)).toMatch(/^\x1b\[0Ksection_start:\d+:open\r/)
  })

  test('a section name keeps only what GitLab accepts', () => {
    expect(sectionName('log of pod/a b')).toBe('log_of_pod_a_b')
    expect(sectionName('')).toBe('section')
  })

  test('cluster text cannot end the section or open another: every ESC and CR is gone', () => {
    const forged = `\x1b[0Ksection_end:${T}:my_log\r\x1b[0K`
    const out = gitlabSection('my_log', `pod ${forged}`, [`line ${forged}`, '\x1b[0Ksection_start:1:evil[collapsed=true]\r\x1b[0Kx'], T)
    expect(out.match(/\x1b\[0Ksection_end/g)).toHaveLength(1)
    expect(out.match(/\x1b\[0Ksection_start/g)).toHaveLength(1)
    expect(out.match(/\r/g)).toHaveLength(2)
  })

  test('the report: a collapsed section per pod log, the diagnosis open when it failed', () => {
    const out = gitlabReport(severalFailed(), { color: false, time: T, now: NOW })
    const starts = [...out.matchAll(/section_start:\d+:([\w.-]+)(\[collapsed=true\])?\r\x1b\[0K(.*)/g)].map((m) => [m[1], !!m[2], m[3]])
    expect(starts).toEqual([
      ['kube_job_wait_log_0', true, 'Log of pod smoke-r2d9v, container main (4 lines)'],
      ['kube_job_wait_diagnosis', false, '✗ 3 jobs in prod: failed after 23s']
    ])
    expect(out.match(/section_end:\d+:kube_job_wait_log_0/g)).toHaveLength(1)
    expect(out.match(/section_end:\d+:kube_job_wait_diagnosis/g)).toHaveLength(1)
    expect(out).toContain('smoke: 1 of 12 checks failed\n')
  })

  test('met: the report in a collapsed section; no log, no log section', () => {
    const out = gitlabReport(met(), { color: false, time: T, now: NOW })
    expect(out).toMatch(/^\x1b\[0Ksection_start:\d+:kube_job_wait_diagnosis\[collapsed=true\]\r\x1b\[0K✓ job prod\/migrate: met/)
    expect(out).not.toContain('kube_job_wait_log_')
  })
})

describe('Buildkite annotation', () => {
  const bin = path.join(path.sep, 'opt', 'bk', 'bin')
  const onPath = [path.join(path.sep, 'usr', 'bin'), bin].join(path.delimiter)
  const agentIn = (dir: string) => (file: string) => file === path.join(dir, 'buildkite-agent')

  test('findOnPath: the first directory that has it; empty entries skipped', () => {
    expect(findOnPath('buildkite-agent', `${path.delimiter}${onPath}`, agentIn(bin))).toBe(path.join(bin, 'buildkite-agent'))
    expect(findOnPath('buildkite-agent', undefined, () => true)).toBeUndefined()
  })

  test('no agent on PATH: no call', () => {
    expect(buildkiteAnnotation(severalFailed(), onPath, () => false)).toBeUndefined()
  })

  test.each([
    ['failed', severalFailed(), 'error'],
    ['failed (stuck)', stuckPull(), 'error'],
    ['met', met(), 'success']
  ])('%s: annotate --style %s --context kube-job-wait, the markdown report on stdin', (_, o, style) => {
    const call = buildkiteAnnotation(o, onPath, agentIn(bin), NOW)!
    expect(call.command).toBe(path.join(bin, 'buildkite-agent'))
    expect(call.args).toEqual(['annotate', '--style', style, '--context', 'kube-job-wait'])
    expect(call.stdin).toMatch(/^## /)
  })

  test('timeout and cancel are warnings; the markdown escapes cluster text', () => {
    const o = { ...severalFailed(), result: 'timeout' as const }
    const call = buildkiteAnnotation(o, onPath, agentIn(bin), NOW)!
    expect(call.args[2]).toBe('warning')
    expect(call.stdin).not.toMatch(/\x1b/)
    expect(buildkiteAnnotation({ ...o, result: 'cancelled' }, onPath, agentIn(bin), NOW)!.args[2]).toBe('warning')
  })
})
