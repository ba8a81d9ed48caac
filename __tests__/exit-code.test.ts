// Container exit codes in the outputs (src/report/exit-code.ts): the pods
// output's exitCodes and the exit-code output. Pure: pods as observed.
import { describe, expect, test } from '@jest/globals'
import type { ContainerInfo, PodInfo, Snapshot } from '../src/model.js'
import { exitCodeOf, exitCodes } from '../src/report/exit-code.js'
import { outputs } from '../src/report/render.js'
import type { Verdict } from '../src/decide/verdict.js'

const container = (name: string, o: Partial<ContainerInfo> = {}): ContainerInfo => ({
  name,
  init: false,
  state: 'terminated',
  restartCount: 0,
  ...o
})
const pod = (name: string, phase: PodInfo['phase'], containers: ContainerInfo[], created = '2026-12-05T00:00:00Z'): PodInfo => ({
  name,
  uid: `uid-${name}`,
  phase,
  ready: false,
  restarts: 0,
  creationTimestamp: created,
  containers
})
const snap = (pods: PodInfo[]): Snapshot => ({ namespace: 'ci', name: 'build', jobDeleted: false, pods })
const verdict = (state: Verdict['state']) => ({ state }) as Verdict

describe('exitCodes: every terminated container of a pod', () => {
  test('init and main containers that terminated; one still running is left out', () => {
    const p = pod('p', 'Running', [
      container('setup', { init: true, exitCode: 0 }),
      container('main', { state: 'running' }),
      container('side', { exitCode: 2 })
    ])
    expect(exitCodes(p)).toEqual({ setup: 0, side: 2 })
  })
  test("a crash loop's last exit, while it waits to restart", () => {
    expect(
      exitCodes(pod('p', 'Running', [container('main', { state: 'waiting', reason: 'CrashLoopBackOff', lastExitCode: 137 })]))
    ).toEqual({
      main: 137
    })
  })
  test('none terminated: no exitCodes in the row', () => {
    expect(exitCodes(pod('p', 'Pending', [container('main', { state: 'waiting', reason: 'ContainerCreating' })]))).toBeUndefined()
  })
})

describe('exit-code: the code a step can end with', () => {
  test('failed: the code of the last pod to fail (the retry that used up the backoff limit)', () => {
    const pods = [
      pod('b-2', 'Failed', [container('main', { exitCode: 4 })], '2026-12-05T00:00:20Z'),
      pod('b-1', 'Failed', [container('main', { exitCode: 3 })], '2026-12-05T00:00:10Z')
    ]
    expect(exitCodeOf({ result: 'failed', snapshot: snap(pods) })).toBe(4)
  })
  test('failed in an init container: its code, the main container never ran', () => {
    const p = pod('b', 'Failed', [container('migrate', { init: true, exitCode: 5 }), container('main', { state: 'waiting' })])
    expect(exitCodeOf({ result: 'failed', snapshot: snap([p]) })).toBe(5)
  })
  test('a Job of one pod that succeeded: 0', () => {
    expect(exitCodeOf({ result: 'met', snapshot: snap([pod('b', 'Succeeded', [container('main', { exitCode: 0 })])]) })).toBe(0)
  })
  test('failed without a container code (an image that cannot be pulled): none', () => {
    const p = pod('b', 'Pending', [container('main', { state: 'waiting', reason: 'ImagePullBackOff' })])
    expect(exitCodeOf({ result: 'failed', snapshot: snap([p]) })).toBeUndefined()
  })
  test('several Jobs: the failed Job decides, not one that succeeded', () => {
    const ok = { name: 'a', verdict: verdict('met'), snapshot: snap([pod('a-1', 'Succeeded', [container('main', { exitCode: 0 })])]) }
    const bad = { name: 'b', verdict: verdict('failed'), snapshot: snap([pod('b-1', 'Failed', [container('main', { exitCode: 7 })])]) }
    expect(exitCodeOf({ result: 'failed', jobs: [ok, bad] })).toBe(7)
    expect(exitCodeOf({ result: 'met', jobs: [ok] })).toBeUndefined()
  })
  test('in the outputs: exit-code, and exitCodes in each row of pods', () => {
    const s = snap([pod('b-1', 'Failed', [container('main', { exitCode: 3 })])])
    const out = outputs({ result: 'failed', message: 'failed', job: 'build', snapshot: s, verdict: verdict('failed'), elapsedMs: 1000 })
    expect(out['exit-code']).toBe('3')
    expect(JSON.parse(out.pods)[0].exitCodes).toEqual({ main: 3 })
  })
})
