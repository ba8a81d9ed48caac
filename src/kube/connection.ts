// The connection to the API server, on Node's own http2, tls and http: one
// TLS connection offering h2 and http/1.1 by ALPN. When the server picks h2
// (kube-apiserver does), every request and watch is a stream of that one
// session, which a PING checks; when it picks http/1.1, requests go over
// kept-alive connections of one agent. A plain http:// server gets the agent
// alone. Proxies (proxy.ts) sit under either: the TLS to the server runs
// inside the tunnel.
import * as http from 'node:http'
import * as http2 from 'node:http2'
import * as net from 'node:net'
import * as tls from 'node:tls'
import { Readable, type Duplex } from 'node:stream'
import { tunnel, type Proxy } from './proxy.js'

/** What the kubeconfig says about TLS; a change means a new Connection. */
export type TlsOptions = Pick<tls.ConnectionOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>

export interface Exchange {
  method: string
  /** Path and query. */
  path: string
  headers: Record<string, string>
  body?: string
  signal: AbortSignal
}

export interface Answer {
  status: number
  headers: Record<string, string>
  body: Readable
}

/** The error that ends a session whose PING went unanswered: transient, as a reset. */
const pingTimeout = (ms: number) =>
  Object.assign(new Error(`no answer to an HTTP/2 PING within ${ms} ms: the connection is taken as dead`), { code: 'ETIMEDOUT' })

const abortReason = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : Object.assign(new Error('the request was aborted'), { name: 'AbortError' })

export class Connection {
  private readonly host: string
  private readonly port: number
  private session?: http2.ClientHttp2Session
  private opening?: Promise<void>
  /** Set once the server answered ALPN with http/1.1 (or the server is plain http). */
  private h1 = false
  /** The first TLS socket, when it negotiated http/1.1: the agent's first connection. */
  private spare?: tls.TLSSocket
  private agent?: http.Agent

  constructor(
    readonly server: URL,
    readonly tlsOptions: TlsOptions,
    private readonly proxy: Proxy | undefined,
    private readonly o: { pingIntervalMs: number; connectTimeoutMs: number }
  ) {
    this.host = server.hostname.replace(/^\[(.*)\]$/, '$1')
    this.port = Number(server.port || (server.protocol === 'https:' ? 443 : 80))
    this.h1 = server.protocol === 'http:'
  }

  async request(x: Exchange): Promise<Answer> {
    if (x.signal.aborted) throw abortReason(x.signal)
    if (!this.h1) {
      const session = await untilAborted(this.h2Session(), x.signal)
      if (session) return this.h2Request(session, x)
    }
    return this.h1Request(x)
  }

  /** Ends the connections; in-flight requests fail. */
  destroy(): void {
    this.session?.destroy()
    this.session = undefined
    this.spare?.destroy()
    this.agent?.destroy()
  }

  /** No new request here; those in flight end on their own (a watch keeps its stream). */
  retire(): void {
    this.session?.close()
    this.spare?.destroy()
    // the agent's kept-alive sockets are unref'd; destroy() ends them with the run
  }

  // ---- HTTP/2

  private async h2Session(): Promise<http2.ClientHttp2Session | undefined> {
    const s = this.session
    if (s && !s.closed && !s.destroyed) return s
    this.opening ??= this.open().finally(() => (this.opening = undefined))
    await this.opening
    return this.h1 ? undefined : this.session
  }

  private async open(): Promise<void> {
    const socket = await this.connectTls(['h2', 'http/1.1'])
    if (socket.alpnProtocol !== 'h2') {
      this.h1 = true
      this.spare = socket
      return
    }
    const session = http2.connect(this.server.origin, { createConnection: () => socket })
    this.session = session
    this.active.set(session, 0)
    session.unref()
    // errors reach the streams, which is where callers see them
    session.on('error', () => undefined)
    const forget = () => {
      if (this.session === session) this.session = undefined
    }
    session.once('goaway', forget)
    let unanswered = false
    const timer = setInterval(() => {
      if (unanswered) return session.destroy(pingTimeout(this.o.pingIntervalMs))
      unanswered = true
      session.ping((err) => {
        if (!err) unanswered = false
      })
    }, this.o.pingIntervalMs).unref()
    session.once('close', () => {
      clearInterval(timer)
      forget()
    })
  }

  /** Streams open per session: a session is held open (ref'd) only while one is, so an idle one does not keep the process alive. */
  private readonly active = new WeakMap<http2.ClientHttp2Session, number>()

  private track(session: http2.ClientHttp2Session, d: 1 | -1): void {
    const n = (this.active.get(session) ?? 0) + d
    this.active.set(session, n)
    if (session.destroyed) return
    if (n === 1 && d === 1) session.ref()
    if (n === 0) session.unref()
  }

