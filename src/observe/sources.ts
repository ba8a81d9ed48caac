// The sources: they ask the API server and turn each answer into events
// (./state.ts), nothing more. Watch mode: one list + watch of the Jobs (by
// name, or by label selector) and one of their pods, by the Jobs' own uids:
// however many Jobs, two watches. Poll mode (or credentials that may not
// watch): GET or LIST the Jobs, LIST their pods, both answers emitted
// together. Once stopped, a source emits nothing more.
import { KubeError } from '../kube/errors.js'
import type { KubeHttp } from '../kube/http.js'
import type { WatchEvent } from '../kube/watch.js'
import { jobEnd, severalJobs, type JobInfo } from '../model.js'
import { Backoff, sleep } from './backoff.js'
import { jobInfo, podInfo } from './convert.js'
import { finishedFromEvents, type JobEvent } from './job-events.js'
import { WatchForbidden, listWatch } from './list-watch.js'
import type { ObserveEvent, ObservedState, WatchKind } from './state.js'

export type NoteLevel = 'info' | 'warning' | 'debug'

/** Now by the API server's clock (its Date header): when an answer was observed, for rules that compare it with server times. */
export function serverTime(http: KubeHttp): string {
  const ms = Date.now() + http.serverClockSkewMs
  // Every event of one read is stamped in the same millisecond: one string for them.
  if (ms !== lastTime.ms) lastTime = { ms, iso: new Date(ms).toISOString() }
  return lastTime.iso
}
let lastTime = { ms: NaN, iso: '' }

/**
 * The label with the Job's name that the API server puts on every pod of a
 * Job: `batch.kubernetes.io/job-name` since 1.27 (kubernetes PR 114930),
 * beside `job-name`, which is the only one before.
 */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name'
export const LEGACY_JOB_NAME_LABEL = 'job-name'

/** The first release whose Job pods carry the batch.kubernetes.io/ labels. */
const PREFIXED_LABELS_SINCE = { major: 1, minor: 27 }

/** The server's release from GET /version: gitVersion (v1.26.3-eks-…), else major and minor ("26+" on some clouds). */
export function serverRelease(v: { gitVersion?: string; major?: string; minor?: string }): { major: number; minor: number } | undefined {
  const git = /^v?(\d+)\.(\d+)/.exec(v.gitVersion ?? '')
  const major = parseInt(git?.[1] ?? v.major ?? '', 10)
  const minor = parseInt(git?.[2] ?? v.minor ?? '', 10)
  return Number.isNaN(major) || Number.isNaN(minor) ? undefined : { major, minor }
}

/** The job-name label the pods of a server of this release carry; unknown: the one every release sets. */
export function jobNameLabel(release: { major: number; minor: number } | undefined): string {
  if (!release) return LEGACY_JOB_NAME_LABEL
  const { major, minor } = PREFIXED_LABELS_SINCE
  return release.major > major || (release.major === major && release.minor >= minor) ? JOB_NAME_LABEL : LEGACY_JOB_NAME_LABEL
}

export interface SourceOptions {
  http: KubeHttp
  namespace: string
  /** the Jobs by name; empty when the selector picks them */
  names: readonly string[]
  /** a label selector over the namespace's Jobs */
  selector?: string
  mode: 'watch' | 'poll'
  pollIntervalMs: number
  /** A watch silent for this long (no event, no bookmark) is reconnected. */
  idleTimeoutMs: number
  /** Before any request has succeeded, an unreachable server fails after this long. */
  unreachableGraceMs: number
  onNote(level: NoteLevel, message: string): void
}

type Any = any

/** What the report wants to know of how the observing went. */
export interface SourceStatus {
  /** how it ended up observing */
  mode: 'watch' | 'poll'
  /** the last fault, for a timeout with nothing else to say */
  lastError?: KubeError
}

export class Sources {
  readonly status: SourceStatus
  private readonly stop = new AbortController()
  private podWatch?: AbortController
  /** ends every watch: when the credentials may not watch, polling takes over */
  private readonly watching = new AbortController()
  private forbidden?: WatchForbidden
  private connected = false
  private readonly started = Date.now()
  private namespaceChecked = false
  private readonly inferring = new Set<string>()
  /** the uids the pod watch is for, joined */
  private podWatchFor = ''
  /** the uid each Job name had, to say when one is created again */
  private readonly uidOf = new Map<string, string>()
  private lastRetryNote = 0
  private unreachableTimer?: NodeJS.Timeout
  /** Several Jobs: the label their pods are selected by, once the server's version is known. */
  private podLabel = JOB_NAME_LABEL

