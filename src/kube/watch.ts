// One WATCH request, streamed: newline-delimited JSON events. client-node's
// Watch aborts after 30 s without a byte (longer than the API server's
// bookmark interval) and drops the Status body of a refused watch, so the
// stream is read here, over client-node's transport and authentication.
import { KubeError, networkError } from './errors.js'
import type { KubeHttp, Query } from './http.js'

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

  object: any
}

/** How a watch ended: the server closed it, it went silent, it failed, or we stopped it. */
export type WatchEnd = { kind: 'closed' } | { kind: 'stalled' } | { kind: 'error'; error: KubeError } | { kind: 'aborted' }

export interface WatchOptions {
  /** No byte for this long (not even a bookmark): the connection is taken as dead. */
  idleTimeoutMs: number
  signal: AbortSignal
}

export async function watchStream(
  http: KubeHttp,
  path: string,
  query: Query,
  what: string,
  onEvent: (e: WatchEvent) => void,
  o: WatchOptions
): Promise<WatchEnd> {
  if (o.signal.aborted) return { kind: 'aborted' }
  const controller = new AbortController()
  let stalled = false
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      stalled = true
      controller.abort()
    }, o.idleTimeoutMs)
  }
  const stop = () => controller.abort()
  o.signal.addEventListener('abort', stop, { once: true })
  const ended = (): WatchEnd | undefined => (o.signal.aborted ? { kind: 'aborted' } : stalled ? { kind: 'stalled' } : undefined)
  try {
    arm()
    let resp
    try {
      resp = await http.send(path, { ...query, watch: 'true' }, what, controller.signal)
    } catch (err) {
      return ended() ?? { kind: 'error', error: err as KubeError }
    }
    if (resp.httpStatusCode !== 200) {
      const text = await resp.body.text().catch(() => '')
      return ended() ?? { kind: 'error', error: http.refused(resp.httpStatusCode, text, resp.headers, what) }
    }
    arm()
    const stream = (await resp.body.stream()) as ReadableStream<Uint8Array> | undefined
    if (!stream) return { kind: 'closed' }
    const reader = stream.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        arm()
        buffer += decoder.decode(value, { stream: true })
        let nl: number
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim()
          buffer = buffer.slice(nl + 1)
          if (!line) continue
          let event: WatchEvent
          try {
            event = JSON.parse(line) as WatchEvent
          } catch {
            return { kind: 'error', error: new KubeError(`${what}: the watch sent a line that is not JSON`, { transient: true }) }
          }
          onEvent(event)
        }
      }
    } catch (err) {
      return ended() ?? { kind: 'error', error: networkError(err, http.server, what) }
    } finally {
      reader.releaseLock()
    }
    return ended() ?? { kind: 'closed' }
  } finally {
    clearTimeout(timer)
    o.signal.removeEventListener('abort', stop)
    controller.abort()
  }
}
