// A small Kubernetes-shaped API server for integration tests.
//
// The real @kubernetes/client-node is pointed at it through a kubeconfig
// (see kubeconfig()). It is not a mock of the client: it speaks the wire
// format of kube-apiserver for the few resources a Job waiter needs (jobs,
// pods, pods/log, events, namespaces, /version, and Kueue's workloads once
// installKueue() was called, 404 before, as without the CRD): JSON lists with kind,
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
//
// The parts, by concern: state.ts (the objects, resourceVersions, history),
// control-plane.ts (the helpers that change objects as the control plane
// would), routes.ts and request.ts (answering requests), watch.ts (open
// watch streams and their faults), faults.ts (canned answers and hangs),
// users.ts, selectors.ts, resources.ts (the wire format's pieces), types.ts.

import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { ControlPlane } from './control-plane.js'
import { Faults, matches } from './faults.js'
import { q } from './resources.js'
import { Router } from './routes.js'
import { ApiState } from './state.js'
import type {
  CannedResponse,
  KubeObject,
  FakeApiServerOptions,
  Permission,
  RequestMatcher,
  RequestRecord,
  UserSpec,
  VersionInfo,
  WatchEventType,
  WatchInfo,
  WatchMatch
} from './types.js'
import { Users } from './users.js'
import { Watches } from './watch.js'

export type * from './types.js'
export {
  CONTROLLER_UID_LABEL,
  JOB_COMPLETION_INDEX,
  JOB_NAME_LABEL,
  JOB_TRACKING_FINALIZER,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
  mergePatch,
  notFoundStatus,
  statusObject,
  type StatusDetails
} from './resources.js'
export { labelsMatch, parseFieldSelector, parseLabelSelector } from './selectors.js'

interface Waiter {
  /** Returns the value to resolve with, or undefined to keep waiting. */
  check: () => unknown
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
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

function watchMatches(match: WatchMatch, w: WatchInfo): boolean {
  return (Object.keys(match) as (keyof WatchMatch)[]).every((k) => match[k] === undefined || match[k] === w[k])
}

export class FakeApiServer extends ControlPlane {
  /** Every request, in arrival order. */
  readonly requests: RequestRecord[] = []

  private server?: Server
  private baseUrl = ''
  private readonly sockets = new Set<Socket>()
  private readonly waiters = new Set<Waiter>()
  private readonly users = new Users()
  private readonly faults: Faults
  private readonly watches: Watches
  private readonly router: Router

  constructor(opts: FakeApiServerOptions = {}) {
    const version: VersionInfo = { ...DEFAULT_VERSION, ...opts.version }
    // A server that says it is older than 1.27 labels a Job's pods as 1.26 did.
    const legacy = Number(version.major) === 1 && parseInt(version.minor, 10) < 27
    super(
      new ApiState({ initialResourceVersion: opts.initialResourceVersion, now: opts.now }),
      opts.autoCreateNamespaces ?? true,
      legacy ? 'legacy' : 'both'
    )
    const notify = (): void => this.notifyWaiters()
    this.faults = new Faults(notify)
    this.watches = new Watches(this.state, notify, opts)
    this.router = new Router(this.state, this.users, this.faults, this.watches, version, this.requests, notify, {
      createJob: (ns, job, dryRun) => (dryRun ? { ...job, metadata: { ...job.metadata, namespace: ns } } : this.createJob(ns, job)),
      deleteJob: (ns, name, opts) => this.deleteJob(ns, name, opts)
    })
    const users: Record<string, UserSpec> = { admin: { allow: '*' }, ...opts.users }
    for (const [name, spec] of Object.entries(users)) this.addUser(name, spec.allow ?? [], spec.token)
    for (const ns of opts.namespaces ?? ['default', 'kube-system']) this.createNamespace(ns)
  }

  /**
   * Jobs created through the API (POST) pass this first, as through admission:
   * a Status returned refuses the create with it (a webhook, a quota).
   */
  set admitJob(admit: ((job: KubeObject, dryRun: boolean) => KubeObject | undefined) | undefined) {
    this.router.admit = admit
  }

  /** Serves Kueue's Workloads (kueue.x-k8s.io/v1beta1) from now on, as after its CRD was installed. */
  installKueue(): void {
    this.router.kueue = true
  }

