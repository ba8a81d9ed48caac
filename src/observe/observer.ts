// Observes one Job by name and the pods it owns, and hands a fresh Snapshot
// to the caller whenever the picture changes. Watch mode: list + watch both;
// poll mode (or credentials that may not watch): GET the Job, LIST its pods.
// Pods are found by the Job's own selector (its uid), never by name alone, so
// pods of an earlier Job of the same name never count; when the Job is
// deleted and created again, the new one is followed.
import { KubeError } from '../kube/errors.js'
import type { KubeHttp } from '../kube/http.js'
import type { WatchEvent } from '../kube/watch.js'
import { Backoff, sleep } from './backoff.js'
import { WatchForbidden, listWatch } from './list-watch.js'
import { jobOutcome } from '../decide/verdict.js'
import { finishedFromEvents, type JobEvent } from './job-events.js'
import { jobInfo, podInfo, type JobInfo, type PodInfo, type Snapshot } from './model.js'

export interface ObserverOptions {
  http: KubeHttp
  namespace: string
  name: string
  mode: 'watch' | 'poll'
  pollIntervalMs: number
  /** A watch silent for this long (no event, no bookmark) is reconnected. */
  idleTimeoutMs: number
  /** Before any request has succeeded, an unreachable server fails after this long. */
  unreachableGraceMs: number
  onSnapshot(s: Snapshot): void
  onNote(level: 'info' | 'warning' | 'debug', message: string): void
}

type Any = any

export class JobObserver {
  private job?: JobInfo
  private jobDeleted = false
  private pods = new Map<string, PodInfo>()
  private scheduled = false
  private connected = false
  private readonly started = Date.now()
  private namespaceChecked = false
  private podLoop?: AbortController
  private fatal?: (err: unknown) => void
  /** How the observer ended up observing: for the report. */
  mode: 'watch' | 'poll'

  constructor(private readonly o: ObserverOptions) {
    this.mode = o.mode
  }

  snapshot(): Snapshot {
    return { namespace: this.o.namespace, name: this.o.name, job: this.job, jobDeleted: this.jobDeleted, pods: [...this.pods.values()] }
  }

  /** Runs until the signal aborts; rejects on an error that retrying cannot mend. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.mode === 'watch') {
      try {
        await this.guarded(signal, (s) => this.watchJob(s))
      } catch (err) {
        if (!(err instanceof WatchForbidden)) throw err
        this.mode = 'poll'
        this.o.onNote('warning', `${err.cause.message}; polling every ${this.o.pollIntervalMs / 1000}s instead of watching`)
      }
    }
    if (this.mode === 'poll' && !signal.aborted) await this.guarded(signal, (s) => this.poll(s))
  }

  /** Runs body until the signal aborts or a loop reports a fatal error through this.fatal. */
  private async guarded(signal: AbortSignal, body: (s: AbortSignal) => Promise<void>): Promise<void> {
    const inner = new AbortController()
    const stop = () => inner.abort()
    signal.addEventListener('abort', stop, { once: true })
    const failed = new Promise<never>((_, reject) => {
      this.fatal = (err) => {
        inner.abort()
        reject(err)
      }
    })
    failed.catch(() => undefined)
    try {
      await Promise.race([body(inner.signal), failed])
    } finally {
      clearTimeout(this.unreachableTimer)
      this.unreachableTimer = undefined
      signal.removeEventListener('abort', stop)
      inner.abort()
      this.podLoop?.abort()
    }
  }

  private schedule(): void {
    // A Job is decided on with its pods: not before they were listed once.
    if (this.job && this.podsListedFor !== this.job.uid) return
    if (this.scheduled) return
    this.scheduled = true
    // Events that arrive together are decided on together.
    setImmediate(() => {
      this.scheduled = false
      this.o.onSnapshot(this.snapshot())
    })
  }

  private backoff(): Backoff {
    return new Backoff()
  }

  private lastRetryNote = 0
  /** uid of the Job whose pods have been listed at least once */
  private podsListedFor?: string
  /** the last fault, for a timeout with nothing else to say */
  lastError?: KubeError
  private unreachableTimer?: NodeJS.Timeout

