// WATCH: the open streams, what each one is sent (the events of the state's
// changes that its selectors see, replayed from its resourceVersion; bookmarks;
// the close after timeoutSeconds), and the faults that reach open streams
// (clean closes, resets, expiry, stalls).

import type { IncomingMessage, ServerResponse } from 'node:http'
import { send, type Route } from './request.js'
import { parseBool, parseRv, statusObject, tooLargeStatus, type ResourceDef } from './resources.js'
import { parseFieldSelector, parseLabelSelector, type FieldRequirement, type LabelRequirement } from './selectors.js'
import type { ApiState, HistoryEntry } from './state.js'
import type { KubeObject, RequestRecord, WatchEventType, WatchInfo } from './types.js'

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

export class Watches {
  private readonly conns = new Set<WatchConn>()
  private stallNew = false
  private bookmarkTimer?: NodeJS.Timeout
  private expiredWatchMode: 'http' | 'event'
  private readonly defaultWatchTimeoutSeconds?: number

  constructor(
    private readonly state: ApiState,
    /** Called when a request was answered or a watch registered (the test's waiters check again). */
    private readonly notify: () => void,
    opts: { expiredWatch?: 'http' | 'event'; defaultWatchTimeoutSeconds?: number; bookmarkIntervalMs?: number }
  ) {
    this.expiredWatchMode = opts.expiredWatch ?? 'http'
    this.defaultWatchTimeoutSeconds = opts.defaultWatchTimeoutSeconds
    state.onCommit = (entry) => this.fanOut(entry)
    if (opts.bookmarkIntervalMs) this.setBookmarkInterval(opts.bookmarkIntervalMs)
  }

  info(): WatchInfo[] {
    return [...this.conns].map((w) => this.infoOf(w))
  }

  private infoOf(w: WatchConn): WatchInfo {
    return {
      id: w.id,
      user: w.user,
      resource: w.def.resource,
      namespace: w.namespace,
      labelSelector: w.labelSelector,
      fieldSelector: w.fieldSelector,
      resourceVersion: w.resourceVersion,
      allowWatchBookmarks: w.bookmarks,
      stalled: w.stalled
    }
  }

  /** Writes an event as given to every open (not stalled) watch that `pick` selects; returns how many. */
  inject(pick: (w: WatchInfo) => boolean, type: WatchEventType, object: unknown): number {
    let n = 0
    for (const w of this.conns) {
      if (w.stalled || !pick(this.infoOf(w))) continue
      this.writeEvent(w, type, object as KubeObject)
      n++
    }
    return n
  }

  /** Sends a stored change to every open (not stalled) watch whose selectors see it. */
  private fanOut(entry: HistoryEntry): void {
    for (const w of this.conns) {
      if (w.stalled || w.def.resource !== entry.resource) continue
      if (w.namespace && w.namespace !== entry.namespace) continue
      const ev = this.state.toWatchEvent(w, entry)
      if (ev) this.writeEvent(w, ev.type, ev.object)
    }
  }

