// LIST, then WATCH from the list's resourceVersion, as client-go's reflector
// does: re-watch from the last version seen after a clean close or a stall,
// list again after 410 Gone or an error, back off with jitter and honour
// Retry-After. It stops for good only on an error that retrying cannot mend.
import { KubeError } from '../kube/errors.js'
import type { KubeHttp, Query } from '../kube/http.js'
import { watchStream, type WatchEvent } from '../kube/watch.js'
import { Backoff, sleep } from './backoff.js'

export interface ListWatchHandlers {
  onList(items: any[]): void
  onEvent(e: WatchEvent): void
  /** A fault that will be retried: for progress and debug lines. */
  onRetry(err: KubeError, delayMs: number): void
}

export interface ListWatchOptions {
  http: KubeHttp
  /** collection path, e.g. /api/v1/namespaces/ns/pods */
  path: string
  query: Query
  /** "jobs", "pods": for messages */
  resource: string
  idleTimeoutMs: number
  backoff: Backoff
  signal: AbortSignal
}

/** Thrown when the credentials may list but not watch: the caller polls instead. */
export class WatchForbidden extends Error {
  constructor(readonly cause: KubeError) {
    super(cause.message)
  }
}

export async function listWatch(o: ListWatchOptions, h: ListWatchHandlers): Promise<void> {
  while (!o.signal.aborted) {
    let list: { items: unknown[]; resourceVersion: string }
    try {
      list = await o.http.listAll(o.path, o.query, `list ${o.resource}`)
    } catch (err) {
      const e = err as KubeError
      if (!(e instanceof KubeError) || !e.transient) throw err
      const delay = o.backoff.next(e.retryAfterMs)
      h.onRetry(e, delay)
      await sleep(delay, o.signal)
      continue
    }
    if (o.signal.aborted) return
    h.onList(list.items) // a throw here is a bug: it ends the wait with its message
    let rv = list.resourceVersion

    // Watch until the server says the version is too old or a fault needs a fresh list.
    for (;;) {
      let expired = false
      let errorEvent: KubeError | undefined
      let events = 0
      // A throw in a handler is a bug of ours, not a network fault: stop the stream and let it through.
      let bug: unknown
      const stream = new AbortController()
      const stopStream = () => stream.abort()
      o.signal.addEventListener('abort', stopStream, { once: true })
      const opened = Date.now()
      const end = await watchStream(
        o.http,
        o.path,
        // No timeoutSeconds: the server ends a watch after --min-request-timeout
        // (30 to 60 min by default) and a clean close costs one re-watch; a
        // stall is noticed by the idle timer, which bookmarks (every minute) keep quiet.
        { ...o.query, resourceVersion: rv, allowWatchBookmarks: true },
        `watch ${o.resource}`,
        (e) => {
          if (bug !== undefined) return
          events++
          if (e.type === 'ERROR') {
            const st = e.object as { code?: number; reason?: string; message?: string }
            if (st?.code === 410 || st?.reason === 'Expired' || st?.reason === 'Gone') expired = true
            else
              errorEvent = new KubeError(`watch ${o.resource}: ${st?.message ?? 'error event'}`, {
                code: st?.code,
                reason: st?.reason,
                transient: true
              })
            return
          }
          const v = e.object?.metadata?.resourceVersion
          if (v) rv = v
          if (e.type === 'BOOKMARK') return
          try {
            h.onEvent(e)
          } catch (err) {
            bug = err
            stream.abort()
          }
        },
        { idleTimeoutMs: o.idleTimeoutMs, signal: stream.signal }
      )
      o.signal.removeEventListener('abort', stopStream)
      if (bug !== undefined) throw bug
      if (end.kind === 'aborted') return
      if (expired) break
      if (errorEvent) {
        const delay = o.backoff.next()
        h.onRetry(errorEvent, delay)
        await sleep(delay, o.signal)
        break
      }
      if (end.kind === 'closed') {
        // As client-go: a watch that closed within a second without an event is a fault, retried after a backoff.
        if (events === 0 && Date.now() - opened < 1000) {
          const delay = o.backoff.next()
          h.onRetry(new KubeError(`watch ${o.resource}: closed at once by the server`, { transient: true, reason: 'WatchClosed' }), delay)
          await sleep(delay, o.signal)
        }
        continue
      }
      if (end.kind === 'stalled') {
        h.onRetry(
          new KubeError(`watch ${o.resource}: no data for ${Math.round(o.idleTimeoutMs / 1000)}s, reconnecting`, {
            transient: true,
            reason: 'Stalled'
          }),
          0
        )
        continue
      }
      const e = end.error
      if (e.code === 410) break
      if (e.code === 403) throw new WatchForbidden(e)
      if (!e.transient) throw e
      const delay = o.backoff.next(e.retryAfterMs)
      h.onRetry(e, delay)
      await sleep(delay, o.signal)
      break
    }
  }
}
