// Live logs (input logs: follow): every container of every pod of the Job,
// streamed into the step's log from its first line, the moment its status
// shows it started. Fed each snapshot by main's loop; it decides nothing about
// the Job and never delays the verdict: reads run beside the loop, and on the
// final verdict finish() gives them a bounded time.
//
// Per container, one worker shows its instances in order (an instance is one
// run of the container: restartCount 0, 1, ...). What it does next is a pure
// function of what it knows (nextStep: the pod's status, the instance to show
// next, what it doubts); the worker only carries the step out and records
// how it ended. The current instance is followed while it runs (follow=true)
// and read in full once it ended; the one before it is read with
// previous=true. The kubelet keeps no older instance: those are said missed.
//
// "Current" and "previous" are the kubelet's idea, and the pod's status lags
// it: a follow that ends while the status still says the instance runs is no
// proof of anything, and asking for the current log again may get the next
// instance. So a read that resumes an instance (sinceTime: the second of the
// last line shown, LogResume dropping the replay) must begin with that
// replay; one that does not is another instance's log: nothing of it is
// shown, and the status is waited for.
//
// At most maxStreams follows at once; a container that finds none free
// waits in line and is followed when one frees, or read in full (up to
// FULL_READS at once) when it ended meanwhile.
import type { KubeError } from '../../kube/errors.js'
import { httpError, networkError } from '../../kube/errors.js'
import type { KubeHttp } from '../../kube/http.js'
import type { ContainerInfo, PodIndex, PodInfo, Snapshot } from '../../model.js'
import { LineSplitter, LogResume } from './resume.js'

/** Reads in full of containers that ended while waiting for a stream. */
const FULL_READS = 4
/** A tail line kept for the report is cut here (the summary shows 400). */
const TAIL_LINE_CHARS = 1000
/**
 * After a follow ended with the status still saying the instance runs: how
 * long to wait for the status to say why before following again (checked by
 * the replay). About the time a kubelet takes to end a follow after its
 * container stopped.
 */
export const CONFIRM_MS = 1_000

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

// ---------------------------------------------------------------- the decision (pure)

/** What a container's worker knows when it decides. */
export interface View {
  /** the container's status in the last snapshot */
  status: ContainerInfo
  podDone: boolean
  podDeleted: boolean
  /** the verdict is final: no news will come, reads end by themselves */
  ending: boolean
  /** the instance (restart number) to show next; those before it are shown or said missed */
  next: number
  /** lines of `next` were shown: a new read of it can be checked by the replay */
  shown: boolean
  /** what the last read of `next` left in doubt, until the status changes */
  doubt?: Doubt
  now: number
}

/**
 * ended: a follow of the instance ended while the status said it runs (the
 * container stopped, or the connection was closed). foreign: a read of the
 * current log got another instance's (the kubelet is ahead of the status).
 */
export interface Doubt {
  kind: 'ended' | 'foreign'
  at: number
}

export type Step =
  | { do: 'stop'; say?: string }
  /** until the container's status changes, or ms */
  | { do: 'wait'; ms?: number }
  | { do: 'skip'; to: number; say: string }
  /** trust: show it even if it does not replay what was shown (a log rotated meanwhile) */
  | { do: 'read'; restart: number; previous: boolean; follow: boolean; trust?: boolean }

export function nextStep(v: View): Step {
  const st = v.status
  const current = st.restartCount
  const n = v.next
  const over = v.ending || v.podDone
  if (n > current) return over || v.podDeleted ? { do: 'stop' } : { do: 'wait' }
  if (v.podDeleted) return { do: 'stop', say: '--- the pod was deleted before its log was read to the end: the rest is gone ---' }
  if (n < current - 1) {
    const missed = current - 1 - n
    return {
      do: 'skip',
      to: current - 1,
      say: `--- ${missed} earlier instance${missed > 1 ? 's' : ''} not shown: the kubelet keeps only the last one ---`
    }
  }
  if (n === current - 1) return { do: 'read', restart: n, previous: true, follow: false }
  // n is the status's current instance
  if (v.doubt?.kind === 'foreign') {
    // Nothing can follow the instance of a finished pod: its replay was rotated away.
    if (v.podDone) return { do: 'read', restart: n, previous: false, follow: false, trust: true }
    // No news will come: what is left of it is what the kubelet calls previous.
    if (v.ending) return { do: 'read', restart: n, previous: true, follow: false }
    return { do: 'wait' }
  }
  if (st.state !== 'running' && st.state !== 'terminated') return v.ending ? { do: 'stop' } : { do: 'wait' }
  if (st.state === 'terminated' || over) return { do: 'read', restart: n, previous: false, follow: false }
  if (v.doubt?.kind === 'ended') {
    // Nothing shown to check a new read by: only the status can tell what the kubelet calls current.
    if (!v.shown) return { do: 'wait' }
    const left = v.doubt.at + CONFIRM_MS - v.now
    if (left > 0) return { do: 'wait', ms: left }
  }
  return { do: 'read', restart: n, previous: false, follow: true }
}