  private h2Request(session: http2.ClientHttp2Session, x: Exchange): Promise<Answer> {
    const headers: http2.OutgoingHttpHeaders = { ':method': x.method, ':path': x.path }
    for (const [k, v] of Object.entries(x.headers)) headers[k.toLowerCase()] = v
    const stream = session.request(headers, { endStream: x.body === undefined })
    this.track(session, 1)
    if (x.body !== undefined) stream.end(x.body)
    stream.on('error', () => undefined) // seen by whoever reads the body
    const abort = () => stream.destroy(abortReason(x.signal))
    x.signal.addEventListener('abort', abort, { once: true })
    stream.once('close', () => {
      x.signal.removeEventListener('abort', abort)
      this.track(session, -1)
    })
    return new Promise<Answer>((resolve, reject) => {
      stream.once('error', reject)
      // a stream closed with its session before any answer emits no error of its own
      const lost = () => reject(streamReset(stream.rstCode))
      stream.once('close', lost)
      stream.once('response', (h) => {
        stream.off('error', reject)
        stream.off('close', lost)
        const out: Record<string, string> = {}
        for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = String(v)
        resolve({ status: Number(h[':status']), headers: out, body: endedByServer(stream) })
      })
    })
  }

  // ---- HTTP/1.1

  private h1Request(x: Exchange): Promise<Answer> {
    this.agent ??= new ConnectionAgent(() => this.h1Socket())
    const req = http.request({ host: this.host, port: this.port, method: x.method, path: x.path, headers: x.headers, agent: this.agent })
    let res: http.IncomingMessage | undefined
    const abort = () => {
      const reason = abortReason(x.signal)
      res?.destroy(reason)
      req.destroy(reason)
    }
    x.signal.addEventListener('abort', abort, { once: true })
    req.once('close', () => {
      if (!res) x.signal.removeEventListener('abort', abort)
    })
    req.end(x.body)
    return new Promise<Answer>((resolve, reject) => {
      req.once('error', reject)
      req.once('response', (r: http.IncomingMessage) => {
        res = r
        r.on('error', () => undefined) // seen by whoever reads the body
        r.once('close', () => x.signal.removeEventListener('abort', abort))
        const out: Record<string, string> = {}
        for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) out[k] = String(v)
        resolve({ status: r.statusCode ?? 0, headers: out, body: r })
      })
    })
  }

  private async h1Socket(): Promise<Duplex> {
    const spare = this.spare
    this.spare = undefined
    if (spare && !spare.destroyed) return spare
    if (this.server.protocol === 'https:') return this.connectTls(['http/1.1'])
    const socket = this.proxy ? await tunnel(this.proxy, this.host, this.port, AbortSignal.timeout(this.o.connectTimeoutMs)) : undefined
    if (socket) return socket
    const s = net.connect({ host: this.host, port: this.port })
    s.setKeepAlive(true, 30_000)
    return s
  }

  // ---- TLS

  /** A TLS connection to the server (through the proxy if any), once the handshake is done. */
  private async connectTls(alpn: string[]): Promise<tls.TLSSocket> {
    const raw = this.proxy ? await tunnel(this.proxy, this.host, this.port, AbortSignal.timeout(this.o.connectTimeoutMs)) : undefined
    const socket = tls.connect({
      ...(raw ? { socket: raw } : { port: this.port }),
      host: this.host,
      ...(net.isIP(this.host) ? {} : { servername: this.host }),
      ...this.tlsOptions,
      ALPNProtocols: alpn
    })
    socket.setKeepAlive(true, 30_000)
    return new Promise<tls.TLSSocket>((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timer)
        socket.destroy()
        reject(err)
      }
      const timer = setTimeout(
        () => fail(Object.assign(new Error(`no TLS handshake within ${this.o.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })),
        this.o.connectTimeoutMs
      )
      socket.once('error', fail)
      socket.once('secureConnect', () => {
        clearTimeout(timer)
        socket.off('error', fail)
        resolve(socket)
      })
    })
  }
}

/** An agent whose connections come from the Connection: through the proxy, TLS with its options. */
class ConnectionAgent extends http.Agent {
  constructor(private readonly connect: () => Promise<Duplex>) {
    super({ keepAlive: true, keepAliveMsecs: 30_000 })
  }

  override createConnection(_o: unknown, callback?: (err: Error | null, socket: Duplex) => void): undefined {
    this.connect().then(
      (s) => callback?.(null, s),
      (err: Error) => callback?.(err, undefined as unknown as Duplex)
    )
    return undefined
  }
}

const streamReset = (code: number | undefined) =>
  Object.assign(new Error(`the HTTP/2 stream was reset (code ${code ?? 'none'}): the connection was lost`), { code: 'ECONNRESET' })

/**
 * The body of an HTTP/2 stream, which ends only when the server ended it: a
 * stream cut with its session (a reset connection) ends its Readable as if it
 * were complete, with a non-zero RST code, and a watch cut so would look
 * closed by the server and resume where a LIST is due.
 */
function endedByServer(stream: http2.ClientHttp2Stream): Readable {
  let ended = false
  const body = new Readable({
    read: () => void stream.resume(),
    destroy: (err, callback) => {
      if (!stream.destroyed) stream.destroy(err ?? undefined)
      callback(err)
    }
  })
  stream.on('data', (chunk: Buffer) => {
    if (!body.push(chunk)) stream.pause()
  })
  stream.once('end', () => {
    if (stream.rstCode) return void body.destroy(streamReset(stream.rstCode))
    ended = true
    body.push(null)
  })
  stream.once('error', (err) => body.destroy(err))
  stream.once('close', () => {
    if (!ended && !body.destroyed) body.destroy(streamReset(stream.rstCode))
  })
  return body
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(abortReason(signal))
    signal.addEventListener('abort', abort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}
