// runDist() as a step with its own HOME, RUNNER_TEMP and TMPDIR, so that a
// test can see every file the action wrote; and readers for what a step
// prints: workflow commands (::error::, ::notice::, ::add-mask::) and stack
// traces.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runDist, type DistOptions, type DistRun } from './run-dist.js'

export interface StepRun extends DistRun {
  /** Every file left under the step's HOME, RUNNER_TEMP and TMPDIR, with its content. */
  files: { path: string; content: string }[]
}

function walk(dir: string, out: { path: string; content: string }[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) walk(p, out)
    else if (e.isFile()) out.push({ path: p, content: fs.readFileSync(p, 'latin1') })
  }
}

/** Runs dist/index.js with fresh HOME, RUNNER_TEMP and TMPDIR (unless env sets them) and lists what was written there. */
export interface StepDirs {
  home: string
  temp: string
  tmp: string
}

export async function runStep(o: DistOptions & { setup?: (dirs: StepDirs) => Record<string, string> | void }): Promise<StepRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-runner-'))
  const dirs: StepDirs = { home: path.join(root, 'home'), temp: path.join(root, 'runner-temp'), tmp: path.join(root, 'tmp') }
  for (const d of Object.values(dirs)) fs.mkdirSync(d)
  const extraEnv = o.setup?.(dirs) ?? {}
  const before = new Set<string>()
  const seeded: { path: string; content: string }[] = []
  walk(root, seeded)
  for (const f of seeded) before.add(f.path)
  try {
    const run = await runDist({ ...o, env: { HOME: dirs.home, RUNNER_TEMP: dirs.temp, TMPDIR: dirs.tmp, ...extraEnv, ...o.env } })
    const files: { path: string; content: string }[] = []
    walk(root, files)
    return { ...run, files: files.filter((f) => !before.has(f.path)) }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

/** The runner's escaping of command data (%, CR, LF), undone. */
export const unescapeData = (s: string): string => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')

/** Property values also escape ':' and ','. */
const unescapeProperty = (s: string): string => unescapeData(s.replace(/%3A/g, ':').replace(/%2C/g, ','))

export interface Command {
  name: string
  props: string
  data: string
}

/** Workflow commands (::name props::data) in a step's stdout. */
export function commands(stdout: string): Command[] {
  const out: Command[] = []
  for (const line of stdout.split('\n')) {
    const m = /^::([a-z-]+)( [^:]*)?::(.*)$/.exec(line)
    if (m) out.push({ name: m[1], props: unescapeProperty((m[2] ?? '').trim()), data: unescapeData(m[3]) })
  }
  return out
}

/** The `::error::` lines without properties: the step's failure (core.setFailed). */
export const failures = (stdout: string): string[] =>
  commands(stdout)
    .filter((c) => c.name === 'error' && !c.props)
    .map((c) => c.data)
export const masks = (stdout: string): string[] =>
  commands(stdout)
    .filter((c) => c.name === 'add-mask')
    .map((c) => c.data)

/** stdout as the runner shows it: without the ::add-mask:: commands it consumes. */
export const shownStdout = (stdout: string): string =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')

/** Lines that look like a JavaScript stack frame, outside ::debug:: lines (shown only with step debug logging). */
export function stackFrames(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('::debug::'))
    .flatMap((l) => unescapeData(l).split('\n'))
    .filter((l) => /^\s*at\s.+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)\s*$/.test(l) || /node:internal|file:\/\/\/.*\.js:\d+/.test(l))
}

// --- kubeconfigs -------------------------------------------------------------

export interface KubeconfigSpec {
  clusters?: { name: string; server?: string; insecure?: boolean; caData?: string }[]
  users?: { name: string; fields: Record<string, unknown> }[]
  contexts?: { name: string; cluster: string; user: string; namespace?: string }[]
  currentContext?: string
}

/** A kubeconfig as YAML (JSON is YAML: every value quoted, nothing to escape by hand). */
export function kubeconfigYaml(k: KubeconfigSpec): string {
  const doc: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: (k.clusters ?? []).map((c) => ({
      name: c.name,
      cluster: {
        ...(c.server !== undefined ? { server: c.server } : {}),
        ...(c.insecure ? { 'insecure-skip-tls-verify': true } : {}),
        ...(c.caData ? { 'certificate-authority-data': c.caData } : {})
      }
    })),
    users: (k.users ?? []).map((u) => ({ name: u.name, user: u.fields })),
    contexts: (k.contexts ?? []).map((c) => ({
      name: c.name,
      context: { cluster: c.cluster, user: c.user, ...(c.namespace ? { namespace: c.namespace } : {}) }
    }))
  }
  if (k.currentContext !== undefined) doc['current-context'] = k.currentContext
  // Block style reads like a real kubeconfig and keeps the secrets on lines of their own.
  return toYaml(doc).replace(/^\n/, '') + '\n'
}

function toYaml(v: unknown, indent = ''): string {
  const scalar = (x: unknown) => (typeof x === 'string' ? JSON.stringify(x) : String(x))
  if (Array.isArray(v)) {
    if (!v.length) return '[]'
    return v.map((item) => `\n${indent}- ${toYaml(item, indent + '  ').replace(/^\n\s*/, '')}`).join('')
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
    if (!entries.length) return '{}'
    return entries
      .map(([key, val]) => {
        const nested = val && typeof val === 'object' && (!Array.isArray(val) || val.length) && Object.keys(val).length
        return `\n${indent}${key}:${nested ? toYaml(val, indent + '  ') : ` ${Array.isArray(val) ? '[]' : val && typeof val === 'object' ? '{}' : scalar(val)}`}`
      })
      .join('')
  }
  return scalar(v)
}
