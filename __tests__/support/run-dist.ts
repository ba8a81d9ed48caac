// Runs the bundled action as the runner does: a Node 24 process running
// dist/index.js with INPUT_* variables, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY
// files that exist before the step starts. Returns what it wrote.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const DIST = path.join(ROOT, 'dist', 'index.js')

export interface DistRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  ms: number
  /** ms from start to the first line that matches a pattern, when asked */
  lines: { t: number; line: string }[]
}

export interface DistOptions {
  inputs: Record<string, string>
  env?: Record<string, string | undefined>
  /** send these signals at these ms after start */
  signals?: { atMs: number; signal: NodeJS.Signals }[]
  /** kill after this long (a safety net for tests) */
  killAfterMs?: number
  /** called once the process has started */
  onStart?: (pid: number) => void
  /** stdout lines are pushed here as they come, for tests that act on progress */
  lines?: { t: number; line: string }[]
  /** another copy of the bundle (default DIST) */
  entry?: string
}

/** Parses the runner's file format: `name<<DELIM\nvalue\nDELIM` or `name=value`. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (m) {
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
      out[m[1]] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const k = lines[i].slice(0, lines[i].indexOf('='))
      out[k] = lines[i].slice(k.length + 1)
    }
  }
  return out
}

export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  // The runner upper-cases names and keeps dashes: INPUT_EXPECTED-COUNT.
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v]))
}

export async function runDist(o: DistOptions): Promise<DistRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-step-'))
  const outFile = path.join(dir, 'output')
  const summaryFile = path.join(dir, 'summary')
  fs.writeFileSync(outFile, '')
  fs.writeFileSync(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GITHUB_OUTPUT: outFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
    ...inputEnv(o.inputs)
  }
  for (const [k, v] of Object.entries(o.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  const started = Date.now()
  const child = spawn(process.execPath, [o.entry ?? DIST], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  o.onStart?.(child.pid ?? 0)
  let stdout = ''
  let stderr = ''
  const lines: { t: number; line: string }[] = o.lines ?? []
  let partial = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d
    partial += d
    let nl: number
    while ((nl = partial.indexOf('\n')) >= 0) {
      lines.push({ t: Date.now() - started, line: partial.slice(0, nl) })
      partial = partial.slice(nl + 1)
    }
  })
  child.stderr.on('data', (d: Buffer) => (stderr += d))
  const timers = (o.signals ?? []).map((s) => setTimeout(() => child.kill(s.signal), s.atMs))
  const safety = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs ?? 60_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s]))
  )
  const ms = Date.now() - started
  timers.forEach(clearTimeout)
  clearTimeout(safety)
  const result: DistRun = {
    code,
    signal,
    stdout,
    stderr,
    outputs: parseOutputFile(fs.readFileSync(outFile, 'utf8')),
    summary: fs.readFileSync(summaryFile, 'utf8'),
    ms,
    lines
  }
  fs.rmSync(dir, { recursive: true, force: true })
  return result
}
