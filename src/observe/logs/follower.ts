// Live logs (input logs: follow): every container of every pod of the Job,
// streamed into the step's log from its first line, the moment its status
// shows it started. Fed each snapshot by main's loop; it decides nothing and
// never delays the verdict: reads run beside the loop, and on the final
// verdict finish() gives them a bounded time.
//
// Per container, one worker reads its instances in order (an instance is one
// run of the container: restartCount 0, 1, ...). The current instance is
// followed while it runs (follow=true) and read in full once it ended; the
// one before it is read with previous=true. The kubelet keeps no older
// instance: those are said to be missed. A broken stream resumes from the
// second of the last line shown (sinceTime), LogResume dropping the replay.
//
// At most maxStreams follows at once; a container that finds none free
// waits in line and is followed when one frees, or read in full (up to
// FULL_READS at once) when it ended meanwhile.
import type { KubeError } from '../../kube/errors.js'
import { httpError, networkError } from '../../kube/errors.js'
import type { KubeHttp } from '../../kube/http.js'
import type { ContainerInfo, PodInfo, Snapshot } from '../../model.js'
import { LineSplitter, LogResume } from './resume.js'

/** Reads in full of containers that ended while waiting for a stream. */
const FULL_READS = 4
/** A tail line kept for the report is cut here (the summary shows 400). */
const TAIL_LINE_CHARS = 1000

export interface FollowerOptions {
  http: KubeHttp
  namespace: string
  maxStreams: number
  /** Lines for the step's log, prefixed: cluster text, to go through the gate. One call per batch. */
  write: (lines: string[]) => void
  /** Lines of our own about the logs (a missing right, an unreachable kubelet); they may quote cluster text. */
  note: (message: string) => void
  /** how many last lines of each container instance are kept for the report */
  tailLines: number
  /** the longest a read in full may take */
  requestTimeoutMs?: number
  /** backoff after a failed request: first and longest wait */
  backoffMs?: [number, number]
}

interface Instance {
  restart: number
  resume: LogResume
  tail: string[]
  /** read to its end */
  complete: boolean
  /** its first line (or the restart marker) was written */
  marked: boolean
}

interface Container {
  pod: string
  podUid: string
  name: string
  status: ContainerInfo
  podDone: boolean
  podDeleted: boolean
  /** the next instance (restart number) to show; those before it are shown or said missed */
  next: number
  instances: Map<number, Instance>
  wake?: () => void
  worker?: Promise<void>
  /** the last read was refused by a kubelet out of reach (5xx): a drain does not wait for it */
  unreachable?: boolean
  abort: AbortController
}

/** A counting semaphore whose waiters can give up. */
class Slots {
  #free: number
  #queue: Array<(ok: boolean) => void> = []
  constructor(n: number) {
    this.#free = n
  }
  get waiting(): number {
    return this.#queue.length
  }
  tryTake(): boolean {
    if (this.#free <= 0) return false
    this.#free--
    return true
  }
  /** Resolves true with a slot, or false when `giveUp` resolves first. */
  take(giveUp: Promise<void>): Promise<boolean> {
    if (this.tryTake()) return Promise.resolve(true)
    return new Promise((resolve) => {
      let done = false
      const waiter = (ok: boolean) => {
        if (done) return
        done = true
        resolve(ok)
      }
      this.#queue.push(waiter)
      void giveUp.then(() => {
        if (done) return
        this.#queue = this.#queue.filter((w) => w !== waiter)
        waiter(false)
      })
    })
  }
  release(): void {
    const next = this.#queue.shift()
    if (next) next(true)
    else this.#free++
  }
}

type ReadEnd = { kind: 'ended' } | { kind: 'broken'; error?: KubeError } | { kind: 'refused'; error: KubeError } | { kind: 'aborted' }

export class LogFollower {
  readonly #o: Required<FollowerOptions>
  readonly #containers = new Map<string, Container>()
  readonly #streams: Slots
  readonly #fullReads = new Slots(FULL_READS)
  readonly #said = new Set<string>()
  /** what the report should know: a missing right, an unreachable kubelet */
  readonly notes: string[] = []
  #denied = false
  #ending = false
  #closed = false

  constructor(o: FollowerOptions) {
    this.#o = { requestTimeoutMs: 30_000, backoffMs: [800, 8_000], ...o }
    this.#streams = new Slots(o.maxStreams)
  }

