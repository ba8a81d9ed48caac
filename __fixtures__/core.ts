// A stand-in for @actions/core that records what the action says, for the
// in-process tests (jest.unstable_mockModule, as GitHub's action template does).
// The test of dist/index.js uses the real @actions/core.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { jest } from '@jest/globals'

// The action appends its summary to the file GITHUB_STEP_SUMMARY names, as
// the runner expects: each reset() points it at a fresh file of its own.
let summaryFile = ''
let resets = 0

export const state = {
  inputs: {} as Record<string, string>,
  outputs: {} as Record<string, string>,
  secrets: [] as string[],
  log: [] as { level: string; message: string; props?: unknown }[],
  /** The job summary written so far */
  get summary(): string {
    return summaryFile && fs.existsSync(summaryFile) ? fs.readFileSync(summaryFile, 'utf8') : ''
  },
  failed: undefined as string | undefined
}

export function reset(inputs: Record<string, string> = {}): void {
  state.inputs = inputs
  state.outputs = {}
  state.secrets = []
  state.log = []
  if (summaryFile) fs.rmSync(summaryFile, { force: true })
  summaryFile = path.join(os.tmpdir(), `kjw-test-summary-${process.pid}-${++resets}.md`)
  fs.writeFileSync(summaryFile, '')
  process.env.GITHUB_STEP_SUMMARY = summaryFile
  state.failed = undefined
}

const record = (level: string) => (message: unknown, props?: unknown) => {
  state.log.push({ level, message: String(message instanceof Error ? message.message : message), props })
}

export const getInput = jest.fn((name: string) => state.inputs[name] ?? '')
export const setOutput = jest.fn((name: string, value: unknown) => {
  state.outputs[name] = String(value)
})
export const setSecret = jest.fn((s: string) => {
  state.secrets.push(s)
})
export const setFailed = jest.fn((message: string | Error) => {
  state.failed = String(message instanceof Error ? message.message : message)
  record('error')(message)
})
// The log gate writes many lines with one info(): one entry a line, as the runner shows them.
export const info = jest.fn((message: string) => {
  for (const line of String(message).split('\n')) record('info')(line)
})
export const debug = jest.fn(record('debug'))
export const warning = jest.fn(record('warning'))
export const notice = jest.fn(record('notice'))
export const error = jest.fn(record('error'))
export const startGroup = jest.fn(record('group'))
export const endGroup = jest.fn(() => undefined)
export const isDebug = jest.fn(() => false)

/** Every line the action would have shown, outputs and summary included. */
export function everythingShown(): string {
  return [...state.log.map((l) => l.message), ...Object.values(state.outputs), state.summary, state.failed ?? ''].join('\n')
}
