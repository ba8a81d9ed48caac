// The resources this server knows and the small pieces of kube-apiserver's
// wire format every part needs: Status objects with the real texts, JSON
// merge patch, names with random suffixes.

import { randomBytes } from 'node:crypto'
import type { KubeObject, ResourceName } from './types.js'

export interface ResourceDef {
  resource: ResourceName
  group: '' | 'batch' | 'kueue.x-k8s.io'
  kind: string
  listKind: string
  apiVersion: string
  namespaced: boolean
  fields: (o: KubeObject) => Record<string, string>
}

function metaFields(o: KubeObject, namespaced: boolean): Record<string, string> {
  const f: Record<string, string> = { 'metadata.name': o.metadata?.name ?? '' }
  if (namespaced) f['metadata.namespace'] = o.metadata?.namespace ?? ''
  return f
}

export const RESOURCES: Record<ResourceName, ResourceDef> = {
  jobs: {
    resource: 'jobs',
    group: 'batch',
    kind: 'Job',
    listKind: 'JobList',
    apiVersion: 'batch/v1',
    namespaced: true,
    fields: (o) => ({ ...metaFields(o, true), 'status.successful': String(o.status?.succeeded ?? 0) })
  },
  pods: {
    resource: 'pods',
    group: '',
    kind: 'Pod',
    listKind: 'PodList',
    apiVersion: 'v1',
    namespaced: true,
    fields: (o) => ({
      ...metaFields(o, true),
      'spec.nodeName': o.spec?.nodeName ?? '',
      'spec.restartPolicy': o.spec?.restartPolicy ?? '',
      'spec.schedulerName': o.spec?.schedulerName ?? '',
      'spec.serviceAccountName': o.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(o.spec?.hostNetwork ?? false),
      'status.phase': o.status?.phase ?? '',
      'status.podIP': o.status?.podIP ?? '',
      'status.nominatedNodeName': o.status?.nominatedNodeName ?? ''
    })
  },
  events: {
    resource: 'events',
    group: '',
    kind: 'Event',
    listKind: 'EventList',
    apiVersion: 'v1',
    namespaced: true,
    fields: (o) => ({
      ...metaFields(o, true),
      'involvedObject.kind': o.involvedObject?.kind ?? '',
      'involvedObject.namespace': o.involvedObject?.namespace ?? '',
      'involvedObject.name': o.involvedObject?.name ?? '',
      'involvedObject.uid': o.involvedObject?.uid ?? '',
      'involvedObject.apiVersion': o.involvedObject?.apiVersion ?? '',
      'involvedObject.resourceVersion': o.involvedObject?.resourceVersion ?? '',
      'involvedObject.fieldPath': o.involvedObject?.fieldPath ?? '',
      reason: o.reason ?? '',
      reportingComponent: o.reportingComponent ?? '',
      source: o.source?.component ?? '',
      type: o.type ?? ''
    })
  },
  cronjobs: {
    resource: 'cronjobs',
    group: 'batch',
    kind: 'CronJob',
    listKind: 'CronJobList',
    apiVersion: 'batch/v1',
    namespaced: true,
    fields: (o) => metaFields(o, true)
  },
  // Kueue's CRD: served only once a test installs it (FakeApiServer.installKueue).
  workloads: {
    resource: 'workloads',
    group: 'kueue.x-k8s.io',
    kind: 'Workload',
    listKind: 'WorkloadList',
    apiVersion: 'kueue.x-k8s.io/v1beta1',
    namespaced: true,
    fields: (o) => metaFields(o, true)
  },
  namespaces: {
    resource: 'namespaces',
    group: '',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    apiVersion: 'v1',
    namespaced: false,
    fields: (o) => ({ ...metaFields(o, false), 'status.phase': o.status?.phase ?? '' })
  }
}

// Labels the Job registry puts on pod templates (pkg/apis/batch/types.go).
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name'
export const LEGACY_JOB_NAME_LABEL = 'job-name'
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid'
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid'
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index'
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking'

export function clone<T>(v: T): T {
  return structuredClone(v)
}

function isPlainObject(v: unknown): v is KubeObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** RFC 7386 JSON merge patch: objects merge, arrays and scalars replace, null deletes. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch)
  const out: KubeObject = isPlainObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

/** Go's %q for the ASCII names we handle. */
export function q(s: string): string {
  return JSON.stringify(s)
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789' // k8s.io/apimachinery/pkg/util/rand
export function randSuffix(n = 5): string {
  const bytes = randomBytes(n)
  let s = ''
  for (let i = 0; i < n; i++) s += NAME_CHARS[bytes[i] % NAME_CHARS.length]
  return s
}

export function parseBool(v: string | undefined): boolean {
  return v !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)
}

export interface StatusDetails {
  name?: string
  group?: string
  kind?: string
  uid?: string
  causes?: { reason?: string; message?: string; field?: string }[]
  retryAfterSeconds?: number
}

/** A metav1.Status failure, keys in the order Go writes them. */
export function statusObject(code: number, reason: string, message: string, details?: StatusDetails): KubeObject {
  const s: KubeObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason }
  if (details) {
    const d: KubeObject = {}
    if (details.name) d.name = details.name
    if (details.group) d.group = details.group
    if (details.kind) d.kind = details.kind
    if (details.uid) d.uid = details.uid
    if (details.causes) d.causes = details.causes
    if (details.retryAfterSeconds) d.retryAfterSeconds = details.retryAfterSeconds
    s.details = d
  }
  s.code = code
  return s
}

export function qualifiedResource(def: ResourceDef): string {
  return def.group ? `${def.resource}.${def.group}` : def.resource
}

export function notFoundStatus(resource: ResourceName, name: string): KubeObject {
  const def = RESOURCES[resource]
  return statusObject(404, 'NotFound', `${qualifiedResource(def)} ${q(name)} not found`, {
    name,
    group: def.group,
    kind: def.resource
  })
}

export function parseRv(s: string): number | undefined {
  return /^\d+$/.test(s) ? Number(s) : undefined
}

/** storage.NewTooLargeResourceVersionError */
export function tooLargeStatus(want: number, current: number): KubeObject {
  return statusObject(504, 'Timeout', `Timeout: Too large resource version: ${want}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1
  })
}