// ---------------------------------------------------------------- the shell

interface Instance {
  restart: number
  resume: LogResume
  tail: string[]
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
  next: number
  doubt?: Doubt
  instances: Map<number, Instance>
  /** set while the worker waits for news: called on news, finish and close */
  wake?: () => void
  worker?: Promise<void>
  /** the last read was refused by a kubelet out of reach (5xx): a drain does not wait for it */
  unreachable?: boolean
  abort: AbortController
}

/** A counting semaphore; a waiter can leave the line. */
class Slots {
  #free: number
  #queue: Array<() => void> = []
  constructor(n: number) {
    this.#free = n
  }
  tryTake(): boolean {
    if (this.#free <= 0) return false
    this.#free--
    return true
  }
  /** A place in line: `granted` resolves with a slot; cancel() leaves the line, or gives back a slot handed over meanwhile. */
  wait(): { granted: Promise<void>; cancel: () => void } {
    let handed = false
    let resolve!: () => void
    const granted = new Promise<void>((r) => (resolve = r))
    const waiter = () => {
      handed = true
      resolve()
    }
    this.#queue.push(waiter)
    return {
      granted,
      cancel: () => {
        if (handed) this.release()
        else this.#queue = this.#queue.filter((w) => w !== waiter)
      }
    }
  }
  release(): void {
    const next = this.#queue.shift()
    if (next) next()
    else this.#free++
  }
}

type ReadEnd =
  | { kind: 'ended' }
  | { kind: 'foreign' }
  | { kind: 'broken'; error?: KubeError }
  | { kind: 'refused'; error: KubeError }
  | { kind: 'aborted' }

type ReadStep = Extract<Step, { do: 'read' }>

export class LogFollower {
  readonly #o: Required<FollowerOptions>
  readonly #containers = new Map<string, Container>()
  readonly #streams: Slots
  readonly #fullReads = new Slots(FULL_READS)
  readonly #said = new Set<string>()
  /** what the report should know: a missing right, refused credentials, an unreachable kubelet */
  readonly notes: string[] = []
  /** by Job name, the pods last gone over */
  readonly #seen = new Map<string, PodIndex>()
  #denied = false
  #ending = false
  #closed = false

  constructor(o: FollowerOptions) {
    this.#o = { requestTimeoutMs: 30_000, backoffMs: [800, 8_000], ...o }
    this.#streams = new Slots(o.maxStreams)
  }