  constructor(
    private readonly o: SourceOptions,
    private readonly emit: (events: ObserveEvent[]) => void,
    /** an error that retrying cannot mend: the wait ends with it */
    private readonly fail: (err: unknown) => void
  ) {
    this.status = { mode: o.mode }
  }

  /** Starts observing; close() ends it. */
  start(): void {
    void this.run().catch((err) => this.failOnce(err))
  }

  /** Ends every request, loop and timer; no event is emitted after it. */
  close(): void {
    this.stop.abort()
    clearTimeout(this.unreachableTimer)
  }

  /** Called with each new state: a new set of Jobs gets its pod watch; a Job gone unseen, its events read. */
  follow(state: ObservedState): void {
    if (this.stop.signal.aborted) return
    const jobs: JobInfo[] = []
    for (const [name, e] of state.jobs) {
      if (!e.job) continue
      jobs.push(e.job)
      const before = this.uidOf.get(name)
      if (before && before !== e.job.uid) {
        this.o.onNote('info', `job ${this.o.namespace}/${name} was created again (uid ${before} → ${e.job.uid}); following the new one`)
      }
      this.uidOf.set(name, e.job.uid)
      if (e.jobDeleted && !jobEnd(e.job) && !e.inferred && !this.inferring.has(e.job.uid)) {
        this.inferring.add(e.job.uid)
        void this.inferEnd(e.job)
      }
    }
    // Several Jobs: one pod watch on every Job's pods, opened at the start (run()), never again.
    if (this.status.mode === 'watch' && jobs.length && !this.several) {
      const key = jobs.map((j) => j.uid).join(',')
      if (key !== this.podWatchFor) {
        this.podWatchFor = key
        this.watchPods(jobs)
      }
    }
    if (state.synced && !jobs.length) void this.checkNamespace()
  }

  private failOnce(err: unknown): void {
    if (this.stop.signal.aborted) return
    this.close()
    this.fail(err)
  }

  private send(events: ObserveEvent[]): void {
    if (!this.stop.signal.aborted) this.emit(events)
  }

  /** Several Jobs (names or a selector): their pods are watched by name, not by uid, so that a Job seen later needs no new watch. */
  private get several(): boolean {
    return severalJobs(this.o)
  }

  /**
   * The pods of several Jobs, by the label the API server gives every Job's
   * pods: on the names given, or, with a selector (which pods do not carry),
   * on every Job pod of the namespace; the state keeps those whose Job is
   * not known yet until it is.
   */
  private static severalSelector(o: Pick<SourceOptions, 'names' | 'selector'>, label: string): string {
    return o.selector !== undefined ? label : `${label} in (${o.names.join(',')})`
  }

  /**
   * Several Jobs: which label their pods carry depends on the server's
   * release (GET /version, once). Never fails: a server that does not say
   * gets the label every release sets.
   */
  private async readPodLabel(): Promise<void> {
    let release: ReturnType<typeof serverRelease>
    try {
      release = serverRelease(
        await this.o.http.getJSON<{ gitVersion?: string; major?: string; minor?: string }>('/version', {}, 'get version')
      )
    } catch (err) {
      this.o.onNote('debug', `could not read the server's version: ${(err as Error).message}`)
    }
    this.podLabel = jobNameLabel(release)
    const seen = release ? `Kubernetes ${release.major}.${release.minor}` : 'a server of unknown version'
    this.o.onNote('debug', `${seen}: the pods of several Jobs are selected by the label ${this.podLabel}`)
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal
    const labelRead = this.several ? this.readPodLabel() : Promise.resolve()
    if (this.status.mode === 'watch') {
      // the Jobs' watch starts meanwhile: the version is one short request
      if (this.several)
        void labelRead.then(() => {
          if (!signal.aborted && !this.watching.signal.aborted) this.watchPods(undefined)
        })
      try {
        await this.watchJob(AbortSignal.any([signal, this.watching.signal]))
      } catch (err) {
        if (!(err instanceof WatchForbidden)) throw err
        this.forbidden = err
      }
      if (this.forbidden) {
        this.watching.abort()
        this.status.mode = 'poll'
        this.o.onNote('warning', `${this.forbidden.cause.message}; polling every ${this.o.pollIntervalMs / 1000}s instead of watching`)
      }
    }
    if (this.status.mode === 'poll' && !signal.aborted) {
      await labelRead
      await this.poll(signal)
    }
  }

