// A small Kubernetes-shaped API server for integration tests.
//
// The real @kubernetes/client-node is pointed at it through a kubeconfig
// (see kubeconfig()). It is not a mock of the client: it speaks the wire
// format of kube-apiserver for the few resources a Job waiter needs (jobs,
// pods, pods/log, events, namespaces, /version): JSON lists with kind,
// apiVersion and metadata.resourceVersion, Status objects with the texts the
// real server uses, LIST + WATCH with resourceVersion semantics, bookmarks,
// 410 "too old resource version", RBAC-style 403s and 401s.
//
// Test helpers mutate the state the way the control plane would (createJob
// fills the selector and template labels like the Job registry strategy;
// createPodForJob labels pods and sets the controller ownerReference), and
// every change bumps one global resourceVersion and is recorded as a watch
// event. Fault injection (closed, reset, stalled and hung connections,
// expired watches, canned error responses) serves the reliability tests.
//
// Plain HTTP on 127.0.0.1 only. client-node refuses http:// servers unless
// the kubeconfig cluster has `insecure-skip-tls-verify: true`, which
// kubeconfig() sets.

import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

// ---------------------------------------------------------------------------
// Types

/** A Kubernetes object as it travels on the wire (plain JSON). */

export type KubeObject = Record<string, any>

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

/** Resources this server knows; `pods/log` is the log subresource. */
export type ResourceName = 'jobs' | 'pods' | 'events' | 'namespaces'

/**
 * A permission: `'*'` (everything), or `"verb resource [namespace]"` where
 * verb is get/list/watch (or `*`, or a comma list like `get,list`), resource
 * is jobs, pods, pods/log, events, namespaces (or `*`), and the optional
 * namespace limits it to one namespace. Example: `'watch pods'`,
 * `'get pods/log'`, `'get,list jobs team-a'`.
 */
export type Permission = string

export interface UserSpec {
  /** Bearer token; defaults to `token-<name>`. */
  token?: string
  /** Allowed `verb resource` pairs, or '*' for everything. Default: nothing. */
  allow?: Permission[] | '*'
}

export interface FakeApiServerOptions {
  /** Users by name. A user `admin` allowed '*' is always added unless given. */
  users?: Record<string, UserSpec>
  /**
   * How a WATCH from a resourceVersion older than the compaction point is
   * refused: 'http' = HTTP 410 with a Status body (default); 'event' = HTTP
   * 200, one ERROR event carrying the 410 Status, then a clean close (what a
   * watch-cache-backed kube-apiserver does).
   */
  expiredWatch?: 'http' | 'event'
  /** Send BOOKMARK events every N ms to watches that asked for them. */
  bookmarkIntervalMs?: number
  /** Close watches that gave no timeoutSeconds after this many seconds (default: never). */
  defaultWatchTimeoutSeconds?: number
  /** First resourceVersion handed out is this + 1. Default 1000. */
  initialResourceVersion?: number
  /** Clock for timestamps. Default: real time. */
  now?: () => Date
  /** Fields of the /version answer to override. */
  version?: Partial<VersionInfo>
  /** Create the namespace when a helper creates an object in a missing one (default true). */
  autoCreateNamespaces?: boolean
  /** Namespaces present at start (default: ["default", "kube-system"]). */
  namespaces?: string[]
}

export interface VersionInfo {
  major: string
  minor: string
  emulationMajor?: string
  emulationMinor?: string
  minCompatibilityMajor?: string
  minCompatibilityMinor?: string
  gitVersion: string
  gitCommit: string
  gitTreeState: string
  buildDate: string
  goVersion: string
  compiler: string
  platform: string
}

/** One logged request. `status` is set once the response head is sent. */
export interface RequestRecord {
  id: number
  method: string
  /** URL path, e.g. /apis/batch/v1/namespaces/ns/jobs */
  path: string
  /** Query parameters (last value wins). */
  query: Record<string, string>
  /** Authenticated user name; undefined when authentication failed. */
  user?: string
  /** Kubernetes verb: get, list, watch (undefined for unknown routes). */
  verb?: string
  /** jobs, pods, pods/log, events, namespaces, or 'version'. */
  resource?: string
  namespace?: string
  name?: string
  watch: boolean
  /** Date.now() when the request arrived. */
  time: number
  status?: number
  /** 'canned' | 'hang' | 'stall' when a fault rule answered. */
  fault?: 'canned' | 'hang' | 'stall'
}

/** Matches requests for fault rules and waitForRequest. All given fields must match. */
export interface RequestMatch {
  method?: string
  /** Exact path, or a RegExp tested against the path. */
  path?: string | RegExp
  verb?: string
  resource?: string
  namespace?: string
  name?: string
  user?: string
  watch?: boolean
  status?: number
}
export type RequestMatcher = RequestMatch | ((r: RequestRecord) => boolean)

/** A canned answer for nextResponses(). Without body, a realistic one is made for the status. */
export interface CannedResponse {
  status: number
  /** Status reason (for a default Status body). */
  reason?: string
  /** Status message (for a default Status body). */
  message?: string
  /** Object bodies are sent as JSON, strings as text/plain. */
  body?: KubeObject | string
  headers?: Record<string, string>
  /** Sets the Retry-After header (seconds). 429 defaults to 1. */
  retryAfter?: number
  /** Delay before answering, ms. */
  delayMs?: number
}

export interface WatchInfo {
  id: number
  user: string
  resource: ResourceName
  namespace: string
  labelSelector: string
  fieldSelector: string
  resourceVersion: string
  allowWatchBookmarks: boolean
  stalled: boolean
}

export interface EventSpec {
  reason: string
  message: string
  type?: 'Normal' | 'Warning'
  count?: number
  /** source.component / reportingComponent, default depends on kind (job-controller, kubelet, default-scheduler). */
  component?: string
  /** e.g. spec.containers{main} */
  fieldPath?: string
  firstTimestamp?: string
  lastTimestamp?: string
  /** Event name; default `<object>.<16 hex>`. */
  name?: string
}

export interface FinishPodOptions {
  /** Exit code for every container (default 0). */
  exitCode?: number
  /** Per-container exit codes. */
  exitCodes?: Record<string, number>
  /** Terminated reason; default Completed (0) / Error (non-zero). */
  reason?: string
  message?: string
}

// ---------------------------------------------------------------------------
// Resource table

interface ResourceDef {
  resource: ResourceName
  group: '' | 'batch'
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

const RESOURCES: Record<ResourceName, ResourceDef> = {
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

// ---------------------------------------------------------------------------
// Small helpers

function clone<T>(v: T): T {
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
function q(s: string): string {
  return JSON.stringify(s)
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789' // k8s.io/apimachinery/pkg/util/rand
function randSuffix(n = 5): string {
  const bytes = randomBytes(n)
  let s = ''
  for (let i = 0; i < n; i++) s += NAME_CHARS[bytes[i] % NAME_CHARS.length]
  return s
}

function parseBool(v: string | undefined): boolean {
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

function qualifiedResource(def: ResourceDef): string {
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

// ---------------------------------------------------------------------------
// Selectors

interface LabelRequirement {
  key: string
  op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt'
  values: string[]
}

const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const LABEL_KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/

class SelectorError extends Error {}

function splitTopLevel(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out
}

function checkLabelKey(key: string): void {
  if (!LABEL_KEY_RE.test(key) || key.length > 317) {
    throw new SelectorError(
      `unable to parse requirement: <nil>: Invalid value: ${q(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`
    )
  }
}

function checkLabelValue(key: string, v: string): void {
  if (!LABEL_VALUE_RE.test(v) || v.length > 63) {
    throw new SelectorError(
      `unable to parse requirement: values[0][${key}]: Invalid value: ${q(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`
    )
  }
}

/** Parses a label selector (=, ==, !=, in, notin, exists, !exists, gt, lt). */
export function parseLabelSelector(sel: string | undefined): LabelRequirement[] {
  if (!sel || sel.trim() === '') return []
  const reqs: LabelRequirement[] = []
  for (const raw of splitTopLevel(sel)) {
    const term = raw.trim()
    if (term === '') throw new SelectorError(`found '', expected: !, identifier, or 'end of string'`)
    let m: RegExpMatchArray | null
    if ((m = term.match(/^!\s*([^\s=!<>(),]+)$/))) {
      checkLabelKey(m[1])
      reqs.push({ key: m[1], op: '!', values: [] })
    } else if ((m = term.match(/^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/))) {
      checkLabelKey(m[1])
      const values = m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v, i, all) => !(v === '' && all.length === 1))
      values.forEach((v) => checkLabelValue(m![1], v))
      reqs.push({ key: m[1], op: m[2] as 'in' | 'notin', values })
    } else if ((m = term.match(/^([^\s=!<>(),]+)\s*(==|=|!=|<|>)\s*([^\s=!<>(),]*)$/))) {
      checkLabelKey(m[1])
      const op = m[2] === '==' || m[2] === '=' ? '=' : m[2] === '!=' ? '!=' : m[2] === '<' ? 'lt' : 'gt'
      if (op === 'lt' || op === 'gt') {
        if (!/^-?\d+$/.test(m[3])) {
          throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`)
        }
      } else checkLabelValue(m[1], m[3])
      reqs.push({ key: m[1], op, values: [m[3]] })
    } else if ((m = term.match(/^([^\s=!<>(),]+)$/))) {
      checkLabelKey(m[1])
      reqs.push({ key: m[1], op: 'exists', values: [] })
    } else {
      throw new SelectorError(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`)
    }
  }
  return reqs
}

export function labelsMatch(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key)
    const v = l[r.key]
    switch (r.op) {
      case '=':
        return has && v === r.values[0]
      case '!=':
        return !has || v !== r.values[0]
      case 'in':
        return has && r.values.includes(v)
      case 'notin':
        return !has || !r.values.includes(v)
      case 'exists':
        return has
      case '!':
        return !has
      case 'gt':
        return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0])
      case 'lt':
        return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0])
    }
    return false
  })
}