  /**
   * A new snapshot: start workers for containers that started, wake the
   * others. Only the pods set since the last snapshot of that Job are gone
   * over (the others said nothing new), not every pod of a large Job each time.
   */
  update(s: Snapshot): void {
    if (this.#closed || this.#ending) return
    const pods = s.podIndex
    for (const pod of pods ? pods.changedSince(this.#seen.get(s.name)) : s.pods) this.#updatePod(pod)
    if (pods) this.#seen.set(s.name, pods)
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
      // Only news of this container wakes its worker: snapshots come on every tick, and a backoff must last.
      const news =
        status.state !== c.status.state ||
        status.restartCount !== c.status.restartCount ||
        status.startedAt !== c.status.startedAt ||
        podDone !== c.podDone ||
        (pod.deleted === true) !== c.podDeleted
      c.status = status
      c.podDone = podDone
      c.podDeleted = pod.deleted === true
      if (news) {
        // A doubt holds until the status says something new.
        c.doubt = undefined
        c.wake?.()
      }
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
      const step = nextStep({
        status: c.status,
        podDone: c.podDone,
        podDeleted: c.podDeleted,
        ending: this.#ending,
        next: c.next,
        shown: c.instances.get(c.next)?.resume.position !== undefined,
        doubt: c.doubt,
        now: Date.now()
      })
      switch (step.do) {
        case 'stop':
          if (step.say) this.#line(c, c.next, step.say)
          return
        case 'wait':
          await this.#news(c, step.ms)
          continue
        case 'skip':
          this.#line(c, step.to, step.say)
          c.next = step.to
          continue
      }
      const end = await this.#readStep(c, step)
      if (end === undefined) continue // the status changed while waiting for a slot: decide again
      if (end.kind === 'aborted') return
      c.unreachable = end.kind === 'refused' && (end.error.code ?? 0) >= 500
      switch (end.kind) {
        case 'ended':
          failures = 0
          // A follow also ends when the connection is closed: the instance ended only when the status says so.
          if (step.follow && c.status.restartCount === step.restart && c.status.state === 'running' && !c.podDone) {
            c.doubt = { kind: 'ended', at: Date.now() }
          } else this.#done(c, step.restart)
          continue
        case 'foreign':
          failures = 0
          if (step.previous) {
            this.#line(c, step.restart, '--- the rest of this instance was not kept by the kubelet: not shown ---')
            this.#done(c, step.restart)
          } else c.doubt = { kind: 'foreign', at: Date.now() }
          continue
        case 'refused':
          if (this.#refused(c, step, end.error)) return
          break
      }
      failures++
      await this.#news(c, this.#backoff(failures))
    }
  }

  /** The instance is shown to its end (or said not kept): on to the next. */
  #done(c: Container, restart: number): void {
    c.next = restart + 1
    c.doubt = undefined
  }

  /** A slot, then the read; undefined when the container's status changed while it waited for a slot. */
  async #readStep(c: Container, step: ReadStep): Promise<ReadEnd | undefined> {
    const slots = step.follow ? this.#streams : this.#fullReads
    if (!slots.tryTake()) {
      if (step.follow) {
        this.#say(
          'max-streams',
          `log-max-streams (${this.#o.maxStreams}) streams are open: other containers are followed when a stream frees, or read in full when they end`
        )
      }
      const ticket = slots.wait()
      const news = this.#newsWaiter(c)
      const got = await Promise.race([ticket.granted.then(() => true), news.seen.then(() => false)])
      news.stop()
      if (!got) {
        ticket.cancel()
        return undefined
      }
    }
    try {
      return this.#closed ? { kind: 'aborted' } : await this.#read(c, step)
    } finally {
      slots.release()
    }
  }

