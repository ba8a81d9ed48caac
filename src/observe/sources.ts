// The sources: they ask the API server and turn each answer into events
// (./state.ts), nothing more. Watch mode: list + watch the Job by name and,
// for each uid it takes, its pods by the Job's own selector. Poll mode (or
// credentials that may not watch): GET the Job, LIST its pods, both answers
// emitted together. Once stopped, a source emits nothing more.
import { KubeError } from '../kube/errors.js'
import type { KubeHttp } from '../kube/http.js'
import type { WatchEvent } from '../kube/watch.js'
import type { JobInfo } from '../model.js'
import { Backoff, sleep } from './backoff.js'
import { jobInfo, podInfo } from './convert.js'
import { finishedFromEvents, type JobEvent } from './job-events.js'
import { WatchForbidden, listWatch } from './list-watch.js'
import type { ObserveEvent, WatchKind } from './state.js'

export type NoteLevel = 'info' | 'warning' | 'debug'

export interface SourceOptions {
  http: KubeHttp
  namespace: string
  name: string
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
  private inferring?: string
  private lastRetryNote = 0
  private unreachableTimer?: NodeJS.Timeout

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

  /** Called with each new state's Job: a new uid gets its own pod watch. */
  follow(job: JobInfo | undefined, previousUid: string | undefined, jobDeleted: boolean, finished: boolean, inferred: boolean): void {
    if (this.stop.signal.aborted) return
    if (job && job.uid !== previousUid) {
      if (previousUid)
        this.o.onNote(
          'info',
          `job ${this.o.namespace}/${this.o.name} was created again (uid ${previousUid} → ${job.uid}); following the new one`
        )
      if (this.status.mode === 'watch') this.watchPods(job)
    }
    if (job && jobDeleted && !finished && !inferred && this.inferring !== job.uid) {
      this.inferring = job.uid
      void this.inferEnd(job)
    }
    if (!job) void this.checkNamespace()
  }

  private failOnce(err: unknown): void {
    if (this.stop.signal.aborted) return
    this.close()
    this.fail(err)
  }

  private send(events: ObserveEvent[]): void {
    if (!this.stop.signal.aborted) this.emit(events)
  }

  private async run(): Promise<void> {
    const signal = this.stop.signal
    if (this.status.mode === 'watch') {
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
    if (this.status.mode === 'poll' && !signal.aborted) await this.poll(signal)
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

  private podSelector(job: JobInfo): string {
    return job.selector ?? `batch.kubernetes.io/controller-uid=${job.uid}`
  }

  private async watchJob(signal: AbortSignal): Promise<void> {
    await listWatch(
      {
        http: this.o.http,
        path: this.jobsPath,
        query: { fieldSelector: `metadata.name=${this.o.name}` },
        resource: 'jobs',
        idleTimeoutMs: this.o.idleTimeoutMs,
        backoff: new Backoff(),
        signal
      },
      {
        onList: (items: Any[]) => {
          this.connected = true
          const j = items.find((i) => i?.metadata?.name === this.o.name)
          this.send([j ? { type: 'job-listed', job: jobInfo(j) } : { type: 'job-gone' }])
        },
        onEvent: (e: WatchEvent) => {
          if (e.object?.metadata?.name !== this.o.name) return
          this.send([{ type: 'job-event', kind: e.type as WatchKind, job: jobInfo(e.object) }])
        },
        onRetry: this.onRetry
      }
    )
  }

  private watchPods(job: JobInfo): void {
    this.podWatch?.abort()
    const loop = new AbortController()
    this.podWatch = loop
    const signal = AbortSignal.any([this.stop.signal, this.watching.signal, loop.signal])
    const uid = job.uid
    listWatch(
      {
        http: this.o.http,
        path: this.podsPath,
        query: { labelSelector: this.podSelector(job) },
        resource: 'pods',
        idleTimeoutMs: this.o.idleTimeoutMs,
        backoff: new Backoff(),
        signal
      },
      {
        onList: (items: Any[]) => {
          this.connected = true
          this.send([{ type: 'pods-listed', uid, pods: items.map(podInfo) }])
        },
        onEvent: (e: WatchEvent) => this.send([{ type: 'pod-event', uid, kind: e.type as WatchKind, pod: podInfo(e.object) }]),
        onRetry: this.onRetry
      }
    ).catch((err) => {
      if (!(err instanceof WatchForbidden)) return this.failOnce(err)
      // Without the right to watch pods the Job watch would go on alone: poll both instead.
      this.forbidden ??= err
      this.watching.abort()
    })
  }

  /** One fresh LIST of the Job's pods (for the report: a condition can end the wait before the watch brought the pods' last state). */
  static async listPods(http: KubeHttp, namespace: string, job: JobInfo): Promise<ObserveEvent> {
    const list = await http.listAll<Any>(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector: job.selector ?? `batch.kubernetes.io/controller-uid=${job.uid}` },
      'list pods'
    )
    return { type: 'pods-listed', uid: job.uid, pods: list.items.map(podInfo) }
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
        `job ${this.o.namespace}/${this.o.name} was deleted before its end was seen; its events say: ${end.type} (${end.reason})`
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
        let job: Any
        try {
          job = await this.o.http.getJSON(`${this.jobsPath}/${this.o.name}`, {}, `get job ${this.o.name}`)
        } catch (err) {
          if ((err as KubeError).code !== 404) throw err
        }
        this.connected = true
        if (job) {
          const info = jobInfo(job)
          const pods = await Sources.listPods(this.o.http, this.o.namespace, info)
          // The Job and its pods as one picture: never the new Job with the old pods.
          this.send([{ type: 'job-listed', job: info }, pods])
        } else {
          this.send([{ type: 'job-gone' }])
        }
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
}
