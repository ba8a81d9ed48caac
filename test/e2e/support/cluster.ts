// The local control plane as the end-to-end tests see it (test/cluster/up.sh
// started it): kubeconfigs of its users, kubectl as admin, and Jobs made to
// order for the kubelet simulator (sim.kjw.dev/* annotations, see
// test/cluster/README.md). Every Job a test creates is remembered and deleted
// by cleanup(); namespaces are never deleted (no namespace controller runs).
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ROOT } from '../../../__tests__/support/run-dist.js'

/** The cluster's state dir: .cluster/, or KJW_STATE_DIR as up.sh reads it. */
export const STATE = path.resolve(ROOT, process.env.KJW_STATE_DIR || '.cluster')
export const NS = 'kjw-e2e'
/** kube-apiserver's port on 127.0.0.1 (up.sh's KJW_APISERVER_PORT) */
export const APISERVER_PORT = Number(process.env.KJW_APISERVER_PORT || 6443)
export const RESTRICTED = 'kjw-restricted'

export type User = 'admin' | 'cert' | 'role' | 'nowatch' | 'norights'

export const kubeconfigPath = (user: User): string => path.join(STATE, `${user}.kubeconfig`)
export const kubeconfigText = (user: User): string => fs.readFileSync(kubeconfigPath(user), 'utf8')

/** kubectl as the cluster admin; resolves stdout, rejects with stderr. */
export function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'kubectl',
      args,
      { env: { ...process.env, KUBECONFIG: kubeconfigPath('admin') }, timeout: 60_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))
    )
    child.stdin?.end(input ?? '')
  })
}

