// API errors as values with a message a user can act on. Never the raw
// exception text: client-node's messages carry every response header.

export interface KubeStatus {
  kind?: string
  status?: string
  message?: string
  reason?: string
  code?: number
}

export class KubeError extends Error {
  /** HTTP status; undefined for network and TLS errors */
  readonly code?: number
  /** Status.reason (Forbidden, NotFound, Expired, ...) or the network error code */
  readonly reason?: string
  /** Worth retrying: network faults, 429, 5xx */
  readonly transient: boolean
  /** From Retry-After */
  readonly retryAfterMs?: number
  /** A network fault before any byte came back (refused, unknown host) */
  readonly unreachable: boolean

  constructor(message: string, o: { code?: number; reason?: string; transient: boolean; retryAfterMs?: number; unreachable?: boolean }) {
    super(message)
    this.name = 'KubeError'
    this.code = o.code
    this.reason = o.reason
    this.transient = o.transient
    this.retryAfterMs = o.retryAfterMs
    this.unreachable = o.unreachable ?? false
  }
}

const TRANSIENT_CODES = new Set([429, 500, 502, 503, 504])

export function parseStatus(text: string | undefined): KubeStatus | undefined {
  if (!text) return undefined
  try {
    const o = JSON.parse(text) as KubeStatus | null
    return o && typeof o === 'object' && (o.kind === 'Status' || o.message !== undefined) ? o : undefined
  } catch {
    return undefined
  }
}

export function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined
  const s = Number(value)
  if (Number.isFinite(s)) return Math.max(0, s * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/**
 * An HTTP error response: the Status message when the server sent one. A 401
 * says why the credentials were refused and what to do (`unauthorized`,
 * which knows where they came from).
 */
export function httpError(
  status: number,
  bodyText: string | undefined,
  headers: Record<string, string>,
  what: string,
  unauthorized = 'the token or certificate is wrong or expired'
): KubeError {
  const st = parseStatus(bodyText)
  const text = st?.message?.trim()
  let message: string
  if (status === 401) message = `${what}: the API server rejected the credentials (401 Unauthorized): ${unauthorized}`
  // A real API server answers 404 with a Status; a web server, an ingress or a
  // wrong path in the server URL does not.
  else if (!text && status === 404 && bodyText)
    message = `${what}: HTTP 404 without a Kubernetes Status: is it a Kubernetes API server? Check the server URL in the kubeconfig`
  else if (!text) message = `${what}: HTTP ${status}`
  else message = `${what}: ${text}${st?.reason ? '' : ` (HTTP ${status})`}`
  return new KubeError(message, {
    code: status,
    reason: st?.reason ?? (status === 401 ? 'Unauthorized' : undefined),
    transient: TRANSIENT_CODES.has(status),
    retryAfterMs: retryAfterMs(headers['retry-after'])
  })
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])
const TRANSIENT_NET = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE'
])

/** A request that threw: network, TLS, abort (Node's error codes; undici's, which fetch reports, too). */
export function networkError(err: unknown, server: string, what: string): KubeError {
  if (err instanceof KubeError) return err
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string; name?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.cause?.name === 'TimeoutError') {
    return new KubeError(`${what}: no answer from ${server} in time`, { reason: 'Timeout', transient: true })
  }
  const cause = e?.cause ?? e
  const code = cause?.code ?? ''
  const text = (cause?.message ?? e?.message ?? String(err)).split('\n')[0]
  if (UNREACHABLE.has(code)) {
    return new KubeError(`${what}: cannot reach the API server ${server}: ${text}`, { reason: code, transient: true, unreachable: true })
  }
  // ERR_HTTP2_*: the session went away (GOAWAY, a reset stream, a session destroyed under its streams)
  if (TRANSIENT_NET.has(code) || code.startsWith('ERR_HTTP2_') || /socket|terminated|closed|reset/i.test(text)) {
    return new KubeError(`${what}: connection to ${server} failed: ${text}`, { reason: code || 'ConnectionError', transient: true })
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/i.test(code + ' ' + text)) {
    return new KubeError(
      `${what}: TLS to ${server} failed: ${text}${code ? ` (${code})` : ''}; check certificate-authority-data in the kubeconfig`,
      { reason: code || 'TLS', transient: false }
    )
  }
  return new KubeError(`${what}: request to ${server} failed: ${text}${code ? ` (${code})` : ''}`, {
    reason: code || undefined,
    transient: false
  })
}