  /** Handles a refused read; true when this container is done. */
  #refused(c: Container, step: ReadStep, e: KubeError): boolean {
    const ns = this.#o.namespace
    if (e.code === 403) {
      this.#denied = true
      const msg = `no permission to get pods/log in namespace ${ns}: logs not shown (grant get on pods/log)`
      this.#say('denied', msg)
      this.notes.push(msg)
      return true
    }
    if (e.code === 401) {
      // Not a missing right: a token that expired or was rotated. Fresh credentials may come; retried.
      this.#note(
        'unauthorized',
        'reading a log: the API server refused the credentials (401 Unauthorized): the token or certificate is wrong or expired; retrying'
      )
      return false
    }
    if (e.code === 404) {
      this.#line(c, step.restart, '--- the pod is gone: its log is gone with it ---')
      return true
    }
    if (e.code === 400 && /previous terminated container .* not found/i.test(e.message)) {
      if (step.previous) {
        this.#line(c, step.restart, '--- this instance was not kept by the kubelet: not shown ---')
        this.#done(c, step.restart)
      }
      return false
    }
    if (e.code === 400 && /waiting to start|is not available|ContainerCreating|PodInitializing/i.test(e.message)) return false
    if (e.code !== undefined && e.code >= 500) {
      // Private clusters: the API server cannot open a connection to the kubelet (port 10250).
      const msg = /dial tcp|10250|connection refused|no route|i\/o timeout/i.test(e.message)
        ? `the API server cannot reach the kubelet to read logs: ${e.message}; logs not shown while it cannot (retrying)`
        : `reading a log failed: ${e.message}; retrying`
      this.#note('kubelet', msg)
      return false
    }
    this.#line(c, step.restart, `--- log not shown: ${e.message} ---`)
    return true
  }

  /** Waits for news of the container (a snapshot that changed it, finish, close), at most ms. */
  async #news(c: Container, ms?: number): Promise<void> {
    const w = this.#newsWaiter(c, ms)
    await w.seen
    w.stop()
  }

  /** The worker's one waiter for news: no timer or wake hook outlives stop(). */
  #newsWaiter(c: Container, ms?: number): { seen: Promise<void>; stop: () => void } {
    if (this.#closed) return { seen: Promise.resolve(), stop: () => undefined }
    let timer: NodeJS.Timeout | undefined
    let wake!: () => void
    const seen = new Promise<void>((resolve) => (wake = resolve))
    c.wake = wake
    if (ms !== undefined) timer = setTimeout(wake, Math.max(0, ms))
    return {
      seen,
      stop: () => {
        clearTimeout(timer)
        if (c.wake === wake) c.wake = undefined
      }
    }
  }

  #backoff(failures: number): number {
    const [first, cap] = this.#o.backoffMs
    const ms = Math.min(cap, first * 2 ** Math.min(failures - 1, 10))
    return ms * (0.8 + Math.random() * 0.4)
  }

  #instance(c: Container, restart: number): Instance {
    let inst = c.instances.get(restart)
    if (!inst) {
      inst = { restart, resume: new LogResume(), tail: [], marked: false }
      c.instances.set(restart, inst)
      // Only the current instance and the one before it can still be asked for.
      for (const k of c.instances.keys()) if (k < restart - 1) c.instances.delete(k)
    }
    return inst
  }

  /** One request for one instance: its lines to the log as they come. */
  async #read(c: Container, step: ReadStep): Promise<ReadEnd> {
    const { restart, previous, follow } = step
    const inst = this.#instance(c, restart)
    inst.resume.reconnect()
    // Lines of it were shown: the new stream must replay the last of them, or it is another instance's log.
    let unproven = !step.trust && inst.resume.position !== undefined
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
      if (!unproven && !inst.marked && restart > 0)
        this.#line(c, restart, `--- restart ${restart}: the container's instance ${restart + 1} ---`)
      if (!unproven) inst.marked = true
      const stream = (await resp.body.stream()) as ReadableStream<Uint8Array> | null | undefined
      if (!stream) return unproven ? { kind: 'foreign' } : { kind: 'ended' }
      const reader = stream.getReader()
      const decoder = new TextDecoder()
      const splitter = new LineSplitter()
      const prefix = this.#prefix(c, restart)
      /** false: the stream is another instance's */
      const emit = (raw: string[]): boolean => {
        const shown: string[] = []
        for (const l of raw) {
          if (unproven) {
            const replay = inst.resume.replays(l)
            if (replay === false) return false
            if (replay === true) unproven = false
          }
          const text = inst.resume.accept(l)
          if (text === undefined) continue
          shown.push(prefix + text)
          this.#keep(inst, text)
        }
        if (shown.length) this.#o.write(shown)
        return true
      }
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          if (!emit(splitter.push(decoder.decode(value, { stream: true })))) return { kind: 'foreign' }
        }
        const rest = splitter.push(decoder.decode())
        const last = splitter.end()
        if (!emit(last === undefined ? rest : [...rest, last])) return { kind: 'foreign' }
        // The same log holds at least the line it must replay.
        return unproven ? { kind: 'foreign' } : { kind: 'ended' }
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

  /** Says it once, and keeps it for the report. */
  #note(kind: string, message: string): void {
    this.#say(kind, message)
    if (!this.notes.includes(message)) this.notes.push(message)
  }
}

/** The container's status shows an instance that started (running, ended, or restarted). */
function started(c: ContainerInfo): boolean {
  return c.state === 'running' || c.state === 'terminated' || c.restartCount > 0 || c.startedAt !== undefined
}
