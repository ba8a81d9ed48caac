// Requests to the API server through @kubernetes/client-node's own transport
// and authentication (tokens, client certificates, exec plugins, CA data), as
// raw JSON. One path for lists, gets, watches and logs, so that every error is
// turned into a KubeError the same way.
import { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, type KubeConfig, type ResponseContext } from '@kubernetes/client-node'
import { KubeError, httpError, networkError } from './errors.js'

export type Query = Record<string, string | number | boolean | undefined>

/** Items per LIST page (client-go's pager uses 500). */
export const LIST_PAGE = 500

export class KubeHttp {
  readonly server: string
  private readonly transport = new IsomorphicFetchHttpLibrary()
  /** Counts every request made, for the report and for tests. */
  requests = 0
  /** The API server's clock minus ours, from the Date header of its first answer (second precision). */
  serverClockSkewMs = 0
  private skewKnown = false

  constructor(
    private readonly kc: KubeConfig,
    private readonly userAgent: string,
    private readonly requestTimeoutMs: number
  ) {
    const cluster = kc.getCurrentCluster()
    if (!cluster) throw new Error('no current cluster in the kubeconfig')
    this.server = cluster.server.replace(/\/+$/, '')
  }

  url(path: string, query: Query = {}): string {
    const u = new URL(this.server + path)
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v))
    return u.toString()
  }

  /** Sends a GET; resolves with the response whatever its status; network faults become KubeError. */
  async send(path: string, query: Query, what: string, signal?: AbortSignal, accept = 'application/json'): Promise<ResponseContext> {
    const ctx = new RequestContext(this.url(path, query), HttpMethod.GET)
    ctx.setHeaderParam('Accept', accept)
    ctx.setHeaderParam('User-Agent', this.userAgent)
    try {
      await this.kc.applySecurityAuthentication(ctx)
    } catch (err) {
      const text = (err as Error).message?.split('\n')[0] ?? String(err)
      if (/HTTP protocol is not allowed/i.test(text)) {
        throw new KubeError(
          `${what}: the server URL ${this.server} is plain http: allowed only when the kubeconfig's cluster sets insecure-skip-tls-verify: true`,
          { transient: false }
        )
      }
      throw new KubeError(`${what}: could not get credentials from the kubeconfig: ${text}`, { transient: false })
    }
    ctx.setSignal(signal ?? AbortSignal.timeout(this.requestTimeoutMs))
    this.requests++
    let resp: ResponseContext
    try {
      resp = await this.transport.send(ctx).toPromise()
    } catch (err) {
      throw networkError(err, this.server, what)
    }
    if (!this.skewKnown) {
      const date = Date.parse(resp.headers['date'] ?? '')
      if (!Number.isNaN(date)) {
        this.serverClockSkewMs = date - Date.now()
        this.skewKnown = true
      }
    }
    return resp
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
    if (resp.httpStatusCode < 200 || resp.httpStatusCode > 299) throw httpError(resp.httpStatusCode, text, resp.headers, what)
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
   * thousands of pods never has to be parsed as one huge response.
   */
  async listAll<T>(path: string, query: Query, what: string, limit = LIST_PAGE): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = []
    let cont: string | undefined
    let resourceVersion = ''
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
  }

  /** GET as text (logs). */
  async getText(path: string, query: Query, what: string): Promise<string> {
    const resp = await this.send(path, query, what, AbortSignal.timeout(this.requestTimeoutMs), 'text/plain, */*')
    const text = await resp.body.text().catch((err: unknown) => {
      throw networkError(err, this.server, what)
    })
    if (resp.httpStatusCode < 200 || resp.httpStatusCode > 299) throw httpError(resp.httpStatusCode, text, resp.headers, what)
    return text
  }
}