  private onRetry = (err: KubeError, delayMs: number): void => {
    this.status.lastError = err
    if (err.unreachable && !this.connected) {
      // Never reached the server: give up once the grace is over, not a whole backoff step later.
      const left = this.started + this.o.unreachableGraceMs - Date.now()
      if (left <= 0) return this.failOnce(err)
      this.unreachableTimer ??= setTimeout(() => {
        if (!this.connected) this.failOnce(this.status.lastError ?? err)
      }, left)
    }
    // A fault the user should know of, but not on every retry.
    const now = Date.now()
    const level = err.reason !== 'Stalled' && now - this.lastRetryNote > 30_000 ? 'info' : 'debug'
    if (level === 'info') this.lastRetryNote = now
    this.o.onNote(level, `${err.message}; retrying in ${(delayMs / 1000).toFixed(1)}s`)
  }

  private get jobsPath(): string {
    return `/apis/batch/v1/namespaces/${this.o.namespace}/jobs`
  }

  private get podsPath(): string {
    return `/api/v1/namespaces/${this.o.namespace}/pods`
  }

  /** One Job: its own selector (spec.selector, on its uid). Several: one selector on all their uids. */
  private static podSelector(jobs: readonly JobInfo[]): string {
    if (jobs.length === 1) return jobs[0].selector ?? `batch.kubernetes.io/controller-uid=${jobs[0].uid}`
    return `batch.kubernetes.io/controller-uid in (${jobs.map((j) => j.uid).join(',')})`
  }

  /** The Jobs as the API is asked for them: one by name (a field selector), a label selector, or the namespace's. */
  private jobQuery(): Record<string, string> {
    if (this.o.selector) return { labelSelector: this.o.selector }
    if (this.o.names.length === 1) return { fieldSelector: `metadata.name=${this.o.names[0]}` }
    return {}
  }

  private wanted(name: string | undefined): boolean {
    return this.o.selector !== undefined || (name !== undefined && this.o.names.includes(name))
  }

  private async watchJob(signal: AbortSignal): Promise<void> {
    await listWatch(
      {
        http: this.o.http,
        path: this.jobsPath,
        query: this.jobQuery(),
        resource: 'jobs',
        idleTimeoutMs: this.o.idleTimeoutMs,
        backoff: new Backoff(),
        signal
      },
      {
        onList: (items: Any[]) => {
          this.connected = true
          this.send([{ type: 'jobs-listed', jobs: items.filter((i) => this.wanted(i?.metadata?.name)).map(jobInfo) }])
        },
        onEvent: (e: WatchEvent) => {
          if (!this.wanted(e.object?.metadata?.name)) return
          this.send([{ type: 'job-event', kind: e.type as WatchKind, job: jobInfo(e.object) }])
        },
        onRetry: this.onRetry
      }
    )
  }

  /** The pods of these Jobs (one Job: by its own selector), or, without Jobs, of every Job waited for (several). */
  private watchPods(jobs: JobInfo[] | undefined): void {
    this.podWatch?.abort()
    const loop = new AbortController()
    this.podWatch = loop
    const signal = AbortSignal.any([this.stop.signal, this.watching.signal, loop.signal])
    const uids = jobs ? jobs.map((j) => j.uid) : 'all'
    listWatch(
      {
        http: this.o.http,
        path: this.podsPath,
        query: { labelSelector: jobs ? Sources.podSelector(jobs) : Sources.severalSelector(this.o, this.podLabel) },
        resource: 'pods',
        idleTimeoutMs: this.o.idleTimeoutMs,
        backoff: new Backoff(),
        signal
      },
      {
        onList: (items: Any[]) => {
          this.connected = true
          this.send([{ type: 'pods-listed', uids, pods: items.map(podInfo), observedAt: serverTime(this.o.http) }])
        },
        onEvent: (e: WatchEvent) =>
          this.send([{ type: 'pod-event', uids, kind: e.type as WatchKind, pod: podInfo(e.object), observedAt: serverTime(this.o.http) }]),
        onRetry: this.onRetry
      }
    ).catch((err) => {
      if (!(err instanceof WatchForbidden)) return this.failOnce(err)
      // Without the right to watch pods the Job watch would go on alone: poll both instead.
      this.forbidden ??= err
      this.watching.abort()
    })
  }