interface FieldRequirement {
  field: string
  op: '=' | '!='
  value: string
}

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[i + 1]
      i++
    } else if (s[i] === sep) {
      out.push(cur)
      cur = ''
    } else cur += s[i]
  }
  out.push(cur)
  return out
}

function unescapeField(s: string): string {
  return s.replace(/\\(.)/g, '$1')
}

/** Parses a field selector (=, ==, !=) and checks the fields against the resource. */
export function parseFieldSelector(sel: string | undefined, resource: ResourceName): FieldRequirement[] {
  if (!sel || sel.trim() === '') return []
  const known = Object.keys(RESOURCES[resource].fields({ metadata: {} }))
  const reqs: FieldRequirement[] = []
  for (const term of splitUnescaped(sel, ',')) {
    const m = term.match(/^([^=!]+?)(!=|==|=)(.*)$/s)
    if (!m) throw new SelectorError(`invalid selector: '${sel}'; can't understand '${term}'`)
    const field = m[1].trim()
    if (!known.includes(field)) throw new SelectorError(`field label not supported: ${field}`)
    reqs.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescapeField(m[3]) })
  }
  return reqs
}

function fieldsMatch(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => (r.op === '=' ? fields[r.field] === r.value : fields[r.field] !== r.value))
}

// ---------------------------------------------------------------------------
// Server internals

interface HistoryEntry {
  rv: number
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  resource: ResourceName
  namespace: string
  /** The object after the change; for DELETED, the last state with the deletion's resourceVersion. */
  object: KubeObject
  /** The object before the change (MODIFIED, DELETED). */
  prev?: KubeObject
}

interface WatchConn {
  id: number
  user: string
  def: ResourceDef
  namespace: string
  labels: LabelRequirement[]
  fields: FieldRequirement[]
  labelSelector: string
  fieldSelector: string
  resourceVersion: string
  bookmarks: boolean
  stalled: boolean
  closed: boolean
  timer?: NodeJS.Timeout
  req: IncomingMessage
  res: ServerResponse
}

interface FaultRule {
  match: RequestMatcher
  remaining: number
  responses?: CannedResponse[]
}

interface Route {
  def?: ResourceDef
  version?: boolean
  namespace: string
  name?: string
  subresource?: string
  watchPrefix: boolean
}

interface Waiter {
  /** Returns the value to resolve with, or undefined to keep waiting. */
  check: () => unknown
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

/** Selects open watches for waitForWatch(). */
export interface WatchMatch {
  resource?: ResourceName
  namespace?: string
  user?: string
  labelSelector?: string
  fieldSelector?: string
  stalled?: boolean
}

function matches(m: RequestMatcher, r: RequestRecord): boolean {
  if (typeof m === 'function') return m(r)
  if (m.method !== undefined && m.method.toUpperCase() !== r.method) return false
  if (m.path !== undefined) {
    if (typeof m.path === 'string' ? m.path !== r.path : !m.path.test(r.path)) return false
  }
  if (m.verb !== undefined && m.verb !== r.verb) return false
  if (m.resource !== undefined && m.resource !== r.resource) return false
  if (m.namespace !== undefined && m.namespace !== r.namespace) return false
  if (m.name !== undefined && m.name !== r.name) return false
  if (m.user !== undefined && m.user !== r.user) return false
  if (m.watch !== undefined && m.watch !== r.watch) return false
  if (m.status !== undefined && m.status !== r.status) return false
  return true
}

const DEFAULT_VERSION: VersionInfo = {
  major: '1',
  minor: '33',
  emulationMajor: '1',
  emulationMinor: '33',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '32',
  gitVersion: 'v1.33.1',
  gitCommit: '8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828',
  gitTreeState: 'clean',
  buildDate: '2025-05-15T08:19:08Z',
  goVersion: 'go1.24.2',
  compiler: 'gc',
  platform: 'linux/amd64'
}

// ---------------------------------------------------------------------------
// The server

export class FakeApiServer {
  /** Every request, in arrival order. */
  readonly requests: RequestRecord[] = []

  private server?: Server
  private baseUrl = ''
  private readonly sockets = new Set<Socket>()
  private readonly objects = new Map<string, KubeObject>()
  private readonly history: HistoryEntry[] = []
  private readonly watches = new Set<WatchConn>()
  private readonly logs = new Map<string, { text: string; time: string }>()
  private readonly users = new Map<string, { token: string; allow: Permission[] | '*' }>()
  private readonly cannedRules: FaultRule[] = []
  private readonly hangRules: FaultRule[] = []
  private readonly hung = new Set<ServerResponse>()
  private readonly waiters = new Set<Waiter>()
  private stallNew = false
  private rv: number
  private compactedRv = 0
  private nextId = 1
  private bookmarkTimer?: NodeJS.Timeout
  private readonly now: () => Date
  private readonly versionInfo: VersionInfo
  private expiredWatchMode: 'http' | 'event'
  private readonly defaultWatchTimeoutSeconds?: number
  private readonly autoCreateNamespaces: boolean
  private readonly pfFlowSchema = randomUUID()
  private readonly pfPriorityLevel = randomUUID()

  constructor(opts: FakeApiServerOptions = {}) {
    this.rv = opts.initialResourceVersion ?? 1000
    this.now = opts.now ?? (() => new Date())
    this.versionInfo = { ...DEFAULT_VERSION, ...opts.version }
    this.expiredWatchMode = opts.expiredWatch ?? 'http'
    this.defaultWatchTimeoutSeconds = opts.defaultWatchTimeoutSeconds
    this.autoCreateNamespaces = opts.autoCreateNamespaces ?? true
    const users: Record<string, UserSpec> = { admin: { allow: '*' }, ...opts.users }
    for (const [name, spec] of Object.entries(users)) this.addUser(name, spec.allow ?? [], spec.token)
    for (const ns of opts.namespaces ?? ['default', 'kube-system']) this.createNamespace(ns)
    if (opts.bookmarkIntervalMs) this.setBookmarkInterval(opts.bookmarkIntervalMs)
  }

  // -------------------------------------------------------------------------
  // Lifecycle

  /** Listens on 127.0.0.1 on a random port. */
  async start(): Promise<{ url: string }> {
    if (this.server) return { url: this.baseUrl }
    const server = createServer((req, res) => this.handle(req, res))
    server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const addr = server.address() as AddressInfo
    this.baseUrl = `http://127.0.0.1:${addr.port}`
    return { url: this.baseUrl }
  }

  get url(): string {
    return this.baseUrl
  }