  /** A new snapshot: start workers for containers that started, wake the others. */
  update(s: Snapshot): void {
    if (this.#closed || this.#ending) return
    for (const pod of s.pods) this.#updatePod(pod)
  }

  #updatePod(pod: PodInfo): void {
    const podDone = pod.phase === 'Succeeded' || pod.phase === 'Failed'
    for (const status of pod.containers) {
      const key = `${pod.uid}/${status.name}`
      let c = this.#containers.get(key)
      if (!c) {
        if (this.#denied || !started(status) || pod.deleted) continue
        c = {
          pod: pod.name,
          podUid: pod.uid,
          name: status.name,
          status,
          podDone,
          podDeleted: false,
          next: 0,
          instances: new Map(),
          abort: new AbortController()
        }
        this.#containers.set(key, c)
        const box = c
        c.worker = this.#work(box).catch((err: unknown) => this.#say('bug', `log of ${box.pod}/${box.name} stopped: ${String(err)}`))
        continue
      }
      // Only news of this container wakes its reader: snapshots come on every tick, and a backoff must last.
      const news =
        status.state !== c.status.state ||
        status.restartCount !== c.status.restartCount ||
        podDone !== c.podDone ||
        (pod.deleted === true) !== c.podDeleted
      c.status = status
      c.podDone = podDone
      c.podDeleted = pod.deleted === true
      if (news) c.wake?.()
    }
  }

  /**
   * The verdict is final. Job finished: let the reads end by themselves for
   * at most drainMs (the containers ended: the kubelet ends a follow about a
   * second later), then close. Otherwise close at once.
   */
  async finish(jobFinished: boolean, drainMs: number, last?: Snapshot): Promise<void> {
    if (this.#closed) return
    if (last) this.update(last)
    this.#ending = true
    const workers = [...this.#containers.values()].map((c) => c.worker)
    if (jobFinished && drainMs > 0) {
      for (const c of this.#containers.values()) c.wake?.()
      // A kubelet out of reach will not answer in time: the run does not wait for it.
      const awaited = [...this.#containers.values()].filter((c) => !c.unreachable).map((c) => c.worker)
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.all(awaited), new Promise<void>((r) => (timer = setTimeout(r, drainMs)))])
      clearTimeout(timer)
    }
    this.close()
    await Promise.all(workers)
  }

  /** Stops every read at once. */
  close(): void {
    this.#closed = true
    for (const c of this.#containers.values()) {
      c.abort.abort()
      c.wake?.()
    }
  }

  /** The last lines shown of a container instance (previous: the one before the current), for the report. */
  tail(pod: string, container: string, previous: boolean): string[] | undefined {
    const c = [...this.#containers.values()].find((x) => x.pod === pod && x.name === container)
    if (!c) return undefined
    const restart = previous ? c.status.restartCount - 1 : c.status.restartCount
    const inst = c.instances.get(restart) ?? (previous ? undefined : c.instances.get(Math.max(-1, ...c.instances.keys())))
    return inst ? [...inst.tail] : undefined
  }

  // ---------------------------------------------------------------- one container

  async #work(c: Container): Promise<void> {
    let failures = 0
    while (!this.#closed && !this.#denied) {
      const st = c.status
      const current = st.restartCount
      if (c.next > current) {
        // Shown up to the current instance: wait for a restart, or the end.
        if (this.#ending || c.podDone || c.podDeleted) return
        await this.#waitChange(c, 60_000)
        continue
      }
      if (c.podDeleted) {
        this.#line(c, c.next, '--- the pod was deleted before its log was read to the end: the rest is gone ---')
        return
      }
      if (c.next < current - 1) {
        const missed = current - 1 - c.next
        this.#line(
          c,
          current - 1,
          `--- ${missed} earlier instance${missed > 1 ? 's' : ''} not shown: the kubelet keeps only the last one ---`
        )
        c.next = current - 1
      }
      const previous = c.next === current - 1
      if (!previous && !runningOrEnded(st)) {
        // The current instance has not started (a crash loop's back-off).
        if (this.#ending) return
        await this.#waitChange(c, 5_000)
        continue
      }
      const restart = c.next
      const follow = !previous && st.state === 'running' && !this.#ending
      const slots = follow ? await this.#slot(c) : undefined
      if (this.#closed) {
        if (slots) slots.release()
        return
      }
      if (!slots) {
        if (!(await this.#fullReads.take(this.#closing(c)))) return
      }
      let end: ReadEnd
      try {
        end = await this.#read(c, restart, previous, slots === this.#streams)
      } finally {
        ;(slots ?? this.#fullReads).release()
      }
      if (end.kind === 'aborted') return
      c.unreachable = end.kind === 'refused' && (end.error.code ?? 0) >= 500
      if (end.kind === 'ended') {
        failures = 0
        const now = c.status
        // A follow can also end because the connection was closed: the
        // instance ended only when the status says so.
        if (!(slots === this.#streams) || now.restartCount > restart || now.state !== 'running' || c.podDone) {
          this.#instance(c, restart).complete = true
          c.next = restart + 1
        } else {
          await this.#waitChange(c, 500)
        }
        continue
      }
      if (end.kind === 'refused') {
        if (this.#refused(c, restart, previous, end.error)) return
        failures++
        await this.#waitChange(c, this.#backoff(failures))
        continue
      }
      // broken: a network fault or an API server that went away (the watch says so); resume after a backoff
      failures++
      await this.#waitChange(c, this.#backoff(failures))
    }
  }

  /** Handles a refused read; true when this container is done. */
  #refused(c: Container, restart: number, previous: boolean, e: KubeError): boolean {
    const ns = this.#o.namespace
    if (e.code === 403 || e.code === 401) {
      this.#denied = true
      const msg = `no permission to get pods/log in namespace ${ns}: logs not shown (grant get on pods/log)`
      this.#say('denied', msg)
      this.notes.push(msg)
      return true
    }
    if (e.code === 404) {
      this.#line(c, restart, '--- the pod is gone: its log is gone with it ---')
      return true
    }
    if (e.code === 400 && /previous terminated container .* not found/i.test(e.message)) {
      if (previous) {
        this.#line(c, restart, '--- this instance was not kept by the kubelet: not shown ---')
        c.next = restart + 1
      }
      return false
    }
    if (e.code === 400 && /waiting to start|is not available|ContainerCreating|PodInitializing/i.test(e.message)) return false
    if (e.code !== undefined && e.code >= 500) {
      // Private clusters: the API server cannot open a connection to the kubelet (port 10250).
      const msg = /dial tcp|10250|connection refused|no route|i\/o timeout/i.test(e.message)
        ? `the API server cannot reach the kubelet to read logs: ${e.message}; logs not shown while it cannot (retrying)`
        : `reading a log failed: ${e.message}; retrying`
      this.#say('kubelet', msg)
      if (!this.notes.includes(msg)) this.notes.push(msg)
      return false
    }
    this.#line(c, restart, `--- log not shown: ${e.message} ---`)
    return true
  }

  /** A slot for a follow, or undefined when the container ended (or the run ends) while waiting. */
  async #slot(c: Container): Promise<Slots | undefined> {
    if (this.#streams.tryTake()) return this.#streams
    this.#say(
      'max-streams',
      `log-max-streams (${this.#o.maxStreams}) streams are open: other containers are followed when a stream frees, or read in full when they end`
    )
    const restart = c.status.restartCount
    const ended = new Promise<void>((resolve) => {
      const check = () => {
        if (this.#closed || this.#ending || c.status.state !== 'running' || c.status.restartCount !== restart) return resolve()
        void this.#waitChange(c, 60_000).then(check)
      }
      check()
    })
    return (await this.#streams.take(ended)) ? this.#streams : undefined
  }

  /** Resolves when the follower closes. */
  #closing(c: Container): Promise<void> {
    if (this.#closed) return Promise.resolve()
    return new Promise((resolve) => c.abort.signal.addEventListener('abort', () => resolve(), { once: true }))
  }

  /** Waits for news of the container (a snapshot, finish, close), at most ms. */
  #waitChange(c: Container, ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      timer.unref()
      const prev = c.wake
      function done() {
        clearTimeout(timer)
        if (c.wake === done) c.wake = prev
        resolve()
        prev?.()
      }
      c.wake = done
    })
  }

  #backoff(failures: number): number {
    const [first, cap] = this.#o.backoffMs
    const ms = Math.min(cap, first * 2 ** Math.min(failures - 1, 10))
    return ms * (0.8 + Math.random() * 0.4)
  }

  #instance(c: Container, restart: number): Instance {
    let inst = c.instances.get(restart)
    if (!inst) {
      inst = { restart, resume: new LogResume(), tail: [], complete: false, marked: false }
      c.instances.set(restart, inst)
      // Only the current instance and the one before it can still be asked for.
      for (const k of c.instances.keys()) if (k < restart - 1) c.instances.delete(k)
    }
    return inst
  }

  /** One request for one instance: its lines to the log as they come. */
  async #read(c: Container, restart: number, previous: boolean, follow: boolean): Promise<ReadEnd> {
    const inst = this.#instance(c, restart)
    inst.resume.reconnect()
    const { http, namespace } = this.#o
    const what = `get pods/log ${c.pod}`
    const path = `/api/v1/namespaces/${namespace}/pods/${c.pod}/log`
    const query = {
      container: c.name,
      timestamps: 'true',
      follow: follow ? 'true' : undefined,
      previous: previous ? 'true' : undefined,
      sinceTime: inst.resume.sinceTime()
    }
    const request = new AbortController()
    const stop = () => request.abort()
    c.abort.signal.addEventListener('abort', stop, { once: true })
    const timer = follow ? undefined : setTimeout(stop, this.#o.requestTimeoutMs)
    try {
      let resp
      try {
        resp = await http.send(path, query, what, request.signal, 'text/plain, */*')
      } catch (err) {
        return c.abort.signal.aborted ? { kind: 'aborted' } : { kind: 'broken', error: err as KubeError }
      }
      if (resp.httpStatusCode < 200 || resp.httpStatusCode > 299) {
        const text = await resp.body.text().catch(() => '')
        return c.abort.signal.aborted
          ? { kind: 'aborted' }
          : { kind: 'refused', error: httpError(resp.httpStatusCode, text, resp.headers, what) }
      }
      if (!inst.marked && restart > 0) this.#line(c, restart, `--- restart ${restart}: the container's instance ${restart + 1} ---`)
      inst.marked = true
      const stream = (await resp.body.stream()) as ReadableStream<Uint8Array> | null | undefined
      if (!stream) return { kind: 'ended' }
      const reader = stream.getReader()
      const decoder = new TextDecoder()
      const splitter = new LineSplitter()
      const prefix = this.#prefix(c, restart)
      const emit = (raw: string[]) => {
        const shown: string[] = []
        for (const l of raw) {
          const text = inst.resume.accept(l)
          if (text === undefined) continue
          shown.push(prefix + text)
          this.#keep(inst, text)
        }
        if (shown.length) this.#o.write(shown)
      }
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          emit(splitter.push(decoder.decode(value, { stream: true })))
        }
        const rest = splitter.push(decoder.decode())
        const last = splitter.end()
        emit(last === undefined ? rest : [...rest, last])
        return { kind: 'ended' }
      } catch (err) {
        splitter.discard()
        if (c.abort.signal.aborted) return { kind: 'aborted' }
        return { kind: 'broken', error: networkError(err, http.server, what) }
      } finally {
        reader.releaseLock()
      }
    } finally {
      clearTimeout(timer)
      c.abort.signal.removeEventListener('abort', stop)
      request.abort()
    }
  }

  #prefix(c: Container, restart: number): string {
    return restart > 0 ? `[${c.pod}/${c.name} restart ${restart}] ` : `[${c.pod}/${c.name}] `
  }

  #keep(inst: Instance, text: string): void {
    if (this.#o.tailLines <= 0) return
    inst.tail.push(text.length > TAIL_LINE_CHARS ? text.slice(0, TAIL_LINE_CHARS) : text)
    if (inst.tail.length > this.#o.tailLines) inst.tail.shift()
  }

  /** A line of ours about one container, in its place among its lines. */
  #line(c: Container, restart: number, text: string): void {
    this.#o.write([this.#prefix(c, restart) + text])
  }

  /** Says something once per kind. */
  #say(kind: string, message: string): void {
    if (this.#said.has(kind)) return
    this.#said.add(kind)
    this.#o.note(message)
  }
}

/** The container's status shows an instance that started (running, ended, or restarted). */
function started(c: ContainerInfo): boolean {
  return runningOrEnded(c) || c.restartCount > 0 || c.startedAt !== undefined
}

function runningOrEnded(c: ContainerInfo): boolean {
  return c.state === 'running' || c.state === 'terminated'
}
