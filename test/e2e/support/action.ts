// Runs the bundled action (dist/index.js) against the local cluster exactly as
// the runner does (__tests__/support/run-dist.ts), with credentials from one
// of the cluster's kubeconfigs, and checks every run for leaked secrets: no
// token, password or client key of the kubeconfig may appear in stdout,
// stderr, the outputs or the job summary (the runner's own ::add-mask::
// commands excepted: the runner consumes them and prints nothing).
import type { PodRow } from '../../../src/report/render.js'
import { expect } from '@jest/globals'
import { KubeConfig } from '@kubernetes/client-node'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runDist, type DistRun } from '../../../__tests__/support/run-dist.js'
import { STATE, kubeconfigPath, kubeconfigText, type User } from './cluster.js'

export type Creds =
  /** the kubeconfig input, as YAML (default) or base64 */
  | { user: User; as?: 'yaml' | 'base64' }
  /** no kubeconfig input: KUBECONFIG names the file */
  | { user: User; via: 'KUBECONFIG' }

/** A pod as the `pods` output has it (with several Jobs, each names its Job). */
export type PodOut = PodRow & { job?: string }

export interface JobOut {
  name: string
  namespace: string
  uid: string
  active: number
  ready: number
  succeeded: number
  failed: number
  terminating: number
  deleted: boolean
  conditions: { type: string; status: string; reason: string | null; message: string | null }[]
  /** the end the action inferred without the API server saying it (the lead's refactor of src/observe adds it) */
  inferred?: { type: 'Complete' | 'Failed'; reason: string | null; source: string; message?: string | null } | null
}

/** One Job of the `jobs` output (several Jobs). */
export interface JobsEntry {
  result: string
  message: string | null
  count: number
  phases: Record<string, string>
  job: JobOut | null
}

export interface ActionRun extends DistRun {
  result: string
  message: string
  count: number
  phases: Record<string, string>
  pods: PodOut[]
  job: JobOut | null
  /** keyed by Job name: {} for a single Job's run */
  jobs: Record<string, JobsEntry>
  /** namespace/name of the Jobs the step deleted */
  deleted: string[]
  elapsed: number
  /** where the full record of this run was written */
  record: string
}

export interface ActionOptions {
  inputs: Record<string, string>
  creds?: Creds
  env?: Record<string, string | undefined>
  killAfterMs?: number
  onStart?: (pid: number) => void
  /** stdout lines as they come */
  lines?: { t: number; line: string }[]
  /** the API server URL the kubeconfig names instead of the cluster's (e.g. a proxy's: support/proxy.ts) */
  server?: string
}

/** A named secret from a kubeconfig: what must never appear in clear. */
export interface Secret {
  what: string
  value: string
  /** must not be shown, but need not be masked (the runner masks secrets.* inputs itself) */
  notMasked?: boolean
}

/**
 * Every secret a kubeconfig holds, per user: tokens, passwords, client keys
 * (the base64 data and the lines of the PEM it decodes to, or the key file's
 * lines), auth-provider tokens and secrets, exec env values.
 */
export function kubeconfigSecrets(yaml: string, dir = STATE): Secret[] {
  const kc = new KubeConfig()
  kc.loadFromString(yaml)
  const out: Secret[] = []
  const pemLines = (what: string, pem: string) => {
    for (const l of pem.split(/\r?\n/).map((s) => s.trim())) {
      if (l.length >= 16 && !l.startsWith('-----')) out.push({ what: `${what} (PEM line)`, value: l })
    }
  }
  for (const u of kc.getUsers()) {
    const who = `user ${u.name}`
    if (u.token) out.push({ what: `${who} token`, value: u.token })
    if (u.password) out.push({ what: `${who} password`, value: u.password })
    if (u.keyData) {
      out.push({ what: `${who} client-key-data`, value: u.keyData })
      pemLines(`${who} client key`, Buffer.from(u.keyData, 'base64').toString('utf8'))
    }
    if (u.keyFile) pemLines(`${who} client key file`, fs.readFileSync(path.resolve(dir, u.keyFile), 'utf8'))
    const cfg = (u.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {}
    for (const [k, v] of Object.entries(cfg))
      if (/token|secret|password/i.test(k) && typeof v === 'string') out.push({ what: `${who} auth-provider ${k}`, value: v })
    const exec = u.exec as { env?: { name: string; value: string }[] } | undefined
    for (const e of exec?.env ?? []) out.push({ what: `${who} exec env ${e.name}`, value: e.value })
  }
  return out.filter((s) => s.value.length >= 8)
}

/** Throws when a secret appears in what the step shows; names where, never the value. */
export function assertNoSecrets(run: DistRun, secrets: Secret[]): void {
  const shown: [string, string][] = [
    [
      'stdout',
      run.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n')
    ],
    ['stderr', run.stderr],
    ['job summary', run.summary],
    ...Object.entries(run.outputs).map(([k, v]): [string, string] => [`output ${k}`, v])
  ]
  const hits: string[] = []
  for (const s of secrets) for (const [where, text] of shown) if (text.includes(s.value)) hits.push(`${s.what} in ${where}`)
  expect(hits).toEqual([])
  // and each one was handed to the runner to mask
  const masks = new Set(
    run.stdout
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length))
  )
  expect(secrets.filter((s) => !s.notMasked && !masks.has(s.value)).map((s) => `${s.what} not masked`)).toEqual([])
}

