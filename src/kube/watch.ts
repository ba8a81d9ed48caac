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
  // The idle rule without a timer per chunk: a byte only moves `lastByte`;
  // the one timer, when it fires early, re-arms for what is left.
  let lastByte = Date.now()
  let timer: NodeJS.Timeout | undefined
  const check = () => {
    const left = lastByte + o.idleTimeoutMs - Date.now()
    if (left > 0) {
      timer = setTimeout(check, left)
      return
    }
    stalled = true
    controller.abort()
  }
  const arm = () => {
    lastByte = Date.now()
    timer ??= setTimeout(check, o.idleTimeoutMs)
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
    const stream = resp.body.readable()
    if (!stream) return { kind: 'closed' }
    return await new Promise<WatchEnd>((resolve) => {
      let done = false
      const finish = (end: WatchEnd) => {
        if (done) return
        done = true
        stream.off('data', data)
        resolve(end)
      }
      const failed = (err: unknown) => finish(ended() ?? { kind: 'error', error: networkError(err, http.server, what) })
      // A line's bytes so far, when it spans chunks. "\n" is never inside a
      // UTF-8 sequence, so each whole line is decoded once, on its own.
      let partial: Buffer[] = []
      const data = (chunk: Buffer) => {
        arm()
        let from = 0
        let nl: number
        try {
          while (!done && (nl = chunk.indexOf(10, from)) >= 0) {
            let bytes = chunk.subarray(from, nl)
            from = nl + 1
            if (partial.length) {
              partial.push(bytes)
              bytes = Buffer.concat(partial)
              partial = []
            }
            const line = bytes.toString('utf8').trim()
            if (!line) continue
            let event: WatchEvent
            try {
              event = JSON.parse(line) as WatchEvent
            } catch {
              finish({ kind: 'error', error: new KubeError(`${what}: the watch sent a line that is not JSON`, { transient: true }) })
              return
            }
            onEvent(event)
          }
        } catch (err) {
          failed(err)
          return
        }
        if (!done && from < chunk.length) partial.push(chunk.subarray(from))
      }
      stream.on('data', data)
      stream.once('error', failed)
      stream.once('end', () => finish(ended() ?? { kind: 'closed' }))
      // Closed without an error or an end: our abort, or a connection lost
      // quietly (transient, as the web stream's premature close was).
      stream.once('close', () =>
        stream.readableEnded ? finish(ended() ?? { kind: 'closed' }) : failed(new Error('the response closed before its end'))
      )
    })
  } finally {
    clearTimeout(timer)
    o.signal.removeEventListener('abort', stop)
    controller.abort()
  }
}