  /** Destroys every connection and closes the listener. Leaves no handle open. */
  async stop(): Promise<void> {
    this.setBookmarkInterval(null)
    for (const w of this.watches) this.forgetWatch(w)
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer)
      waiter.reject(new Error('fake apiserver stopped'))
    }
    this.waiters.clear()
    this.hung.clear()
    const server = this.server
    this.server = undefined
    if (!server) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    server.closeAllConnections()
    await closed
  }

  // -------------------------------------------------------------------------
  // Users and kubeconfig

  /** Adds (or replaces) a user; returns its token. */
  addUser(name: string, allow: Permission[] | '*', token?: string): string {
    const t = token ?? `token-${name}`
    this.users.set(name, { token: t, allow })
    return t
  }

  /** Changes a user's permissions (takes effect on the next request). */
  setPermissions(name: string, allow: Permission[] | '*'): void {
    const u = this.users.get(name)
    if (!u) throw new Error(`no user ${name}`)
    u.allow = allow
  }

  tokenFor(name: string): string {
    const u = this.users.get(name)
    if (!u) throw new Error(`no user ${name}`)
    return u.token
  }

  /**
   * A kubeconfig (YAML) for `user` pointed at this server. `token` overrides
   * the user's token (e.g. a bogus one for 401 tests). start() first.
   */
  kubeconfig(user = 'admin', opts: { namespace?: string; token?: string } = {}): string {
    if (!this.baseUrl) throw new Error('start() the fake apiserver first')
    const token = opts.token ?? this.tokenFor(user)
    const lines = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${q(this.baseUrl)}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${q(user)}`,
      '  user:',
      `    token: ${q(token)}`,
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      `    user: ${q(user)}`
    ]
    if (opts.namespace) lines.push(`    namespace: ${q(opts.namespace)}`)
    lines.push('current-context: fake', 'preferences: {}', '')
    return lines.join('\n')
  }

  // -------------------------------------------------------------------------
  // State inspection

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return String(this.rv)
  }

  /** The compaction point: watches from an older resourceVersion get 410. */
  get compactedResourceVersion(): string {
    return String(this.compactedRv)
  }

  get(resource: ResourceName, namespace: string, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(resource, namespace, name))
    return o ? clone(o) : undefined
  }

  getJob(namespace: string, name: string): KubeObject | undefined {
    return this.get('jobs', namespace, name)
  }

  getPod(namespace: string, name: string): KubeObject | undefined {
    return this.get('pods', namespace, name)
  }

  /** Objects of a resource in a namespace ('' = all), sorted by namespace/name. */
  list(resource: ResourceName, namespace = ''): KubeObject[] {
    return this.select(RESOURCES[resource], namespace, [], []).map(clone)
  }

  /** Pods whose controller ownerReference is this Job. */
  podsOfJob(job: KubeObject): KubeObject[] {
    const uid = job.metadata?.uid ?? this.mustGet('jobs', job.metadata.namespace, job.metadata.name).metadata.uid
    return this.list('pods', job.metadata.namespace).filter((p) =>
      (p.metadata.ownerReferences ?? []).some((r: KubeObject) => r.controller && r.uid === uid)
    )
  }

  /** Open watch streams. */
  openWatches(): WatchInfo[] {
    return [...this.watches].map((w) => ({
      id: w.id,
      user: w.user,
      resource: w.def.resource,
      namespace: w.namespace,
      labelSelector: w.labelSelector,
      fieldSelector: w.fieldSelector,
      resourceVersion: w.resourceVersion,
      allowWatchBookmarks: w.bookmarks,
      stalled: w.stalled
    }))
  }

  /** Logged requests that match. */
  requestsMatching(match: RequestMatcher): RequestRecord[] {
    return this.requests.filter((r) => matches(match, r))
  }

  /** Empties the request log. */
  clearRequests(): void {
    this.requests.length = 0
  }

  /**
   * Resolves when the log holds at least `count` (default 1) matching
   * requests, counting those already logged. A `status` in the match waits
   * for the response head (for a watch: the stream is open).
   */
  waitForRequest(match: RequestMatcher, opts: { count?: number; timeoutMs?: number } = {}): Promise<RequestRecord> {
    const count = opts.count ?? 1
    const describe = typeof match === 'function' ? 'predicate' : JSON.stringify(match, (_k, v) => (v instanceof RegExp ? String(v) : v))
    return this.waitFor(
      () => this.requestsMatching(match)[count - 1],
      () => `${count} request(s) matching ${describe}; log: ${this.describeLog()}`,
      opts.timeoutMs
    )
  }

  /**
   * Resolves when at least `count` (default 1) matching watches are open on
   * the server (registered: fault injection such as resetWatches() or
   * closeWatches() reaches them from then on).
   */
  waitForWatch(match: WatchMatch = {}, opts: { count?: number; timeoutMs?: number } = {}): Promise<WatchInfo> {
    const count = opts.count ?? 1
    const ok = (w: WatchInfo): boolean =>
      (Object.keys(match) as (keyof WatchMatch)[]).every((k) => match[k] === undefined || match[k] === w[k])
    return this.waitFor(
      () => this.openWatches().filter(ok)[count - 1],
      () => `${count} open watch(es) matching ${JSON.stringify(match)}; open: ${JSON.stringify(this.openWatches())}`,
      opts.timeoutMs
    )
  }

  private waitFor<T>(check: () => T | undefined, describe: () => string, timeoutMs = 5000): Promise<T> {
    const now = check()
    if (now !== undefined) return Promise.resolve(now)
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter)
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`))
        }, timeoutMs)
      }
      waiter.timer.unref()
      this.waiters.add(waiter)
    })
  }

  private describeLog(): string {
    return this.requests
      .map(
        (r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ''} -> ${r.status ?? 'pending'}`
      )
      .join('; ')
  }

  private notifyWaiters(): void {
    for (const w of this.waiters) {
      const v = w.check()
      if (v !== undefined) {
        clearTimeout(w.timer)
        this.waiters.delete(w)
        w.resolve(v)
      }
    }
  }

  // -------------------------------------------------------------------------
  // Object helpers (what the control plane would do)

  createNamespace(name: string): KubeObject {
    const existing = this.objects.get(this.key('namespaces', '', name))
    if (existing) return clone(existing)
    const ns: KubeObject = {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name,
        uid: randomUUID(),
        creationTimestamp: this.timestamp(),
        labels: { 'kubernetes.io/metadata.name': name }
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' }
    }
    return this.commit('ADDED', 'namespaces', '', ns)
  }

  deleteNamespace(name: string): void {
    this.remove('namespaces', '', name)
  }

  /**
   * Creates a Job as the API server would store it: metadata filled
   * (uid, creationTimestamp, generation, resourceVersion), defaults applied,
   * and (unless spec.manualSelector) the selector and the four template labels
   * of the Job registry strategy. Status is cleared, as on a real create.
   */
  createJob(namespace: string, partial: KubeObject = {}): KubeObject {
    this.ensureNamespace(namespace)
    const job = clone(partial)
    job.kind = 'Job'
    job.apiVersion = 'batch/v1'
    const meta = (job.metadata = job.metadata ?? {})
    if (!meta.name) {
      if (!meta.generateName) throw new Error('createJob: metadata.name or metadata.generateName is required')
      meta.name = meta.generateName + randSuffix()
    }
    if (this.objects.has(this.key('jobs', namespace, meta.name))) {
      throw new Error(`jobs.batch ${q(meta.name)} already exists`)
    }
    meta.namespace = namespace
    meta.uid = randomUUID()
    meta.creationTimestamp = this.timestamp()
    meta.generation = 1
    const spec = (job.spec = job.spec ?? {})
    // SetDefaults_Job (pkg/apis/batch/v1/defaults.go)
    if (spec.completions === undefined && spec.parallelism === undefined) {
      spec.completions = 1
      spec.parallelism = 1
    }
    if (spec.parallelism === undefined) spec.parallelism = 1
    if (spec.backoffLimit === undefined) spec.backoffLimit = spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6
    if (spec.completionMode === undefined) spec.completionMode = 'NonIndexed'
    if (spec.suspend === undefined) spec.suspend = false
    if (spec.podReplacementPolicy === undefined) {
      spec.podReplacementPolicy = spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed'
    }
    const template = (spec.template = spec.template ?? {})
    template.metadata = template.metadata ?? {}
    template.spec = template.spec ?? {}
    if (!template.spec.containers || template.spec.containers.length === 0) {
      template.spec.containers = [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'true'] }]
    }
    if (!template.spec.restartPolicy) template.spec.restartPolicy = 'Never'
    applyPodSpecDefaults(template.spec)
    // The defaulter aliases the Job's labels to the template's label map when
    // the Job has none, so the Job ends up with the generated labels too.
    const templateHadLabels = template.metadata.labels !== undefined && template.metadata.labels !== null
    const jobHadLabels = meta.labels && Object.keys(meta.labels).length > 0
    if (!spec.manualSelector) {
      // generateSelector (pkg/registry/batch/job/strategy.go)
      const labels: Record<string, string> = (template.metadata.labels = template.metadata.labels ?? {})
      for (const l of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(l in labels)) labels[l] = meta.name
      for (const l of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(l in labels)) labels[l] = meta.uid
      spec.selector = spec.selector ?? {}
      spec.selector.matchLabels = spec.selector.matchLabels ?? {}
      if (!(CONTROLLER_UID_LABEL in spec.selector.matchLabels)) spec.selector.matchLabels[CONTROLLER_UID_LABEL] = meta.uid
    }
    if (templateHadLabels && !jobHadLabels) meta.labels = { ...template.metadata.labels }
    job.status = {}
    return this.commit('ADDED', 'jobs', namespace, job)
  }

  /**
   * Creates a pod as the Job controller would: named `<job>-xxxxx`, with the
   * template's labels (incl. controller-uid and job-name), a controller
   * ownerReference to the Job, the job-tracking finalizer, the template spec
   * (merged with partial.spec) and status Pending. `index` sets the
   * completion index label and annotation (Indexed Jobs).
   */
  createPodForJob(job: KubeObject, partial: KubeObject = {}, opts: { index?: number } = {}): KubeObject {
    const ns = job.metadata?.namespace
    const stored = this.mustGet('jobs', ns, job.metadata?.name)
    const name = partial.metadata?.name ?? `${stored.metadata.name}-${randSuffix()}`
    const template = stored.spec.template ?? {}
    const labels: Record<string, string> = { ...template.metadata?.labels, ...partial.metadata?.labels }
    const annotations: Record<string, string> = { ...template.metadata?.annotations, ...partial.metadata?.annotations }
    if (opts.index !== undefined) {
      labels[JOB_COMPLETION_INDEX] = String(opts.index)
      annotations[JOB_COMPLETION_INDEX] = String(opts.index)
    }
    const pod: KubeObject = mergePatch(
      {
        metadata: {
          name,
          generateName: `${stored.metadata.name}-`,
          labels,
          ...(Object.keys(annotations).length ? { annotations } : {}),
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'Job',
              name: stored.metadata.name,
              uid: stored.metadata.uid,
              controller: true,
              blockOwnerDeletion: true
            }
          ],
          finalizers: [JOB_TRACKING_FINALIZER]
        },
        spec: clone(template.spec ?? {})
      },
      { ...partial, metadata: { ...partial.metadata, labels: null, annotations: null } }
    ) as KubeObject
    pod.metadata.labels = labels
    if (Object.keys(annotations).length) pod.metadata.annotations = annotations
    return this.createPod(ns, pod)
  }

  /** Creates a pod (not owned by anything unless partial says so). Status starts Pending. */
  createPod(namespace: string, partial: KubeObject = {}): KubeObject {
    this.ensureNamespace(namespace)
    const pod = clone(partial)
    pod.kind = 'Pod'
    pod.apiVersion = 'v1'
    const meta = (pod.metadata = pod.metadata ?? {})
    if (!meta.name) {
      if (!meta.generateName) throw new Error('createPod: metadata.name or metadata.generateName is required')
      meta.name = meta.generateName + randSuffix()
    }
    if (this.objects.has(this.key('pods', namespace, meta.name))) throw new Error(`pods ${q(meta.name)} already exists`)
    meta.namespace = namespace
    meta.uid = randomUUID()
    meta.creationTimestamp = this.timestamp()
    const spec = (pod.spec = pod.spec ?? {})
    if (!spec.containers || spec.containers.length === 0) {
      spec.containers = [{ name: 'main', image: 'busybox:1.36' }]
    }
    if (!spec.restartPolicy) spec.restartPolicy = 'Always'
    applyPodSpecDefaults(spec)
    // Admission: service account and DefaultTolerationSeconds.
    if (!spec.serviceAccountName) spec.serviceAccountName = 'default'
    spec.serviceAccount = spec.serviceAccountName
    if (spec.priority === undefined) spec.priority = 0
    if (!spec.preemptionPolicy) spec.preemptionPolicy = 'PreemptLowerPriority'
    if (spec.enableServiceLinks === undefined) spec.enableServiceLinks = true
    if (!spec.tolerations) {
      spec.tolerations = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({
        key,
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300
      }))
    }
    pod.status = { phase: 'Pending', qosClass: 'BestEffort', ...pod.status }
    return this.commit('ADDED', 'pods', namespace, pod)
  }

  /** JSON-merge-patches a Job's status (status subresource: generation unchanged). */
  updateJobStatus(namespace: string, name: string, patch: KubeObject): KubeObject {
    return this.patch('jobs', namespace, name, { status: patch })
  }

  /** JSON-merge-patches a pod's status. */
  updatePodStatus(namespace: string, name: string, patch: KubeObject): KubeObject {
    return this.patch('pods', namespace, name, { status: patch })
  }

  /** JSON-merge-patches a whole Job (metadata/spec); a spec change bumps generation. */
  updateJob(namespace: string, name: string, patch: KubeObject): KubeObject {
    return this.patch('jobs', namespace, name, patch)
  }

  /** JSON-merge-patches a whole pod. */
  updatePod(namespace: string, name: string, patch: KubeObject): KubeObject {
    return this.patch('pods', namespace, name, patch)
  }

  /**
   * Deletes a Job. 'Background' (default, like kubectl and the TTL
   * controller's effect) then deletes its pods; 'Orphan' leaves them and
   * strips their ownerReference (the garbage collector's MODIFIED events);
   * 'Foreground' first marks the Job (deletionTimestamp + foregroundDeletion
   * finalizer), deletes the pods, then the Job.
   */
  deleteJob(namespace: string, name: string, opts: { propagationPolicy?: 'Background' | 'Orphan' | 'Foreground' } = {}): KubeObject {
    const job = this.mustGet('jobs', namespace, name)
    const pods = this.podsOfJob(job)
    const policy = opts.propagationPolicy ?? 'Background'
    if (policy === 'Foreground') {
      this.patch('jobs', namespace, name, {
        metadata: {
          deletionTimestamp: this.timestamp(),
          deletionGracePeriodSeconds: 0,
          finalizers: [...(job.metadata.finalizers ?? []), 'foregroundDeletion']
        }
      })
      for (const p of pods) this.remove('pods', namespace, p.metadata.name)
      return this.remove('jobs', namespace, name)
    }
    const deleted = this.remove('jobs', namespace, name)
    for (const p of pods) {
      if (policy === 'Background') this.remove('pods', namespace, p.metadata.name)
      else {
        const refs = (p.metadata.ownerReferences ?? []).filter((r: KubeObject) => r.uid !== job.metadata.uid)
        this.patch('pods', namespace, p.metadata.name, { metadata: { ownerReferences: refs.length ? refs : null } })
      }
    }
    return deleted
  }

  /**
   * Deletes a pod. `graceful: true` only marks it (deletionTimestamp,
   * deletionGracePeriodSeconds: a MODIFIED event), as the API server does
   * for a running pod; call again without it to remove it.
   */
  deletePod(namespace: string, name: string, opts: { graceful?: boolean; gracePeriodSeconds?: number } = {}): KubeObject {
    if (opts.graceful) {
      const grace = opts.gracePeriodSeconds ?? 30
      return this.patch('pods', namespace, name, {
        metadata: {
          deletionTimestamp: this.timestamp(new Date(this.now().getTime() + grace * 1000)),
          deletionGracePeriodSeconds: grace
        }
      })
    }
    return this.remove('pods', namespace, name)
  }

  /** Sets the log of a container (previous: the log of the last terminated instance). */
  setLog(namespace: string, pod: string, container: string, text: string, opts: { previous?: boolean } = {}): void {
    this.logs.set(this.logKey(namespace, pod, container, !!opts.previous), { text, time: this.timestamp(undefined, true) })
  }

  /** Appends to a container's log. */
  appendLog(namespace: string, pod: string, container: string, text: string, opts: { previous?: boolean } = {}): void {
    const k = this.logKey(namespace, pod, container, !!opts.previous)
    const cur = this.logs.get(k)
    this.logs.set(k, { text: (cur?.text ?? '') + text, time: cur?.time ?? this.timestamp(undefined, true) })
  }

  /**
   * Records a core/v1 Event about `involved` (a Job or Pod as returned by the
   * helpers, or any object with kind, apiVersion and metadata).
   */
  addEvent(involved: KubeObject, ev: EventSpec): KubeObject {
    const meta = involved.metadata ?? {}
    const namespace = meta.namespace ?? 'default'
    this.ensureNamespace(namespace)
    const kind: string = involved.kind ?? 'Pod'
    const component =
      ev.component ??
      (kind === 'Job' ? 'job-controller' : ev.reason === 'Scheduled' || ev.reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet')
    const ts = this.timestamp()
    const event: KubeObject = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: {
        name: ev.name ?? `${meta.name}.${randomBytes(8).toString('hex')}`,
        namespace,
        uid: randomUUID(),
        creationTimestamp: ts
      },
      involvedObject: {
        kind,
        namespace,
        name: meta.name,
        uid: meta.uid,
        apiVersion: involved.apiVersion ?? (kind === 'Job' ? 'batch/v1' : 'v1'),
        resourceVersion: meta.resourceVersion,
        ...(ev.fieldPath ? { fieldPath: ev.fieldPath } : {})
      },
      reason: ev.reason,
      message: ev.message,
      source: component === 'kubelet' ? { component, host: involved.spec?.nodeName ?? 'node-1' } : { component },
      firstTimestamp: ev.firstTimestamp ?? ts,
      lastTimestamp: ev.lastTimestamp ?? ts,
      count: ev.count ?? 1,
      type: ev.type ?? 'Normal',
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? (involved.spec?.nodeName ?? 'node-1') : ''
    }
    return this.commit('ADDED', 'events', namespace, event)
  }

  // --- a tiny kubelet/scheduler, for realistic pod states ---------------------

  /** Binds the pod to a node (PodScheduled=True), then the kubelet reports containers waiting (ContainerCreating). */
  schedulePod(namespace: string, name: string, node = 'node-1'): KubeObject {
    const pod = this.mustGet('pods', namespace, name)
    const ts = this.timestamp()
    this.patch('pods', namespace, name, {
      spec: { nodeName: node },
      status: { conditions: upsertCondition(pod.status.conditions, { type: 'PodScheduled', status: 'True', lastTransitionTime: ts }) }
    })
    return this.setPodWaiting(namespace, name, 'ContainerCreating')
  }

  /**
   * Every container waits with `reason` (e.g. ImagePullBackOff, ErrImagePull,
   * CreateContainerConfigError); phase stays Pending.
   */
  setPodWaiting(namespace: string, name: string, reason: string, message?: string): KubeObject {
    const pod = this.mustGet('pods', namespace, name)
    const ts = this.timestamp()
    let conditions = pod.status.conditions ?? []
    for (const c of [
      { type: 'PodReadyToStartContainers', status: reason === 'ContainerCreating' ? 'False' : 'True' },
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${containerNames(pod)}]` },
      {
        type: 'ContainersReady',
        status: 'False',
        reason: 'ContainersNotReady',
        message: `containers with unready status: [${containerNames(pod)}]`
      }
    ]) {
      conditions = upsertCondition(conditions, { ...c, lastTransitionTime: ts })
    }
    return this.updatePodStatus(namespace, name, {
      phase: 'Pending',
      conditions,
      hostIP: pod.status.hostIP ?? '10.0.0.2',
      startTime: pod.status.startTime ?? ts,
      containerStatuses: (pod.spec.containers ?? []).map((c: KubeObject) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason, ...(message ? { message } : {}) } },
        lastState: {}
      }))
    })
  }

  /** All containers running and ready; phase Running. */
  startPod(namespace: string, name: string): KubeObject {
    let pod = this.mustGet('pods', namespace, name)
    if (!pod.spec.nodeName) pod = this.schedulePod(namespace, name)
    const ts = this.timestamp()
    let conditions = pod.status.conditions ?? []
    for (const type of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']) {
      conditions = upsertCondition(conditions, { type, status: 'True', lastTransitionTime: ts })
    }
    return this.updatePodStatus(namespace, name, {
      phase: 'Running',
      conditions,
      podIP: '10.244.0.10',
      podIPs: [{ ip: '10.244.0.10' }],
      containerStatuses: (pod.spec.containers ?? []).map((c: KubeObject) => {
        const prev = (pod.status.containerStatuses ?? []).find((s: KubeObject) => s.name === c.name)
        return {
          name: c.name,
          image: c.image,
          imageID: `docker.io/library/${c.image}@sha256:${'0'.repeat(64)}`,
          containerID: `containerd://${randomBytes(32).toString('hex')}`,
          ready: true,
          restartCount: prev?.restartCount ?? 0,
          started: true,
          state: { running: { startedAt: ts } },
          lastState: prev?.lastState ?? {}
        }
      })
    })
  }

  /**
   * Containers terminate with the given exit code(s); phase Succeeded when
   * all are 0, else Failed (restartPolicy Never/OnFailure as a Job's pods).
   */
  finishPod(namespace: string, name: string, opts: FinishPodOptions = {}): KubeObject {
    const pod = this.mustGet('pods', namespace, name)
    const ts = this.timestamp()
    const code = (c: string): number => opts.exitCodes?.[c] ?? opts.exitCode ?? 0
    const names: string[] = (pod.spec.containers ?? []).map((c: KubeObject) => c.name)
    const ok = names.every((n) => code(n) === 0)
    let conditions = pod.status.conditions ?? []
    for (const type of ['Ready', 'ContainersReady']) {
      conditions = upsertCondition(conditions, { type, status: 'False', reason: 'PodCompleted', lastTransitionTime: ts })
    }
    conditions = upsertCondition(conditions, { type: 'PodReadyToStartContainers', status: 'False', lastTransitionTime: ts })
    return this.updatePodStatus(namespace, name, {
      phase: ok ? 'Succeeded' : 'Failed',
      conditions,
      containerStatuses: (pod.spec.containers ?? []).map((c: KubeObject) => {
        const prev = (pod.status.containerStatuses ?? []).find((s: KubeObject) => s.name === c.name) ?? {}
        const exitCode = code(c.name)
        return {
          name: c.name,
          image: c.image,
          imageID: prev.imageID ?? '',
          containerID: prev.containerID ?? `containerd://${randomBytes(32).toString('hex')}`,
          ready: false,
          restartCount: prev.restartCount ?? 0,
          started: false,
          state: {
            terminated: {
              exitCode,
              reason: opts.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
              ...(opts.message ? { message: opts.message } : {}),
              startedAt: prev.state?.running?.startedAt ?? ts,
              finishedAt: ts,
              containerID: prev.containerID ?? `containerd://${randomBytes(32).toString('hex')}`
            }
          },
          lastState: prev.lastState ?? {}
        }
      })
    })
  }

  /**
   * Ends a Job like the 1.31+ Job controller: first the interim condition
   * (SuccessCriteriaMet / FailureTarget), then Complete (with
   * completionTime) / Failed. Counters are left to the test.
   */
  finishJob(
    namespace: string,
    name: string,
    opts: { outcome: 'Complete' | 'Failed'; reason?: string; message?: string; interim?: boolean }
  ): KubeObject {
    const job = this.mustGet('jobs', namespace, name)
    const ts = this.timestamp()
    const complete = opts.outcome === 'Complete'
    const reason = opts.reason ?? (complete ? 'CompletionsReached' : 'BackoffLimitExceeded')
    const message = opts.message ?? (complete ? 'Reached expected number of succeeded pods' : 'Job has reached the specified backoff limit')
    let conditions = job.status.conditions ?? []
    const interim = {
      type: complete ? 'SuccessCriteriaMet' : 'FailureTarget',
      status: 'True',
      reason,
      message,
      lastProbeTime: ts,
      lastTransitionTime: ts
    }
    conditions = upsertCondition(conditions, interim)
    if (opts.interim !== false) this.updateJobStatus(namespace, name, { conditions })
    conditions = upsertCondition(conditions, { ...interim, type: opts.outcome })
    return this.updateJobStatus(namespace, name, {
      conditions,
      active: 0,
      ready: 0,
      terminating: 0,
      ...(complete ? { completionTime: ts } : {})
    })
  }

  // -------------------------------------------------------------------------
  // Watch control and fault injection

  /** Sends a BOOKMARK (current resourceVersion) to every open watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watches) if (w.bookmarks && !w.stalled) this.writeBookmark(w)
  }

  /** Sends bookmarks every `ms` (null/0 stops). */
  setBookmarkInterval(ms: number | null): void {
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer)
    this.bookmarkTimer = undefined
    if (ms) {
      this.bookmarkTimer = setInterval(() => this.bookmark(), ms)
      this.bookmarkTimer.unref()
    }
  }

  /** Ends every open (not stalled) watch cleanly, as the server does after timeoutSeconds. */
  closeWatches(): void {
    for (const w of [...this.watches]) if (!w.stalled) this.endWatch(w)
  }

  /** Destroys the sockets of every open watch (including stalled ones) mid-stream. */
  resetWatches(): void {
    for (const w of [...this.watches]) {
      this.forgetWatch(w)
      w.res.socket?.destroy()
      w.req.socket.destroy()
    }
  }

  /**
   * Compacts, then ends every open (not stalled) watch: with asEvent (default)
   * after an ERROR event carrying the 410 Expired Status, as etcd compaction
   * does to a running watch; without it by a plain close, so that the
   * re-watch from the last resourceVersion gets the 410.
   */
  expireWatches(opts: { asEvent?: boolean } = {}): void {
    this.compact()
    for (const w of [...this.watches]) {
      if (w.stalled) continue
      if (opts.asEvent ?? true) {
        this.writeEvent(w, 'ERROR', statusObject(410, 'Expired', 'The resourceVersion for the provided watch is too old.'))
      }
      this.endWatch(w)
    }
  }

  /** Moves the compaction point to `rv` (default: the current resourceVersion). */
  compact(rv?: number | string): void {
    this.compactedRv = rv === undefined ? this.rv : Number(rv)
  }

  /** Switches how a watch from a too-old resourceVersion is refused. */
  setExpiredWatchMode(mode: 'http' | 'event'): void {
    this.expiredWatchMode = mode
  }

  /**
   * Answers the next matching requests with these responses, one each, in
   * order (after authentication, before authorization, as API Priority and
   * Fairness does). Default bodies: 429 plain text "Too many requests, please
   * try again later." with Retry-After: 1; 500 InternalError; 503
   * ServiceUnavailable; 504 Timeout; 403 the RBAC message; 401 Unauthorized;
   * 404 NotFound; 410 Expired; others a generic Status.
   */
  nextResponses(match: RequestMatcher, responses: CannedResponse[]): void {
    this.cannedRules.push({ match, remaining: responses.length, responses: [...responses] })
  }

  /**
   * Accepts matching requests and never answers them (until stop() or the
   * client gives up). Returns a function that lifts the rule.
   */
  hang(match: RequestMatcher, opts: { times?: number } = {}): () => void {
    const rule: FaultRule = { match, remaining: opts.times ?? Infinity }
    this.hangRules.push(rule)
    return () => {
      const i = this.hangRules.indexOf(rule)
      if (i >= 0) this.hangRules.splice(i, 1)
    }
  }

  /**
   * Freezes every open watch (nothing more is sent, not even bookmarks or
   * the timeoutSeconds close) and makes new watches send their headers and
   * then nothing, like a frozen proxy. Returns a function that stops
   * stalling new watches; frozen ones stay frozen until resetWatches()/stop().
   */
  stallWatches(opts: { existing?: boolean; future?: boolean } = {}): () => void {
    if (opts.existing ?? true) {
      for (const w of this.watches) {
        w.stalled = true
        if (w.timer) clearTimeout(w.timer)
      }
    }
    if (opts.future ?? true) this.stallNew = true
    return () => {
      this.stallNew = false
    }
  }

  /** Drops all fault rules (canned responses, hangs, stalling of new watches). */
  clearFaults(): void {
    this.cannedRules.length = 0
    this.hangRules.length = 0
    this.stallNew = false
  }

  // -------------------------------------------------------------------------
  // Store internals

  private key(resource: ResourceName, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`
  }

  private logKey(ns: string, pod: string, container: string, previous: boolean): string {
    return `${ns}/${pod}/${container}/${previous ? 'previous' : 'current'}`
  }

  private timestamp(d: Date = this.now(), nanos = false): string {
    const iso = d.toISOString()
    return nanos ? iso.replace(/\.(\d{3})Z$/, '.$1000000Z') : iso.replace(/\.\d{3}Z$/, 'Z')
  }

  private ensureNamespace(ns: string): void {
    if (!this.objects.has(this.key('namespaces', '', ns))) {
      if (!this.autoCreateNamespaces) throw new Error(`namespaces ${q(ns)} not found`)
      this.createNamespace(ns)
    }
  }

  private mustGet(resource: ResourceName, namespace: string, name: string): KubeObject {
    const o = this.objects.get(this.key(resource, namespace, name))
    if (!o) throw new Error(`${qualifiedResource(RESOURCES[resource])} ${q(name)} not found`)
    return clone(o)
  }

  private patch(resource: ResourceName, namespace: string, name: string, patch: KubeObject): KubeObject {
    const prev = this.mustGet(resource, namespace, name)
    const next = mergePatch(prev, patch) as KubeObject
    next.metadata.name = prev.metadata.name
    next.metadata.namespace = prev.metadata.namespace
    next.metadata.uid = prev.metadata.uid
    if (resource === 'jobs' && JSON.stringify(next.spec) !== JSON.stringify(prev.spec)) {
      next.metadata.generation = (prev.metadata.generation ?? 1) + 1
    }
    return this.commit('MODIFIED', resource, namespace, next, prev)
  }

  private remove(resource: ResourceName, namespace: string, name: string): KubeObject {
    const prev = this.mustGet(resource, namespace, name)
    this.objects.delete(this.key(resource, namespace, name))
    return this.commit('DELETED', resource, namespace, clone(prev), prev)
  }

  /** Bumps the resourceVersion, stores the change, records and fans out the watch event. */
  private commit(
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    resource: ResourceName,
    namespace: string,
    obj: KubeObject,
    prev?: KubeObject
  ): KubeObject {
    this.rv++
    obj.metadata.resourceVersion = String(this.rv)
    const stored = clone(obj)
    if (type !== 'DELETED') this.objects.set(this.key(resource, namespace, obj.metadata.name), stored)
    const entry: HistoryEntry = { rv: this.rv, type, resource, namespace, object: clone(stored), prev: prev && clone(prev) }
    this.history.push(entry)
    for (const w of this.watches) {
      if (w.stalled || w.def.resource !== resource) continue
      if (w.namespace && w.namespace !== namespace) continue
      const ev = this.toWatchEvent(w, entry)
      if (ev) this.writeEvent(w, ev.type, ev.object)
    }
    return clone(stored)
  }

  private objectMatches(def: ResourceDef, labels: LabelRequirement[], fields: FieldRequirement[], o: KubeObject): boolean {
    return labelsMatch(labels, o.metadata?.labels) && fieldsMatch(fields, def.fields(o))
  }

  /** The cacher's event conversion: selector-aware ADDED/MODIFIED/DELETED. */
  private toWatchEvent(
    w: { def: ResourceDef; labels: LabelRequirement[]; fields: FieldRequirement[] },
    e: HistoryEntry
  ): { type: WatchEventType; object: KubeObject } | undefined {
    const cur = e.type !== 'DELETED' && this.objectMatches(w.def, w.labels, w.fields, e.object)
    const old = e.prev !== undefined && this.objectMatches(w.def, w.labels, w.fields, e.prev)
    if (cur && !old) return { type: 'ADDED', object: e.object }
    if (cur && old) return { type: 'MODIFIED', object: e.object }
    if (!cur && old) {
      const o = clone(e.prev!)
      o.metadata.resourceVersion = String(e.rv)
      return { type: 'DELETED', object: o }
    }
    return undefined
  }

  private select(def: ResourceDef, namespace: string, labels: LabelRequirement[], fields: FieldRequirement[]): KubeObject[] {
    const out: KubeObject[] = []
    const prefix = `${def.resource}/${def.namespaced ? namespace : ''}/`
    for (const [k, o] of this.objects) {
      if (def.namespaced && namespace === '' ? !k.startsWith(`${def.resource}/`) : !k.startsWith(prefix)) continue
      if (this.objectMatches(def, labels, fields, o)) out.push(o)
    }
    // etcd returns keys in byte order: namespace, then name.
    const sortKey = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`
    return out.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0))
  }

  // -------------------------------------------------------------------------
  // HTTP

  private commonHeaders(auditId: string, authenticated: boolean): Record<string, string> {
    const h: Record<string, string> = { 'Audit-Id': auditId, 'Cache-Control': 'no-cache, private' }
    if (authenticated) {
      h['X-Kubernetes-Pf-Flowschema-Uid'] = this.pfFlowSchema
      h['X-Kubernetes-Pf-Prioritylevel-Uid'] = this.pfPriorityLevel
    }
    return h
  }

  private send(
    res: ServerResponse,
    rec: RequestRecord,
    code: number,
    body: KubeObject | string,
    headers: Record<string, string> = {}
  ): void {
    if (res.headersSent || res.destroyed) return
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
    res.writeHead(code, { 'Content-Type': type, ...headers, 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
    rec.status = code
    this.notifyWaiters()
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const query: Record<string, string> = {}
    for (const [k, v] of url.searchParams) query[k] = v
    const rec: RequestRecord = {
      id: this.nextId++,
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      watch: false,
      time: Date.now()
    }
    this.requests.push(rec)
    const auditId = randomUUID()

    // Authentication
    const auth = req.headers.authorization ?? ''
    const m = auth.match(/^Bearer\s+(\S+)\s*$/i)
    let userName: string | undefined
    if (m) for (const [name, u] of this.users) if (u.token === m[1]) userName = name
    const headers = this.commonHeaders(auditId, userName !== undefined)

    // Request info (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go)
    const route = parseRoute(url.pathname)
    let verb: string | undefined
    if (route?.version) verb = 'get'
    else if (route?.def) {
      if (route.watchPrefix || (!route.name && parseBool(query.watch))) verb = 'watch'
      else if (route.name) verb = 'get'
      else verb = 'list'
      if (!route.name && verb !== 'get') {
        const nameSel = fieldSelectorName(query.fieldSelector)
        if (nameSel) route.name = nameSel
      }
    }
    rec.verb = verb
    rec.resource = route?.version
      ? 'version'
      : route?.def
        ? route.def.resource + (route.subresource ? `/${route.subresource}` : '')
        : undefined
    rec.namespace = route?.def ? route.namespace : undefined
    rec.name = route?.name
    rec.watch = verb === 'watch'
    rec.user = userName

    if (!userName) {
      this.send(res, rec, 401, statusObject(401, 'Unauthorized', 'Unauthorized'), headers)
      return
    }
    this.notifyWaiters()

    // Fault rules (after authentication, like API Priority and Fairness)
    const hangRule = this.hangRules.find((r) => r.remaining > 0 && matches(r.match, rec))
    if (hangRule) {
      hangRule.remaining--
      rec.fault = 'hang'
      this.hung.add(res)
      res.on('close', () => this.hung.delete(res))
      return
    }
    const canned = this.cannedRules.find((r) => r.remaining > 0 && matches(r.match, rec))
    if (canned) {
      canned.remaining--
      const resp = canned.responses!.shift()!
      if (canned.remaining === 0) this.cannedRules.splice(this.cannedRules.indexOf(canned), 1)
      rec.fault = 'canned'
      const answer = (): void => this.sendCanned(res, rec, route, userName!, resp, headers)
      if (resp.delayMs) setTimeout(answer, resp.delayMs).unref()
      else answer()
      return
    }

    if (!route || (!route.version && !route.def)) {
      this.send(res, rec, 404, statusObject(404, 'NotFound', 'the server could not find the requested resource', {}), headers)
      return
    }
    if (rec.method !== 'GET') {
      this.send(
        res,
        rec,
        405,
        statusObject(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
        headers
      )
      return
    }
    if (route.version) {
      this.send(res, rec, 200, this.versionInfo, headers)
      return
    }

    // Authorization
    const def = route.def!
    if (!this.allowed(userName, verb!, rec.resource!, route.namespace)) {
      this.send(res, rec, 403, this.forbiddenStatus(userName, verb!, route), headers)
      return
    }

    try {
      if (route.subresource === 'log') this.handleLog(res, rec, route, query, headers)
      else if (verb === 'get') this.handleGet(res, rec, def, route, headers)
      else if (verb === 'list') this.handleList(res, rec, def, route, query, headers)
      else this.handleWatch(req, res, rec, def, route, query, headers)
    } catch (e) {
      if (e instanceof SelectorError) {
        this.send(res, rec, 400, statusObject(400, 'BadRequest', e.message), headers)
      } else {
        this.send(
          res,
          rec,
          500,
          statusObject(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`, {
            causes: [{ message: (e as Error).message }]
          }),
          headers
        )
      }
    }
  }

  private allowed(user: string, verb: string, resource: string, namespace: string): boolean {
    const u = this.users.get(user)
    if (!u) return false
    if (u.allow === '*') return true
    return u.allow.some((p) => {
      if (p.trim() === '*') return true
      const [v, r, ns] = p.trim().split(/\s+/)
      const verbs = (v ?? '').split(',')
      const resources = (r ?? '').split(',')
      return (
        (verbs.includes('*') || verbs.includes(verb)) &&
        (resources.includes('*') || resources.includes(resource)) &&
        (!ns || ns === '*' || ns === namespace)
      )
    })
  }

  /** responsewriters.Forbidden + apierrors.NewForbidden. */
  private forbiddenStatus(user: string, verb: string, route: Route): KubeObject {
    const def = route.def!
    const resource = def.resource + (route.subresource ? `/${route.subresource}` : '')
    const where = route.namespace ? `in the namespace ${q(route.namespace)}` : 'at the cluster scope'
    const reason = `User ${q(user)} cannot ${verb} resource ${q(resource)} in API group ${q(def.group)} ${where}`
    const qualified = qualifiedResource(def)
    const message = route.name ? `${qualified} ${q(route.name)} is forbidden: ${reason}` : `${qualified} is forbidden: ${reason}`
    return statusObject(403, 'Forbidden', message, { name: route.name, group: def.group, kind: def.resource })
  }

  private sendCanned(
    res: ServerResponse,
    rec: RequestRecord,
    route: Route | undefined,
    user: string,
    resp: CannedResponse,
    baseHeaders: Record<string, string>
  ): void {
    const headers: Record<string, string> = { ...baseHeaders, ...resp.headers }
    const retryAfter = resp.retryAfter ?? (resp.status === 429 && resp.body === undefined ? 1 : undefined)
    if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter)
    let body: KubeObject | string
    if (resp.body !== undefined) body = resp.body
    else {
      const details: StatusDetails | undefined = retryAfter ? { retryAfterSeconds: retryAfter } : undefined
      switch (resp.status) {
        case 429:
          // filters/maxinflight.go and APF answer with http.Error (plain text).
          body = resp.message ?? 'Too many requests, please try again later.\n'
          if (resp.reason) body = statusObject(429, resp.reason, resp.message ?? 'Too many requests, please try again later.', details)
          break
        case 403:
          body =
            route?.def && rec.verb
              ? this.forbiddenStatus(user, rec.verb, route)
              : statusObject(403, 'Forbidden', resp.message ?? `forbidden: User ${q(user)} cannot get path ${q(rec.path)}`)
          break
        case 401:
          body = statusObject(401, 'Unauthorized', 'Unauthorized')
          break
        case 404:
          body =
            route?.def && route.name
              ? notFoundStatus(route.def.resource, route.name)
              : statusObject(404, 'NotFound', 'the server could not find the requested resource', {})
          break
        case 410:
          body = statusObject(410, resp.reason ?? 'Expired', resp.message ?? 'The resourceVersion for the provided list is too old.')
          break
        case 500:
          body = statusObject(
            500,
            resp.reason ?? 'InternalError',
            resp.message ?? 'Internal error occurred: injected by the fake apiserver',
            {
              causes: [{ message: 'injected by the fake apiserver' }]
            }
          )
          break
        case 503:
          body = statusObject(
            503,
            resp.reason ?? 'ServiceUnavailable',
            resp.message ?? 'the server is currently unable to handle the request',
            details
          )
          break
        case 504:
          body = statusObject(
            504,
            resp.reason ?? 'Timeout',
            resp.message ?? 'Timeout: request did not complete within requested timeout - context deadline exceeded',
            details
          )
          break
        default:
          body = statusObject(resp.status, resp.reason ?? 'Unknown', resp.message ?? `injected ${resp.status}`, details)
      }
    }
    this.send(res, rec, resp.status, body, headers)
  }

  private handleGet(res: ServerResponse, rec: RequestRecord, def: ResourceDef, route: Route, headers: Record<string, string>): void {
    const ns = def.namespaced ? route.namespace : ''
    const o = this.objects.get(this.key(def.resource, ns, route.name!))
    if (!o) this.send(res, rec, 404, notFoundStatus(def.resource, route.name!), headers)
    else this.send(res, rec, 200, o, headers)
  }

  private handleList(
    res: ServerResponse,
    rec: RequestRecord,
    def: ResourceDef,
    route: Route,
    query: Record<string, string>,
    headers: Record<string, string>
  ): void {
    const labels = parseLabelSelector(query.labelSelector)
    const fields = parseFieldSelector(query.fieldSelector, def.resource)
    const rvParam = query.resourceVersion ?? ''
    if (rvParam !== '' && rvParam !== '0') {
      const n = parseRv(rvParam)
      if (n === undefined) {
        this.send(res, rec, 400, statusObject(400, 'BadRequest', `invalid resource version: ${rvParam}`), headers)
        return
      }
      if (n > this.rv) {
        this.send(res, rec, 504, tooLargeStatus(n, this.rv), headers)
        return
      }
      if (query.resourceVersionMatch === 'Exact' && n < this.compactedRv) {
        this.send(res, rec, 410, statusObject(410, 'Expired', 'The resourceVersion for the provided list is too old.'), headers)
        return
      }
    }
    const all = this.select(def, def.namespaced ? route.namespace : '', labels, fields)
    const page = this.listPage(all, query)
    if ('expired' in page) {
      this.send(res, rec, 410, page.expired, headers)
      return
    }
    const items = page.items.map((o) => {
      const { kind: _k, apiVersion: _a, ...rest } = o
      return rest
    })
    const metadata: KubeObject = { resourceVersion: String(page.rv) }
    if (page.continue) metadata.continue = page.continue
    this.send(res, rec, 200, { kind: def.listKind, apiVersion: def.apiVersion, metadata, items }, headers)
  }

  /**
   * limit/continue as the API server pages a LIST: the token names the
   * resourceVersion of the first page and the last key sent, and is refused
   * with 410 Expired once compact() has passed that resourceVersion. Later
   * pages are cut from the current state (no snapshot is kept).
   */
  private listPage(
    all: KubeObject[],
    query: Record<string, string>
  ): { items: KubeObject[]; rv: number; continue?: string } | { expired: KubeObject } {
    const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`
    let rv = this.rv
    let items = all
    if (query.continue) {
      const token = JSON.parse(Buffer.from(query.continue, 'base64url').toString()) as { rv: number; start: string }
      if (token.rv < this.compactedRv) {
        const message =
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
        return { expired: statusObject(410, 'Expired', message) }
      }
      rv = token.rv
      items = all.filter((o) => key(o) > token.start)
    }
    const limit = Number(query.limit)
    if (!(limit > 0) || items.length <= limit) return { items, rv }
    items = items.slice(0, limit)
    const next = Buffer.from(JSON.stringify({ rv, start: key(items[limit - 1]) })).toString('base64url')
    return { items, rv, continue: next }
  }

  private handleWatch(
    req: IncomingMessage,
    res: ServerResponse,
    rec: RequestRecord,
    def: ResourceDef,
    route: Route,
    query: Record<string, string>,
    headers: Record<string, string>
  ): void {
    const labels = parseLabelSelector(query.labelSelector)
    const fields = parseFieldSelector(query.fieldSelector, def.resource)
    const namespace = def.namespaced ? route.namespace : ''
    const rvParam = query.resourceVersion ?? ''
    const sendInitial = parseBool(query.sendInitialEvents)
    const bookmarks = parseBool(query.allowWatchBookmarks)
    let initial: { type: WatchEventType; object: KubeObject }[] = []
    let errorStatus: KubeObject | undefined
    if (rvParam === '' || rvParam === '0' || sendInitial) {
      // "Start at most recent" / "any": synthetic ADDED for the current state.
      initial = this.select(def, namespace, labels, fields).map((o) => ({ type: 'ADDED', object: o }))
    } else {
      const n = parseRv(rvParam)
      if (n === undefined) {
        this.send(res, rec, 400, statusObject(400, 'BadRequest', `invalid resource version: ${rvParam}`), headers)
        return
      }
      if (n < this.compactedRv) {
        const expired = statusObject(410, 'Expired', `too old resource version: ${n} (${this.compactedRv})`)
        if (this.expiredWatchMode === 'http') {
          this.send(res, rec, 410, expired, headers)
          return
        }
        errorStatus = expired
      } else if (n > this.rv) {
        errorStatus = tooLargeStatus(n, this.rv)
      } else {
        const w = { def, labels, fields }
        for (const e of this.history) {
          if (e.rv <= n || e.resource !== def.resource || (namespace && e.namespace !== namespace)) continue
          const ev = this.toWatchEvent(w, e)
          if (ev) initial.push(ev)
        }
      }
    }

    res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
    res.flushHeaders()
    rec.status = 200

    if (errorStatus) {
      res.write(JSON.stringify({ type: 'ERROR', object: errorStatus }) + '\n')
      res.end()
      this.notifyWaiters()
      return
    }

    const conn: WatchConn = {
      id: rec.id,
      user: rec.user!,
      def,
      namespace,
      labels,
      fields,
      labelSelector: query.labelSelector ?? '',
      fieldSelector: query.fieldSelector ?? '',
      resourceVersion: rvParam,
      bookmarks,
      stalled: this.stallNew,
      closed: false,
      req,
      res
    }
    if (conn.stalled) rec.fault = 'stall'
    this.watches.add(conn)
    const cleanup = (): void => this.forgetWatch(conn)
    // 'close' fires when the stream ends or the client goes away.
    res.on('close', cleanup)

    if (!conn.stalled) {
      for (const ev of initial) this.writeEvent(conn, ev.type, ev.object)
      if (sendInitial && bookmarks) {
        this.writeBookmark(conn, { 'k8s.io/initial-events-end': 'true' })
      }
      const timeout = query.timeoutSeconds !== undefined ? Number(query.timeoutSeconds) : this.defaultWatchTimeoutSeconds
      if (timeout !== undefined && Number.isFinite(timeout) && timeout > 0) {
        conn.timer = setTimeout(() => this.endWatch(conn), timeout * 1000)
        conn.timer.unref()
      }
    }
    this.notifyWaiters()
  }

  private handleLog(
    res: ServerResponse,
    rec: RequestRecord,
    route: Route,
    query: Record<string, string>,
    headers: Record<string, string>
  ): void {
    const pod = this.objects.get(this.key('pods', route.namespace, route.name!))
    if (!pod) {
      this.send(res, rec, 404, notFoundStatus('pods', route.name!), headers)
      return
    }
    const bad = (msg: string): void => this.send(res, rec, 400, statusObject(400, 'BadRequest', msg), headers)
    const name: string = pod.metadata.name
    const spec = pod.spec ?? {}
    const all: string[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].map(
      (c: KubeObject) => c.name
    )
    // validateContainer (pkg/registry/core/pod/strategy.go)
    let container = query.container ?? ''
    if (container === '') {
      const containers = spec.containers ?? []
      if (containers.length === 1) container = containers[0].name
      else if (containers.length === 0) return bad(`a container name must be specified for pod ${name}`)
      else return bad(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`)
    } else if (!all.includes(container)) {
      return bad(`container ${container} is not valid for pod ${name}`)
    }
    // A pod not bound to a node has no log location: 200 and an empty body.
    const plain = { ...headers }
    if (!spec.nodeName) {
      this.send(res, rec, 200, '', plain)
      return
    }
    // Kubelet's validateContainerLogStatus (pkg/kubelet/kubelet_pods.go), relayed as 400 BadRequest.
    const previous = parseBool(query.previous)
    const st = pod.status ?? {}
    const cs: KubeObject | undefined = [
      ...(st.containerStatuses ?? []),
      ...(st.initContainerStatuses ?? []),
      ...(st.ephemeralContainerStatuses ?? [])
    ].find((s: KubeObject) => s.name === container)
    if (!cs) return bad(`container ${q(container)} in pod ${q(name)} is not available`)
    const last = cs.lastState?.terminated
    const { waiting, running, terminated } = cs.state ?? {}
    if (previous) {
      if (!last || !last.containerID) return bad(`previous terminated container ${q(container)} in pod ${q(name)} not found`)
    } else if (running) {
      // ok
    } else if (terminated) {
      if (!terminated.containerID && !(last && last.containerID)) return bad(`container ${q(container)} in pod ${q(name)} is terminated`)
    } else if (last) {
      if (!last.containerID) return bad(`container ${q(container)} in pod ${q(name)} is terminated`)
    } else if (waiting) {
      const reason: string = waiting.reason ?? ''
      if (reason === 'ErrImagePull') return bad(`container ${q(container)} in pod ${q(name)} is waiting to start: image can't be pulled`)
      if (reason === 'ImagePullBackOff') {
        return bad(`container ${q(container)} in pod ${q(name)} is waiting to start: trying and failing to pull image`)
      }
      return bad(`container ${q(container)} in pod ${q(name)} is waiting to start: ${reason}`)
    } else {
      return bad(`container ${q(container)} in pod ${q(name)} is waiting to start - no logs yet`)
    }
    const entry = this.logs.get(this.logKey(route.namespace, name, container, previous))
    let text = entry?.text ?? ''
    if (parseBool(query.timestamps) && text) {
      const t = entry!.time
      text = text.replace(/^(?=.)/gm, `${t} `)
    }
    if (query.tailLines !== undefined) {
      const n = Number(query.tailLines)
      if (Number.isInteger(n) && n >= 0) {
        const endsNl = text.endsWith('\n')
        const lines = (endsNl ? text.slice(0, -1) : text).split('\n')
        text = n === 0 || text === '' ? '' : lines.slice(-n).join('\n') + (endsNl ? '\n' : '')
      }
    }
    if (query.limitBytes !== undefined) {
      const n = Number(query.limitBytes)
      if (Number.isInteger(n) && n > 0) text = Buffer.from(text).subarray(0, n).toString()
    }
    this.send(res, rec, 200, text, plain)
  }

  private writeEvent(w: WatchConn, type: WatchEventType, object: KubeObject): void {
    if (w.closed || w.res.writableEnded || w.res.destroyed) return
    w.res.write(JSON.stringify({ type, object }) + '\n')
  }

  private writeBookmark(w: WatchConn, annotations?: Record<string, string>): void {
    // What the cacher sends: an empty object of the kind with only the resourceVersion set.
    const metadata: KubeObject = { resourceVersion: String(this.rv), creationTimestamp: null }
    if (annotations) metadata.annotations = annotations
    const object: KubeObject = { kind: w.def.kind, apiVersion: w.def.apiVersion, metadata }
    if (w.def.resource === 'jobs') {
      object.spec = { template: { metadata: { creationTimestamp: null }, spec: { containers: null } } }
      object.status = {}
    } else if (w.def.resource === 'pods') {
      object.spec = { containers: null }
      object.status = {}
    }
    this.writeEvent(w, 'BOOKMARK', object)
  }

  private endWatch(w: WatchConn): void {
    this.forgetWatch(w)
    if (!w.res.writableEnded && !w.res.destroyed) w.res.end()
  }

  private forgetWatch(w: WatchConn): void {
    w.closed = true
    if (w.timer) clearTimeout(w.timer)
    w.timer = undefined
    this.watches.delete(w)
  }
}

// ---------------------------------------------------------------------------
// Module helpers

function parseRoute(pathname: string): Route | undefined {
  if (pathname === '/version' || pathname === '/version/') return { version: true, namespace: '', watchPrefix: false }
  let segs: string[]
  try {
    segs = pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent)
  } catch {
    return undefined
  }
  let i: number
  let group: '' | 'batch'
  if (segs[0] === 'api' && segs[1] === 'v1') {
    group = ''
    i = 2
  } else if (segs[0] === 'apis' && segs[1] === 'batch' && segs[2] === 'v1') {
    group = 'batch'
    i = 3
  } else return undefined
  let watchPrefix = false
  if (segs[i] === 'watch') {
    watchPrefix = true
    i++
  }
  let namespace = ''
  const rest = segs.slice(i)
  if (rest[0] === 'namespaces' && rest.length <= 2) {
    if (group !== '') return { namespace: '', watchPrefix }
    // /api/v1/namespaces[/NAME]: the namespace is its own name.
    return { def: RESOURCES.namespaces, namespace: rest[1] ?? '', name: rest[1], watchPrefix }
  }
  let parts = rest
  if (rest[0] === 'namespaces') {
    namespace = rest[1]
    parts = rest.slice(2)
  }
  const [resource, name, subresource, ...extra] = parts
  const def = (Object.values(RESOURCES) as ResourceDef[]).find((d) => d.resource === resource && d.group === group && d.namespaced)
  if (!def || extra.length > 0) return { namespace, watchPrefix }
  if (subresource !== undefined && !(def.resource === 'pods' && subresource === 'log')) return { namespace, watchPrefix }
  if (watchPrefix && subresource) return { namespace, watchPrefix }
  return { def, namespace, name, subresource, watchPrefix }
}

function fieldSelectorName(sel: string | undefined): string | undefined {
  if (!sel) return undefined
  for (const term of splitUnescaped(sel, ',')) {
    const m = term.match(/^\s*metadata\.name\s*(==|=)(.*)$/)
    if (m && /^[^/%]+$/.test(m[2]) && m[2] !== '.' && m[2] !== '..') return unescapeField(m[2])
  }
  return undefined
}

function parseRv(s: string): number | undefined {
  return /^\d+$/.test(s) ? Number(s) : undefined
}

/** storage.NewTooLargeResourceVersionError */
function tooLargeStatus(want: number, current: number): KubeObject {
  return statusObject(504, 'Timeout', `Timeout: Too large resource version: ${want}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1
  })
}

function applyPodSpecDefaults(spec: KubeObject): void {
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = 30
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst'
  if (!spec.securityContext) spec.securityContext = {}
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler'
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log'
    if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File'
    if (!c.imagePullPolicy) {
      const image: string = c.image ?? ''
      const tag = image.includes('@') ? 'digest' : (image.split('/').pop() ?? '').split(':')[1]
      c.imagePullPolicy = tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent'
    }
    if (!c.resources) c.resources = {}
  }
}

function upsertCondition(conditions: KubeObject[] | undefined, c: KubeObject): KubeObject[] {
  const list = [...(conditions ?? [])]
  const i = list.findIndex((x) => x.type === c.type)
  if (i >= 0) {
    const old = list[i]
    list[i] = { ...c, lastTransitionTime: old.status === c.status ? old.lastTransitionTime : c.lastTransitionTime }
  } else list.push({ lastProbeTime: null, ...c })
  return list
}

function containerNames(pod: KubeObject): string {
  return (pod.spec?.containers ?? []).map((c: KubeObject) => c.name).join(' ')
}
