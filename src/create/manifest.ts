// The manifest input → the Jobs to create, checked before any request: only
// batch/v1 Jobs, one namespace, a name or a generateName each. Pure functions
// over text and objects; reading files is read.ts's, the API calls apply.ts's.
import { loadAll } from 'js-yaml'

/** A Kubernetes object as JSON. */
export type KubeObject = Record<string, unknown>

/** A value, or the one line that says why not (errors as values: no @actions/* here). */
export type Result<T> = { ok: true; value: T } | { ok: false; message: string }

export const ok = <T>(value: T): Result<T> => ({ ok: true, value })
export const refused = <T = never>(message: string): Result<T> => ({ ok: false, message })

/** Where a document came from, for messages: "manifest document 2" or "jobs/a.yaml document 1". */
export interface Source {
  /** the file (relative to the workspace), or undefined for inline YAML */
  file?: string
  text: string
}

export interface JobManifest {
  /** "manifest document 2", "jobs/a.yaml document 1" */
  where: string
  object: KubeObject
  /** metadata.name; undefined when the server names it (generateName) */
  name?: string
  generateName?: string
}

export interface ManifestPlan {
  /** the manifest's own namespace, when its documents name one */
  namespace?: string
  jobs: JobManifest[]
}

const isObject = (v: unknown): v is KubeObject => typeof v === 'object' && v !== null && !Array.isArray(v)

// Job names become label values on pods: at most 63 characters. generateName adds 5.
const DNS_LABELISH = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/

/** Every document of every source, in order; empty documents (a trailing ---) are skipped. */
export function parseDocuments(sources: Source[]): Result<{ where: string; doc: unknown }[]> {
  const out: { where: string; doc: unknown }[] = []
  for (const s of sources) {
    const label = s.file ?? 'manifest'
    let docs: unknown[]
    try {
      docs = loadAll(s.text)
    } catch (err) {
      const first = ((err as Error).message ?? String(err)).split('\n')[0]
      return refused(`${s.file ? `manifest file ${s.file}` : "Input 'manifest'"} is not valid YAML: ${first}`)
    }
    let n = 0
    for (const doc of docs) {
      n++
      if (doc === null || doc === undefined) continue
      out.push({ where: `${label} document ${n}`, doc })
    }
  }
  if (!out.length) return refused("Input 'manifest' holds no document: give one or more Jobs (kind: Job, apiVersion: batch/v1)")
  return ok(out)
}

/**
 * The Jobs of the documents, all checked before anything is created: every
 * document a batch/v1 Job with a name or a generateName, one namespace.
 */
export function jobsOf(docs: { where: string; doc: unknown }[]): Result<ManifestPlan> {
  const jobs: JobManifest[] = []
  const namespaces = new Map<string, string>()
  const names = new Set<string>()
  for (const { where, doc } of docs) {
    if (!isObject(doc)) return refused(`${where} is not a Kubernetes object (a YAML mapping with kind and apiVersion)`)
    const kind = doc.kind
    if (typeof kind !== 'string' || !kind) return refused(`${where} has no kind: only Jobs (kind: Job, apiVersion: batch/v1) are created`)
    if (kind !== 'Job') return refused(`${where} is a ${kind}: only Jobs (kind: Job, apiVersion: batch/v1) are created, nothing was`)
    if (doc.apiVersion !== 'batch/v1')
      return refused(`${where} is a Job of apiVersion ${String(doc.apiVersion ?? '(none)')}: expected batch/v1`)
    const meta = isObject(doc.metadata) ? doc.metadata : {}
    const name = typeof meta.name === 'string' && meta.name ? meta.name : undefined
    const generateName = typeof meta.generateName === 'string' && meta.generateName ? meta.generateName : undefined
    if (!name && !generateName) return refused(`${where}: the Job has neither metadata.name nor metadata.generateName`)
    if (name && (name.length > 63 || !DNS_LABELISH.test(name)))
      return refused(
        `${where}: metadata.name "${name}" is not a valid Job name (lower-case letters, digits, "-" and ".", at most 63 characters)`
      )
    if (!name && generateName && (generateName.length > 58 || !DNS_LABELISH.test(generateName.replace(/[-.]$/, ''))))
      return refused(`${where}: metadata.generateName "${generateName}" is not a valid prefix of a Job name`)
    if (name) {
      if (names.has(name)) return refused(`${where}: a Job named ${name} comes twice in the manifest`)
      names.add(name)
    }
    if (typeof meta.namespace === 'string' && meta.namespace) namespaces.set(meta.namespace, where)
    jobs.push({ where, object: doc, ...(name ? { name } : { generateName }) })
  }
  if (namespaces.size > 1) {
    const list = [...namespaces].map(([ns, where]) => `${ns} (${where})`).join(', ')
    return refused(`the manifest's Jobs are in several namespaces, ${list}: one step waits in one namespace`)
  }
  const [namespace] = namespaces.keys()
  return ok({ ...(namespace ? { namespace } : {}), jobs })
}

/** The object to POST: the document in the namespace of the wait. */
export function forNamespace(job: JobManifest, namespace: string): KubeObject {
  const meta = isObject(job.object.metadata) ? job.object.metadata : {}
  return { ...job.object, metadata: { ...meta, namespace } }
}

// Labels the API server adds to a Job's pod template (pkg/registry/batch/job/strategy.go).
const SERVER_LABELS = new Set(['controller-uid', 'job-name', 'batch.kubernetes.io/controller-uid', 'batch.kubernetes.io/job-name'])

const show = (v: unknown): string => (v === undefined ? '(none)' : JSON.stringify(v))

/**
 * The first field of `wanted` that `existing` does not hold as given, as a
 * path (spec.template.spec.containers[0].image) with both values; undefined
 * when every given field matches. Fields the manifest leaves out are the
 * server's defaults and not compared; nor are the labels the server adds.
 */
export function firstDifference(wanted: unknown, existing: unknown, path: string): string | undefined {
  if (wanted === undefined || wanted === null) return undefined
  if (Array.isArray(wanted)) {
    if (!Array.isArray(existing) || existing.length !== wanted.length)
      return `${path}: ${show(existing)} in the cluster, ${show(wanted)} in the manifest`
    for (let i = 0; i < wanted.length; i++) {
      const d = firstDifference(wanted[i], existing[i], `${path}[${i}]`)
      if (d) return d
    }
    return undefined
  }
  if (isObject(wanted)) {
    if (!isObject(existing)) return `${path}: ${show(existing)} in the cluster, ${show(wanted)} in the manifest`
    for (const [k, v] of Object.entries(wanted)) {
      const d = firstDifference(v, existing[k], path ? `${path}.${k}` : k)
      if (d) return d
    }
    return undefined
  }
  // Quantities and numbers may come back as strings ("1" for 1): compare as text.
  if (existing === undefined || String(existing) !== String(wanted))
    return `${path}: ${show(existing)} in the cluster, ${show(wanted)} in the manifest`
  return undefined
}

/** firstDifference over the pod templates, without the labels the server adds. */
export function templateDifference(wanted: KubeObject, existing: KubeObject): string | undefined {
  const template = (o: KubeObject): unknown => (isObject(o.spec) ? o.spec.template : undefined)
  const strip = (t: unknown): unknown => {
    if (!isObject(t) || !isObject(t.metadata) || !isObject(t.metadata.labels)) return t
    const labels = Object.fromEntries(Object.entries(t.metadata.labels).filter(([k]) => !SERVER_LABELS.has(k)))
    return { ...t, metadata: { ...t.metadata, labels } }
  }
  return firstDifference(strip(template(wanted)), template(existing), 'spec.template')
}