/** A Job name no earlier run used: prefix-xxxxxx. */
export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`

export interface JobSpec {
  name: string
  namespace?: string
  /** sim.kjw.dev/<key>: value */
  sim?: Record<string, string>
  parallelism?: number
  completions?: number
  backoffLimit?: number
  backoffLimitPerIndex?: number
  completionMode?: 'NonIndexed' | 'Indexed'
  ttlSecondsAfterFinished?: number
  suspend?: boolean
  image?: string
  /** the pod template's restartPolicy (default Never) */
  restartPolicy?: 'Never' | 'OnFailure'
  /** labels of the Job, beside kjw.dev/e2e=true (for selectors) */
  labels?: Record<string, string>
  /** spec.successPolicy (Indexed Jobs) */
  successPolicy?: { rules: { succeededIndexes?: string; succeededCount?: number }[] }
  /** spec.managedBy: another controller than the Job controller */
  managedBy?: string
  /** more annotations of the pod template, beside the sim ones */
  podAnnotations?: Record<string, string>
}

export function jobManifest(j: JobSpec): object {
  const annotations = { ...Object.fromEntries(Object.entries(j.sim ?? {}).map(([k, v]) => [`sim.kjw.dev/${k}`, v])), ...j.podAnnotations }
  const spec: Record<string, unknown> = {
    backoffLimit: j.backoffLimit ?? 0,
    template: {
      metadata: { annotations },
      spec: {
        restartPolicy: j.restartPolicy ?? 'Never',
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'main', image: j.image ?? 'busybox:1.36', command: ['sh', '-c', 'true'] }]
      }
    }
  }
  for (const k of [
    'parallelism',
    'completions',
    'completionMode',
    'ttlSecondsAfterFinished',
    'backoffLimitPerIndex',
    'suspend',
    'successPolicy',
    'managedBy'
  ] as const) {
    if (j[k] !== undefined) spec[k] = j[k]
  }
  if (j.backoffLimitPerIndex !== undefined) delete spec.backoffLimit
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: j.name, namespace: j.namespace ?? NS, labels: { 'kjw.dev/e2e': 'true', ...j.labels } },
    spec
  }
}

const created: { name: string; namespace: string }[] = []

/** Creates the Job; resolves its uid once the API server has it. */
export async function createJob(j: JobSpec): Promise<{ name: string; namespace: string; uid: string }> {
  const namespace = j.namespace ?? NS
  created.push({ name: j.name, namespace })
  const uid = await kubectl(['create', '-f', '-', '-o', 'jsonpath={.metadata.uid}'], JSON.stringify(jobManifest(j)))
  return { name: j.name, namespace, uid }
}

/** Deletes a Job; 'orphan' leaves its pods running (the garbage collector strips their owner). */
export async function deleteJob(
  name: string,
  namespace = NS,
  cascade: 'background' | 'orphan' = 'background',
  wait = false
): Promise<void> {
  await kubectl(['delete', 'job', name, '-n', namespace, `--cascade=${cascade}`, `--wait=${wait}`, '--ignore-not-found'])
}

/** Deletes every Job the tests created (and pods left behind by orphaning deletes). */
export async function cleanup(): Promise<void> {
  const jobs = created.splice(0)
  // one kubectl call per namespace for the Jobs, one for their pods (a scenario may create 20 Jobs)
  for (const namespace of new Set(jobs.map((j) => j.namespace))) {
    const names = jobs.filter((j) => j.namespace === namespace).map((j) => j.name)
    await kubectl(['delete', 'job', ...names, '-n', namespace, '--cascade=background', '--wait=false', '--ignore-not-found']).catch(
      () => undefined
    )
    // pods orphaned on purpose keep their job-name label
    await kubectl([
      'delete',
      'pods',
      '-n',
      namespace,
      '-l',
      `job-name in (${names.join(',')})`,
      '--wait=false',
      '--ignore-not-found'
    ]).catch(() => undefined)
  }
}

type Obj = any

export async function getJob(name: string, namespace = NS): Promise<Obj | undefined> {
  const out = await kubectl(['get', 'job', name, '-n', namespace, '-o', 'json', '--ignore-not-found'])
  return out.trim() ? JSON.parse(out) : undefined
}

export async function listPods(namespace: string, selector: string): Promise<Obj[]> {
  return JSON.parse(await kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])).items
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls until check returns something; fails after timeoutMs naming what it waited for. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/** Creates several Jobs with one kubectl call (a List; the template is applied to each object); resolves their uids by name. */
export async function createJobs(specs: JobSpec[]): Promise<Record<string, string>> {
  for (const j of specs) created.push({ name: j.name, namespace: j.namespace ?? NS })
  const list = { apiVersion: 'v1', kind: 'List', items: specs.map(jobManifest) }
  const out = await kubectl(['create', '-f', '-', '-o', 'jsonpath={.metadata.name}={.metadata.uid}{"\\n"}'], JSON.stringify(list))
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('='))
  )
}

/** The audit log's size now: requests after it are read with auditRequests(). */
export const auditOffset = (): number => fs.statSync(path.join(STATE, 'audit.log')).size

/**
 * The requests one user made through kube-job-wait since `offset`, one per
 * auditID ("verb resource": count, and the total), from the API server's
 * audit log (test/cluster/README.md, "Audit log").
 */
export function auditRequests(offset: number, user: string): { total: number; byKind: Record<string, number> } {
  const fd = fs.openSync(path.join(STATE, 'audit.log'), 'r')
  let text: string
  try {
    const size = fs.fstatSync(fd).size
    const buf = Buffer.alloc(Math.max(0, size - offset))
    fs.readSync(fd, buf, 0, buf.length, offset)
    text = buf.toString('utf8')
  } finally {
    fs.closeSync(fd)
  }
  const seen = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    let e: Obj
    try {
      e = JSON.parse(line)
    } catch {
      continue // a line being written
    }
    if (e.user?.username !== user || !String(e.userAgent).startsWith('kube-job-wait/')) continue
    const r = e.objectRef ?? {}
    seen.set(e.auditID, `${e.verb} ${r.resource ?? e.requestURI}${r.subresource ? `/${r.subresource}` : ''}`)
  }
  const byKind: Record<string, number> = {}
  for (const k of seen.values()) byKind[k] = (byKind[k] ?? 0) + 1
  return { total: seen.size, byKind }
}

/** Pods of a Job by its name label, with their phases, as kubectl sees them. */
export async function podPhases(name: string, namespace = NS): Promise<Record<string, string>> {
  const pods = await listPods(namespace, `job-name=${name}`)
  return Object.fromEntries(pods.map((p: Obj) => [p.metadata.name, p.status?.phase]))
}