  /** Answers a WATCH request: the initial or replayed events, then every change until it ends. */
  serve(
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
      initial = this.state.select(def, namespace, labels, fields).map((o) => ({ type: 'ADDED', object: o }))
    } else {
      const n = parseRv(rvParam)
      if (n === undefined) {
        this.send(res, rec, 400, statusObject(400, 'BadRequest', `invalid resource version: ${rvParam}`), headers)
        return
      }
      if (n < this.state.compactedRv) {
        const expired = statusObject(410, 'Expired', `too old resource version: ${n} (${this.state.compactedRv})`)
        if (this.expiredWatchMode === 'http') {
          this.send(res, rec, 410, expired, headers)
          return
        }
        errorStatus = expired
      } else if (n > this.state.rv) {
        errorStatus = tooLargeStatus(n, this.state.rv)
      } else {
        const w = { def, labels, fields }
        for (const e of this.state.history) {
          if (e.rv <= n || e.resource !== def.resource || (namespace && e.namespace !== namespace)) continue
          const ev = this.state.toWatchEvent(w, e)
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
      this.notify()
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
    this.conns.add(conn)
    const cleanup = (): void => this.forget(conn)
    // 'close' fires when the stream ends or the client goes away.
    res.on('close', cleanup)

    if (!conn.stalled) {
      for (const ev of initial) this.writeEvent(conn, ev.type, ev.object)
      if (sendInitial && bookmarks) {
        this.writeBookmark(conn, { 'k8s.io/initial-events-end': 'true' })
      }
      const timeout = query.timeoutSeconds !== undefined ? Number(query.timeoutSeconds) : this.defaultWatchTimeoutSeconds
      if (timeout !== undefined && Number.isFinite(timeout) && timeout > 0) {
        conn.timer = setTimeout(() => this.end(conn), timeout * 1000)
        conn.timer.unref()
      }
    }
    this.notify()
  }

  /** Sends a BOOKMARK (current resourceVersion) to every open watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.conns) if (w.bookmarks && !w.stalled) this.writeBookmark(w)
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
  closeAll(): void {
    for (const w of [...this.conns]) if (!w.stalled) this.end(w)
  }

  /** Destroys the sockets of every open watch (including stalled ones) mid-stream. */
  resetAll(): void {
    for (const w of [...this.conns]) {
      this.forget(w)
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
  expireAll(opts: { asEvent?: boolean } = {}): void {
    this.state.compact()
    for (const w of [...this.conns]) {
      if (w.stalled) continue
      if (opts.asEvent ?? true) {
        this.writeEvent(w, 'ERROR', statusObject(410, 'Expired', 'The resourceVersion for the provided watch is too old.'))
      }
      this.end(w)
    }
  }

  /** Switches how a watch from a too-old resourceVersion is refused. */
  setExpiredWatchMode(mode: 'http' | 'event'): void {
    this.expiredWatchMode = mode
  }

  /**
   * Freezes every open watch (nothing more is sent, not even bookmarks or
   * the timeoutSeconds close) and makes new watches send their headers and
   * then nothing, like a frozen proxy. Returns a function that stops
   * stalling new watches; frozen ones stay frozen until resetWatches()/stop().
   */
  stall(opts: { existing?: boolean; future?: boolean } = {}): () => void {
    if (opts.existing ?? true) {
      for (const w of this.conns) {
        w.stalled = true
        if (w.timer) clearTimeout(w.timer)
      }
    }
    if (opts.future ?? true) this.stallNew = true
    return () => {
      this.stallNew = false
    }
  }

  /** Stops the bookmarks and forgets every watch (the server is stopping). */
  stop(): void {
    this.setBookmarkInterval(null)
    for (const w of this.conns) this.forget(w)
  }

  /** New watches are no longer stalled (a fault rule was lifted). */
  unstallNew(): void {
    this.stallNew = false
  }

  private send(res: ServerResponse, rec: RequestRecord, code: number, body: KubeObject | string, headers: Record<string, string>): void {
    send(res, rec, code, body, headers)
    this.notify()
  }

  private writeEvent(w: WatchConn, type: WatchEventType, object: KubeObject): void {
    if (w.closed || w.res.writableEnded || w.res.destroyed) return
    w.res.write(JSON.stringify({ type, object }) + '\n')
  }

  private writeBookmark(w: WatchConn, annotations?: Record<string, string>): void {
    // What the cacher sends: an empty object of the kind with only the resourceVersion set.
    const metadata: KubeObject = { resourceVersion: String(this.state.rv), creationTimestamp: null }
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

  private end(w: WatchConn): void {
    this.forget(w)
    if (!w.res.writableEnded && !w.res.destroyed) w.res.end()
  }

  forget(w: WatchConn): void {
    w.closed = true
    if (w.timer) clearTimeout(w.timer)
    w.timer = undefined
    this.conns.delete(w)
  }
}
