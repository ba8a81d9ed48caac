// Requests to the API server as raw JSON, over one connection for the whole
// run (connection.ts): @kubernetes/client-node gives the credentials (tokens,
// client certificates, exec plugins, CA data) and the proxy-url; its TLS
// options make one Connection that is kept until they change (an exec
// plugin's new client certificate). Against kube-apiserver every request and
// watch is a stream of one HTTP/2 connection. One path for lists, gets,
// watches and logs, so that every error is turned into a KubeError the same
// way.
import type { RequestOptions } from 'node:https'
import { Readable, pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { Connection, type TlsOptions } from './connection.js'
import { KubeError, httpError, networkError } from './errors.js'
import { KubeConfig } from './kubeconfig.js'
import { ProxyError, proxyFor } from './proxy.js'

export type Query = Record<string, string | number | boolean | undefined>

/** A response, shaped as client-node's ResponseContext. */
export interface KubeResponse {
  httpStatusCode: number
  headers: Record<string, string>
  body: {
    text(): Promise<string>
    binary(): Promise<Buffer>
    stream(): ReadableStream<Uint8Array> | null
    /** The body as Node's stream: what a long watch reads, without a web stream's per-chunk promises. */
    readable(): Readable | null
  }
}

/** Items per LIST page (client-go's pager uses 500). */
export const LIST_PAGE = 500

/**
 * HTTP/2 PING every this often on the shared connection. The connection is
 * reset when a PING is still unanswered at the next one, so a connection
 * that went silent (a frozen proxy or load balancer: open, no byte) fails its
 * watches 15 to 30 s after the freeze, and they are opened again on a new one,
 * with no API request spent. client-go: 30 s idle, then 15 s for the answer.
 * HTTP/1.1 has no PING: the watch's
 * own silence rule (idleTimeoutMs) bounds a stall there.
 */
export const PING_INTERVAL_MS = 15_000

/**
 * Where each request's credentials come from. After a 401 the request is sent
 * once more with fresh credentials when there are any (an exec plugin run
 * again, a token file read again), as client-go refreshes on a 401.
 */
export interface Authentication {
  /** The kubeconfig: its cluster (server, CA, proxy) for the connection. */
  readonly kc: KubeConfig
  /** Sets one request's TLS options and headers; may run an exec plugin or read a file. */
  apply(opts: RequestOptions): Promise<void>
  /** After a 401: true when fresh credentials were obtained, worth one more attempt. */
  refresh(): Promise<boolean>
  /** For a 401 that the refresh did not mend: where the credentials came from and what to do. */
  unauthorized(): string
}

/** A kubeconfig's credentials as client-node applies them, with nothing to refresh. */
export function kubeconfigAuthentication(kc: KubeConfig): Authentication {
  return {
    kc,
    apply: (opts) => kc.applyToHTTPSOptions(opts),
    refresh: async () => false,
    unauthorized: () => 'the token or certificate is wrong or expired'
  }
}

/** Fresh starts of a paged LIST whose continue token expired, before giving up. */
const MAX_LIST_RESTARTS = 3

const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const

const sameValue = (a: unknown, b: unknown): boolean =>
  Buffer.isBuffer(a) && Buffer.isBuffer(b)
    ? a.equals(b)
    : Array.isArray(a) && Array.isArray(b)
      ? a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
      : a === b

export class KubeHttp {
  readonly server: string
  /** Counts every request made, for the report and for tests. */
  requests = 0
  private connection?: Connection
  /** Connections left when the TLS options changed: their requests end there; closed with the run. */
  private readonly retired: Connection[] = []
  private readonly auth: Authentication
  /** Counts credential refreshes: a 401 to a request sent before the last one needs no new refresh. */
  private refreshes = 0
  private refreshing?: Promise<boolean>

  constructor(
    auth: KubeConfig | Authentication,
    private readonly userAgent: string,
    private readonly requestTimeoutMs: number,
    private readonly o: { pingIntervalMs?: number } = {}
  ) {
    this.auth = auth instanceof KubeConfig ? kubeconfigAuthentication(auth) : auth
    const cluster = this.auth.kc.getCurrentCluster()
    if (!cluster) throw new Error('no current cluster in the kubeconfig')
    this.server = cluster.server.replace(/\/+$/, '')
  }

  url(path: string, query: Query = {}): string {
    const u = new URL(this.server + path)
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v))
    return u.toString()
  }

  /** Sends a GET; resolves with the response whatever its status; network faults become KubeError. */
  async send(path: string, query: Query, what: string, signal?: AbortSignal, accept = 'application/json'): Promise<KubeResponse> {
    return this.request('GET', path, query, what, signal, accept)
  }

  /**
   * Any method, with an optional JSON body; resolves with the response
   * whatever its status. A 401 is answered by one refresh of the credentials
   * and one more attempt; a 401 after that is the caller's (see httpError).
   */
  private async request(
    method: 'GET' | 'DELETE' | 'POST',
    path: string,
    query: Query,
    what: string,
    signal?: AbortSignal,
    accept = 'application/json',
    body?: unknown
  ): Promise<KubeResponse> {
    const sentAfter = this.refreshes
    const resp = await this.attempt(method, path, query, what, signal, accept, body)
    if (resp.httpStatusCode !== 401) return resp
    const refusal = await resp.body.binary().catch(() => Buffer.alloc(0))
    if (await this.freshCredentials(sentAfter)) return this.attempt(method, path, query, what, signal, accept, body)
    return {
      ...resp,
      body: { text: async () => refusal.toString('utf8'), binary: async () => refusal, stream: () => null, readable: () => null }
    }
  }

  /**
   * One refresh for the 401s of every request sent with the same credentials:
   * a watch and a list refused together run the exec plugin once.
   */
  private async freshCredentials(sentAfter: number): Promise<boolean> {
    if (this.refreshes !== sentAfter) return true
    if (!this.refreshing) {
      this.refreshing = this.auth
        .refresh()
        .catch(() => false)
        .then((fresh) => {
          if (fresh) this.refreshes++
          this.refreshing = undefined
          return fresh
        })
    }
    return this.refreshing
  }

  /** A non-2xx answer as a KubeError: a 401 says where the credentials came from. */
  refused(status: number, bodyText: string | undefined, headers: Record<string, string>, what: string): KubeError {
    return httpError(status, bodyText, headers, what, this.auth.unauthorized())
  }

  private async attempt(
    method: 'GET' | 'DELETE' | 'POST',
    path: string,
    query: Query,
    what: string,
    signal: AbortSignal | undefined,
    accept: string,
    body: unknown
  ): Promise<KubeResponse> {
    const opts: RequestOptions = {}
    let connection: Connection
    try {
      // Runs an exec plugin when its credential has expired; reads token and certificate files.
      await this.auth.apply(opts)
      connection = this.connectionFor(opts)
    } catch (err) {
      if (err instanceof ProxyError) throw new KubeError(`${what}: ${err.message}`, err.o)
      const text = (err as Error).message?.split('\n')[0] ?? String(err)
      if (/HTTP protocol is not allowed/i.test(text)) {
        throw new KubeError(
          `${what}: the server URL ${this.server} is plain http: allowed only when the kubeconfig's cluster sets insecure-skip-tls-verify: true`,
          { transient: false }
        )
      }
      throw new KubeError(`${what}: could not get credentials from the kubeconfig: ${text}`, { transient: false })
    }
    const headers: Record<string, string> = { Accept: accept, 'User-Agent': this.userAgent }
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v)
    // as client-node: a token (or an exec plugin's) wins over basic auth
    if (opts.auth && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization'))
      headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`
    headers['Accept-Encoding'] = 'gzip'
    const json = body === undefined ? undefined : JSON.stringify(body)
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json'
      // node:http frames no body of a DELETE (no chunked encoding for it) unless it has a length
      headers['Content-Length'] = String(Buffer.byteLength(json))
    }
    this.requests++
    const u = new URL(this.url(path, query))
    try {
      const resp = await connection.request({
        path: u.pathname + u.search,
        method,
        headers,
        ...(json !== undefined ? { body: json } : {}),
        signal: signal ?? AbortSignal.timeout(this.requestTimeoutMs)
      })
      const respHeaders = resp.headers
      this.noteServerDate(respHeaders['date'])
      // Large lists come gzipped from kube-apiserver (APIResponseCompression), as they did through fetch.
      const stream: Readable = respHeaders['content-encoding'] === 'gzip' ? pipeline(resp.body, createGunzip(), () => undefined) : resp.body
      const binary = async (): Promise<Buffer> => {
        const chunks: Buffer[] = []
        for await (const chunk of stream) chunks.push(chunk as Buffer)
        return Buffer.concat(chunks)
      }
      return {
        httpStatusCode: resp.status,
        headers: respHeaders,
        body: {
          text: async () => (await binary()).toString('utf8'),
          binary,
          stream: () => Readable.toWeb(stream) as ReadableStream<Uint8Array>,
          readable: () => stream
        }
      }
    } catch (err) {
      if (err instanceof ProxyError) throw new KubeError(`${what}: ${err.message}`, err.o)
      throw networkError(err, this.server, what)
    }
  }

  /** The API server's clock minus ours, from the Date header of its first answer (second precision). */
  serverClockSkewMs = 0
  private skewKnown = false

  private noteServerDate(date: string | undefined): void {
    if (this.skewKnown) return
    const at = Date.parse(date ?? '')
    if (Number.isNaN(at)) return
    // The header has whole seconds: the server's time is within the second after it (the middle is
    // taken), and a skew under a second cannot be told from none.
    const skew = at + 500 - Date.now()
    this.serverClockSkewMs = Math.abs(skew) < 1000 ? 0 : skew
    this.skewKnown = true
  }

  /**
   * DELETE with a body (DeleteOptions); resolves with the HTTP status of a
   * 2xx or 404 answer, throws KubeError for the others.
   */
  async delete(path: string, body: unknown, what: string, signal?: AbortSignal): Promise<number> {
    const resp = await this.request('DELETE', path, {}, what, signal, 'application/json', body)
    let text: string
    try {
      text = await resp.body.text()
    } catch (err) {
      throw networkError(err, this.server, what)
    }
    if (resp.httpStatusCode === 404 || (resp.httpStatusCode >= 200 && resp.httpStatusCode <= 299)) return resp.httpStatusCode
    throw this.refused(resp.httpStatusCode, text, resp.headers, what)
  }

  /** POST a JSON body (a create, dryRun in the query); the parsed answer, or KubeError for a non-2xx one. */
  async post<T>(path: string, query: Query, body: unknown, what: string, signal?: AbortSignal): Promise<T> {
    const resp = await this.request('POST', path, query, what, signal, 'application/json', body)
    let text: string
    try {
      text = await resp.body.text()
    } catch (err) {
      throw networkError(err, this.server, what)
    }
    if (resp.httpStatusCode < 200 || resp.httpStatusCode > 299) throw this.refused(resp.httpStatusCode, text, resp.headers, what)
    try {
      return JSON.parse(text) as T
    } catch {
      throw new KubeError(`${what}: ${this.server} did not answer with JSON`, { transient: false, code: resp.httpStatusCode })
    }
  }

  /** Closes the connections (they are kept alive between requests). */
  async close(): Promise<void> {
    this.connection?.destroy()
    this.connection = undefined
    for (const c of this.retired.splice(0)) c.destroy()
  }

  /**
   * The run's connection, made again only when the TLS options change (CA,
   * client certificate and key, insecure-skip-tls-verify, tls-server-name).
   */
  private connectionFor(opts: RequestOptions): Connection {
    const tls: TlsOptions = {}
    for (const k of TLS_KEYS) if (opts[k] !== undefined) (tls as Record<string, unknown>)[k] = opts[k]
    const kept = this.connection
    if (kept && TLS_KEYS.every((k) => sameValue(kept.tlsOptions[k], tls[k]))) return kept
    const server = new URL(this.server)
    const proxy = proxyFor(server, this.auth.kc.getCurrentCluster()?.proxyUrl)
    const connection = new Connection(server, tls, proxy, {
      pingIntervalMs: this.o.pingIntervalMs ?? PING_INTERVAL_MS,
      connectTimeoutMs: this.requestTimeoutMs
    })
    if (kept) {
      kept.retire() // in-flight requests end on the old one
      this.retired.push(kept)
    }
    this.connection = connection
    return connection
  }

  /** GET and parse; non-2xx become KubeError with the Status message. */
  async getJSON<T>(path: string, query: Query, what: string): Promise<T> {
    const signal = AbortSignal.timeout(this.requestTimeoutMs)
    const resp = await this.send(path, query, what, signal)
    let text: string
    try {
      text = await resp.body.text()
    } catch (err) {
      throw networkError(err, this.server, what)
    }
    if (resp.httpStatusCode < 200 || resp.httpStatusCode > 299) throw this.refused(resp.httpStatusCode, text, resp.headers, what)
    try {
      return JSON.parse(text) as T
    } catch {
      throw new KubeError(`${what}: ${this.server} did not answer with JSON: is it a Kubernetes API server?`, {
        transient: false,
        code: resp.httpStatusCode
      })
    }
  }

  /**
   * LIST in pages of `limit` items, as client-go's pager does, so that a Job of
   * thousands of pods never has to be parsed as one huge response. A continue
   * token that expired between pages (410: etcd compacted past the first
   * page's resourceVersion) starts the paged LIST again from the first page,
   * never one unpaginated LIST; after MAX_LIST_RESTARTS fresh starts the 410
   * is the caller's. A 410 on the first page is the caller's at once.
   */
  async listAll<T>(path: string, query: Query, what: string, limit = LIST_PAGE): Promise<{ items: T[]; resourceVersion: string }> {
    for (let restarts = 0; ; restarts++) {
      const items: T[] = []
      let cont: string | undefined
      let resourceVersion = ''
      try {
        do {
          const page = await this.getJSON<{ metadata?: { resourceVersion?: string; continue?: string }; items?: T[] }>(
            path,
            { ...query, limit, continue: cont },
            what
          )
          for (const item of page.items ?? []) items.push(item)
          resourceVersion = page.metadata?.resourceVersion ?? resourceVersion
          cont = page.metadata?.continue || undefined
        } while (cont)
        return { items, resourceVersion }
      } catch (err) {
        const expiredToken = err instanceof KubeError && err.code === 410 && cont !== undefined
        if (!expiredToken || restarts >= MAX_LIST_RESTARTS) throw err
      }
    }
  }

  /** GET as text (logs). */
  async getText(path: string, query: Query, what: string): Promise<string> {
    const resp = await this.send(path, query, what, AbortSignal.timeout(this.requestTimeoutMs), 'text/plain, */*')
    const text = await resp.body.text().catch((err: unknown) => {
      throw networkError(err, this.server, what)
    })
    if (resp.httpStatusCode < 200 || resp.httpStatusCode > 299) throw this.refused(resp.httpStatusCode, text, resp.headers, what)
    return text
  }
}