  /** One LIST of the Jobs' pods (also for the report: a condition can end the wait before the watch brought the pods' last state). */
  async listPods(jobs: JobInfo[]): Promise<ObserveEvent> {
    const several = this.several
    const labelSelector = several ? Sources.severalSelector(this.o, this.podLabel) : Sources.podSelector(jobs)
    const list = await this.o.http.listAll<Any>(this.podsPath, { labelSelector }, 'list pods')
    return {
      type: 'pods-listed',
      uids: several ? 'all' : jobs.map((j) => j.uid),
      pods: list.items.map(podInfo),
      observedAt: serverTime(this.o.http)
    }
  }

  /** The Job vanished without our seeing its end: its events may still tell it. */
  private async inferEnd(job: JobInfo): Promise<void> {
    try {
      const list = await this.o.http.getJSON<{ items?: JobEvent[] }>(
        `/api/v1/namespaces/${this.o.namespace}/events`,
        { fieldSelector: `involvedObject.uid=${job.uid}` },
        'list events'
      )
      const end = finishedFromEvents(list.items ?? [])
      if (!end) return
      this.o.onNote(
        'info',
        `job ${this.o.namespace}/${job.name} was deleted before its end was seen; its events say: ${end.type} (${end.reason})`
      )
      this.send([{ type: 'end-inferred', uid: job.uid, condition: end }])
    } catch (err) {
      this.o.onNote('debug', `could not read the events of the deleted job: ${(err as Error).message}`)
    }
  }

  /** LIST in a namespace that does not exist answers an empty list (kubernetes#75537): ask once. */
  private async checkNamespace(): Promise<void> {
    if (this.namespaceChecked) return
    this.namespaceChecked = true
    try {
      await this.o.http.getJSON(`/api/v1/namespaces/${this.o.namespace}`, {}, `get namespace ${this.o.namespace}`)
    } catch (err) {
      const e = err as KubeError
      if (e.code === 404) {
        this.failOnce(
          new KubeError(`namespace "${this.o.namespace}" not found: check the 'namespace' input or the kubeconfig context's namespace`, {
            code: 404,
            reason: 'NotFound',
            transient: false
          })
        )
      } else {
        this.o.onNote('debug', `could not check that namespace ${this.o.namespace} exists: ${e.message}`)
      }
    }
  }

  private async poll(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff()
    while (!signal.aborted) {
      try {
        const jobs = await this.pollJobs()
        this.connected = true
        const events: ObserveEvent[] = [{ type: 'jobs-listed', jobs }]
        if (jobs.length) events.push(await this.listPods(jobs))
        // The Jobs and their pods as one picture: never a new Job with old pods.
        this.send(events)
        await sleep(this.o.pollIntervalMs, signal)
      } catch (err) {
        const e = err as KubeError
        if (!(e instanceof KubeError) || !e.transient) throw err
        const delay = Math.max(this.o.pollIntervalMs, backoff.next(e.retryAfterMs))
        this.onRetry(e, delay)
        await sleep(delay, signal)
      }
    }
  }

  /** One Job: a GET (404: none). Several, or a selector: one LIST. */
  private async pollJobs(): Promise<JobInfo[]> {
    if (!this.o.selector && this.o.names.length === 1) {
      try {
        return [jobInfo(await this.o.http.getJSON<Any>(`${this.jobsPath}/${this.o.names[0]}`, {}, `get job ${this.o.names[0]}`))]
      } catch (err) {
        if ((err as KubeError).code === 404) return []
        throw err
      }
    }
    const list = await this.o.http.listAll<Any>(this.jobsPath, this.jobQuery(), 'list jobs')
    return list.items.filter((i) => this.wanted(i?.metadata?.name)).map(jobInfo)
  }
}
