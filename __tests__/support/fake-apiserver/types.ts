// The public types of the fake API server: what tests pass in and get back.

/** A Kubernetes object as it travels on the wire (plain JSON). */

export type KubeObject = Record<string, any>

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

/** Resources this server knows; `pods/log` is the log subresource. */
export type ResourceName = 'jobs' | 'pods' | 'events' | 'namespaces' | 'cronjobs' | 'workloads'

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
  /** Fields of the /version answer to override; a minor below 27 also labels Jobs' pods as 1.26 did (no batch.kubernetes.io/ labels). */
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
  /** The JSON body of a POST or DELETE. */
  body?: KubeObject
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

/** Selects open watches for waitForWatch(). */
export interface WatchMatch {
  resource?: ResourceName
  namespace?: string
  user?: string
  labelSelector?: string
  fieldSelector?: string
  stalled?: boolean
}