let runs = 0

/** Runs the action; inputs without 'kubeconfig' get it from creds (default: admin, as YAML). */
export async function runAction(o: ActionOptions): Promise<ActionRun> {
  const creds: Creds = o.creds ?? { user: 'admin' }
  let yaml = kubeconfigText(creds.user)
  if (o.server) {
    if ('via' in creds) throw new Error('runAction: server and a KUBECONFIG file cannot go together')
    yaml = yaml.replace(/^(\s*server:) https:\/\/127\.0\.0\.1:\d+$/m, `$1 ${o.server}`)
    if (!yaml.includes(`server: ${o.server}`)) throw new Error(`runAction: no server line to replace in ${creds.user}.kubeconfig`)
  }
  const inputs = { ...o.inputs }
  const env: Record<string, string | undefined> = { ...o.env }
  const secrets = kubeconfigSecrets(yaml)
  if ('via' in creds) {
    env.KUBECONFIG = kubeconfigPath(creds.user)
  } else {
    inputs.kubeconfig = creds.as === 'base64' ? Buffer.from(yaml).toString('base64') : yaml
    if (creds.as === 'base64') secrets.push({ what: 'the base64 kubeconfig input', value: inputs.kubeconfig, notMasked: true })
  }
  const timeoutS = /^\d+s$/.test(inputs.timeout ?? '') ? parseInt(inputs.timeout, 10) : 120
  const run = await runDist({ inputs, env, killAfterMs: o.killAfterMs ?? (timeoutS + 30) * 1000, onStart: o.onStart, lines: o.lines })
  const record = writeRecord(inputs.job?.split(/[\n,]/)[0].trim() || (inputs.selector ? 'selector' : undefined), run)
  const json = <T>(k: string, empty: T): T => {
    try {
      return run.outputs[k] ? (JSON.parse(run.outputs[k]) as T) : empty
    } catch {
      throw new Error(`output ${k} is not JSON: ${run.outputs[k]} (see ${record})`)
    }
  }
  const out: ActionRun = {
    ...run,
    result: run.outputs.result,
    message: run.outputs.message,
    count: Number(run.outputs.count),
    phases: json('phases', {}),
    pods: json('pods', []),
    job: json('job', null),
    jobs: json('jobs', {}),
    deleted: json('deleted', []),
    elapsed: Number(run.outputs.elapsed),
    record
  }
  assertNoSecrets(run, secrets)
  return out
}

/** Keeps stdout, stderr, outputs and summary of each run in .cluster/e2e-runs/ for a failing test. */
function writeRecord(job: string | undefined, run: DistRun): string {
  const dir = path.join(STATE, 'e2e-runs')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${String(++runs).padStart(3, '0')}-${job ?? 'nojob'}.txt`)
  const text = [
    `exit code ${run.code}${run.signal ? ` (signal ${run.signal})` : ''} after ${run.ms} ms`,
    '===== stdout',
    // mask registrations carry the secrets themselves: never on disk
    run.lines
      .filter((l) => !l.line.startsWith('::add-mask::'))
      .map((l) => `+${l.t}ms ${l.line}`)
      .join('\n'),
    '===== stderr',
    run.stderr,
    '===== outputs',
    ...Object.entries(run.outputs).map(([k, v]) => `${k}: ${v}`),
    '===== summary',
    run.summary
  ].join('\n')
  fs.writeFileSync(file, text, { mode: 0o600 })
  return file
}

/** The result first, with the run's record on failure, then the exit code that goes with it. */
export function expectResult(run: ActionRun, result: 'met' | 'failed' | 'timeout' | 'error' | 'cancelled'): void {
  if (run.result !== result) {
    const tail = run.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .slice(-25)
      .join('\n')
    throw new Error(`expected result ${result}, got ${run.result}: ${run.message}\n(record: ${run.record})\n${tail}\n${run.stderr}`)
  }
  expect(run.code).toBe(result === 'met' ? 0 : 1)
  expect(run.signal).toBeNull()
}