  private onRetry = (err: KubeError, delayMs: number): void => {
    this.lastError = err
    if (err.unreachable && !this.connected) {
      // Never reached the server: give up once the grace is over, not a whole backoff step later.
      const left = this.started + this.o.unreachableGraceMs - Date.now()
      if (left <= 0) return this.fatal?.(err)
      this.unreachableTimer ??= setTimeout(() => {
        if (!this.connected) this.fatal?.(this.lastError ?? err)
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
        backoff: this.backoff(),
        signal
      },
      {
        onList: (items: Any[]) => {
          this.connected = true
          const j = items.find((i) => i?.metadata?.name === this.o.name)
          if (j) this.setJob(jobInfo(j), false, signal)
          else this.jobMissing()
        },
        onEvent: (e: WatchEvent) => {
          if (e.object?.metadata?.name !== this.o.name) return
          this.setJob(jobInfo(e.object), e.type === 'DELETED', signal)
        },
        onRetry: this.onRetry
      }
    )
  }

  private setJob(job: JobInfo, deleted: boolean, signal: AbortSignal): void {
    const previous = this.job
    if (!previous || previous.uid !== job.uid) {
      if (previous) {
        this.o.onNote(
          'info',
          `job ${this.o.namespace}/${this.o.name} was created again (uid ${previous.uid} → ${job.uid}); following the new one`
        )
      }
      this.pods.clear()
      if (this.mode === 'watch') this.startPodWatch(job, signal)
    }
    this.job = job
    this.jobDeleted = deleted
    this.schedule()
  }

  /** No Job of that name: not created yet, or gone while we were not watching. */
  private jobMissing(): void {
    if (this.job && !this.jobDeleted) {
      this.jobDeleted = true
      if (!jobOutcome(this.job)) void this.endFromEvents(this.job)
    }
    this.schedule()
    void this.checkNamespace()
  }

  /** The Job vanished without our seeing its end: its events may still tell it. */
  private async endFromEvents(job: JobInfo): Promise<void> {
    try {
      const list = await this.o.http.getJSON<{ items?: JobEvent[] }>(
        `/api/v1/namespaces/${this.o.namespace}/events`,
        { fieldSelector: `involvedObject.uid=${job.uid}` },
        'list events'
      )
      const end = finishedFromEvents(list.items ?? [])
      if (end && this.job?.uid === job.uid && this.jobDeleted) {
        this.job = { ...this.job, conditions: [...this.job.conditions, end] }
        this.o.onNote(
          'info',
          `job ${this.o.namespace}/${this.o.name} was deleted before its end was seen; its events say: ${end.type} (${end.reason})`
        )
        this.schedule()
      }
    } catch (err) {
      this.o.onNote('debug', `could not read the events of the deleted job: ${(err as Error).message}`)
    }
  }

  /** LIST in a namespace that does not exist answers an empty list (kubernetes#75537): ask once. */
  private async checkNamespace(): Promise<void> {
    if (this.namespaceChecked || this.job) return
    this.namespaceChecked = true
    try {
      await this.o.http.getJSON(`/api/v1/namespaces/${this.o.namespace}`, {}, `get namespace ${this.o.namespace}`)
    } catch (err) {
      const e = err as KubeError
      if (e.code === 404) {
        this.fatal?.(
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

  private startPodWatch(job: JobInfo, parent: AbortSignal): void {
    this.podLoop?.abort()
    const loop = new AbortController()
    this.podLoop = loop
    const stop = () => loop.abort()
    parent.addEventListener('abort', stop, { once: true })
    listWatch(
      {
        http: this.o.http,
        path: this.podsPath,
        query: { labelSelector: this.podSelector(job) },
        resource: 'pods',
        idleTimeoutMs: this.o.idleTimeoutMs,
        backoff: this.backoff(),
        signal: loop.signal
      },
      {
        onList: (items: Any[]) => this.replacePods(items, job.uid),
        onEvent: (e: WatchEvent) => {
          const p = podInfo(e.object)
          if (p.ownerUid && p.ownerUid !== job.uid) return
          if (e.type === 'DELETED') p.deletionTimestamp ??= new Date().toISOString()
          this.pods.set(p.uid, p)
          this.schedule()
        },
        onRetry: this.onRetry
      }
    )
      .catch((err) => this.fatal?.(err))
      .finally(() => parent.removeEventListener('abort', stop))
  }

  /** A fresh list; pods that finished and were deleted meanwhile keep their last state. */
  private replacePods(items: Any[], uid: string): void {
    this.connected = true
    this.podsListedFor = uid
    const next = new Map<string, PodInfo>()
    for (const item of items) {
      const p = podInfo(item)
      if (p.ownerUid && p.ownerUid !== uid) continue
      next.set(p.uid, p)
    }
    for (const [k, p] of this.pods) {
      if (!next.has(k) && (p.phase === 'Succeeded' || p.phase === 'Failed'))
        next.set(k, { ...p, deletionTimestamp: p.deletionTimestamp ?? new Date().toISOString() })
    }
    this.pods = next
    this.schedule()
  }

  /**
   * One fresh LIST of the Job's pods, for the report: a Job's condition can
   * end the wait before the watch has brought its pods' last state.
   */
  async refreshPods(): Promise<Snapshot> {
    const job = this.job
    if (job) {
      try {
        const list = await this.o.http.listAll<Any>(this.podsPath, { labelSelector: this.podSelector(job) }, 'list pods')
        if (this.job?.uid === job.uid) this.replacePods(list.items, job.uid)
      } catch (err) {
        this.o.onNote('debug', `could not list the pods once more for the report: ${(err as Error).message}`)
      }
    }
    return this.snapshot()
  }

  private async poll(signal: AbortSignal): Promise<void> {
    const backoff = this.backoff()
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
          this.setJob(info, false, signal)
          const list = await this.o.http.listAll<Any>(this.podsPath, { labelSelector: this.podSelector(info) }, 'list pods')
          this.replacePods(list.items, info.uid)
        } else {
          this.jobMissing()
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