  /** A Kueue Workload, as stored (Kueue's controllers are not simulated: the test writes its status). */
  createWorkload(namespace: string, workload: KubeObject): KubeObject {
    const o = structuredClone(workload)
    o.kind = 'Workload'
    o.apiVersion = 'kueue.x-k8s.io/v1beta1'
    o.metadata = { ...o.metadata, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString() }
    return this.state.commit('ADDED', 'workloads', namespace, o)
  }

  /** A CronJob, as stored (the CronJob controller is not simulated). */
  createCronJob(namespace: string, cronjob: KubeObject): KubeObject {
    const o = structuredClone(cronjob)
    o.kind = 'CronJob'
    o.apiVersion = 'batch/v1'
    o.metadata = { ...o.metadata, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString() }
    return this.state.commit('ADDED', 'cronjobs', namespace, o)
  }

  // -------------------------------------------------------------------------
  // Lifecycle

  /** Listens on 127.0.0.1 on a random port. */
  async start(): Promise<{ url: string }> {
    if (this.server) return { url: this.baseUrl }
    const server = createServer((req, res) => this.router.handle(req, res))
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
    this.watches.stop()
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer)
      waiter.reject(new Error('fake apiserver stopped'))
    }
    this.waiters.clear()
    this.faults.stop()
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
    return this.users.addUser(name, allow, token)
  }

  /** Changes a user's permissions (takes effect on the next request). */
  setPermissions(name: string, allow: Permission[] | '*'): void {
    this.users.setPermissions(name, allow)
  }

  tokenFor(name: string): string {
    return this.users.tokenFor(name)
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
  // Requests and watches seen

  openWatches(): WatchInfo[] {
    return this.watches.info()
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
    return this.waitFor(
      () => this.openWatches().filter((w) => watchMatches(match, w))[count - 1],
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
  // Watch control and fault injection

  /** Sends a BOOKMARK (current resourceVersion) to every open watch that asked for bookmarks. */
  bookmark(): void {
    this.watches.bookmark()
  }

  /** Sends bookmarks every `ms` (null/0 stops). */
  setBookmarkInterval(ms: number | null): void {
    this.watches.setBookmarkInterval(ms)
  }

  /** Ends every open (not stalled) watch cleanly, as the server does after timeoutSeconds. */
  closeWatches(): void {
    this.watches.closeAll()
  }

  /** Destroys the sockets of every open watch (including stalled ones) mid-stream. */
  resetWatches(): void {
    this.watches.resetAll()
  }

  /**
   * Compacts, then ends every open (not stalled) watch: with asEvent (default)
   * after an ERROR event carrying the 410 Expired Status, as etcd compaction
   * does to a running watch; without it by a plain close, so that the
   * re-watch from the last resourceVersion gets the 410.
   */
  expireWatches(opts: { asEvent?: boolean } = {}): void {
    this.watches.expireAll(opts)
  }

  /** Moves the compaction point to `rv` (default: the current resourceVersion). */
  compact(rv?: number | string): void {
    this.state.compact(rv)
  }

  /** Switches how a watch from a too-old resourceVersion is refused. */
  setExpiredWatchMode(mode: 'http' | 'event'): void {
    this.watches.setExpiredWatchMode(mode)
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
    this.faults.nextResponses(match, responses)
  }

  /**
   * Accepts matching requests and never answers them (until stop() or the
   * client gives up). Returns a function that lifts the rule.
   */
  hang(match: RequestMatcher, opts: { times?: number } = {}): () => void {
    return this.faults.hang(match, opts)
  }

  /**
   * Freezes every open watch (nothing more is sent, not even bookmarks or
   * the timeoutSeconds close) and makes new watches send their headers and
   * then nothing, like a frozen proxy. Returns a function that stops
   * stalling new watches; frozen ones stay frozen until resetWatches()/stop().
   */
  stallWatches(opts: { existing?: boolean; future?: boolean } = {}): () => void {
    return this.watches.stall(opts)
  }

  /**
   * Writes `{type, object}` as given to every open (not stalled) watch that
   * matches, even an event no API server would send (a null object), for
   * tests of the client's own bugs. Returns how many watches got it.
   */
  injectEvent(match: WatchMatch, type: WatchEventType, object: unknown): number {
    return this.watches.inject((w) => watchMatches(match, w), type, object)
  }

  /** Drops all fault rules (canned responses, hangs, stalling of new watches). */
  clearFaults(): void {
    this.faults.clear()
    this.watches.unstallNew()
  }
}
