// Servers that are not the fake API server, for the failures a user meets
// before any Kubernetes answer: an HTTPS front with client-certificate
// authentication (expired certificates, a CA the client does not trust), a
// web server that is not Kubernetes at all, and a port nobody listens on.
import { request as httpRequest, createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createSecureServer as createHttp2Server } from 'node:http2'
import type { AddressInfo, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { KeyAndCert } from './certs.js'

export interface Front {
  url: string
  /** every request that got through the TLS handshake */
  requests: { path: string; authorized: boolean; authorizationError?: string }[]
  /** TLS handshakes that failed on the server side */
  tlsErrors: string[]
  /** TLS connections accepted, and the HTTP version of each request ('2.0', '1.1') */
  connections?: number
  httpVersions?: string[]
  stop(): Promise<void>
}

async function listen(server: Server, scheme: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of sockets) s.destroy()
      server.closeAllConnections?.()
      await closed
    }
  }
}

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code })

/**
 * An HTTPS API server front, as kube-apiserver does client certificates: the
 * handshake asks for a certificate but does not require it, and a request
 * whose certificate is missing, expired or not signed by `clientCa` gets 401.
 * An authenticated request is passed to `upstream` (the fake API server) with
 * `upstreamToken`, so that the wait itself works over TLS.
 */
export async function startTlsFront(o: {
  server: KeyAndCert
  clientCa: KeyAndCert
  upstream?: string
  upstreamToken?: string
  /** offer h2 by ALPN as kube-apiserver does (HTTP/1.1 still accepted) */
  h2?: boolean
}): Promise<Front> {
  const requests: Front['requests'] = []
  const tlsErrors: string[] = []
  const httpVersions: string[] = []
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const sock = req.socket as TLSSocket
    const authorized = sock.authorized
    const authorizationError = sock.authorizationError
      ? String((sock.authorizationError as unknown as { code?: string }).code ?? sock.authorizationError)
      : undefined
    requests.push({ path: req.url ?? '', authorized, authorizationError })
    httpVersions.push(req.httpVersion)
    if (!authorized || !o.upstream) {
      const body = status(401, 'Unauthorized', 'Unauthorized')
      res.writeHead(401, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
      res.end(body)
      return
    }
    // HTTP/2 pseudo-headers (:path) and HTTP/1.1 connection headers do not cross over
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !k.startsWith(':')))
    const up = httpRequest(
      o.upstream + (req.url ?? '/'),
      { method: req.method, headers: { ...headers, host: new URL(o.upstream).host, authorization: `Bearer ${o.upstreamToken}` } },
      (ur) => {
        const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, ...back } = ur.headers
        res.writeHead(ur.statusCode ?? 502, req.httpVersion === '2.0' ? back : ur.headers)
        res.flushHeaders()
        ur.pipe(res)
      }
    )
    up.on('error', () => res.destroy())
    res.on('close', () => up.destroy())
    req.pipe(up)
  }
  const tlsOptions = { key: o.server.key, cert: o.server.cert, ca: [o.clientCa.cert], requestCert: true, rejectUnauthorized: false }
  const server = o.h2 ? createHttp2Server({ ...tlsOptions, allowHTTP1: true }, handler as never) : createHttpsServer(tlsOptions, handler)
  server.on('tlsClientError', (err: Error & { code?: string }) => tlsErrors.push(err.code ?? err.message))
  const front: Front = { url: '', requests, tlsErrors, connections: 0, httpVersions, stop: async () => undefined }
  server.on('secureConnection', () => front.connections!++)
  const l = await listen(server as unknown as Server, 'https')
  return Object.assign(front, { url: l.url, stop: l.stop })
}

/** A web server that is not Kubernetes: every path answers `status` with an HTML page. */
export async function startWebServer(
  statusCode: number,
  body = '<!doctype html><html><head><title>Welcome</title></head><body>It works</body></html>'
): Promise<Front> {
  const requests: Front['requests'] = []
  const server = createHttpServer((req, res) => {
    requests.push({ path: req.url ?? '', authorized: false })
    res.writeHead(statusCode, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) })
    res.end(body)
  })
  const l = await listen(server, 'http')
  return { url: l.url, requests, tlsErrors: [], stop: l.stop }
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createHttpServer()
  const l = await listen(server, 'http')
  await l.stop()
  return Number(new URL(l.url).port)
}
