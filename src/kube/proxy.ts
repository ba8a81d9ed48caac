// Which proxy a connection to the API server goes through, and the tunnel
// through it, as client-go does: the kubeconfig's proxy-url first (http,
// https, socks5, socks5h); without one, HTTPS_PROXY (HTTP_PROXY for an http://
// server) unless NO_PROXY matches, read as Go's golang.org/x/net/http/httpproxy
// reads them. An HTTP proxy is asked for a CONNECT tunnel; a SOCKS proxy goes
// through the socks package, loaded only when one is used.
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import type { Duplex } from 'node:stream'

/** A proxy that is misconfigured, unreachable or refuses: KubeHttp says which request it stopped. */
export class ProxyError extends Error {
  constructor(
    message: string,
    readonly o: { code?: number; reason?: string; transient: boolean; unreachable?: boolean }
  ) {
    super(message)
    this.name = 'ProxyError'
  }
}

export interface Proxy {
  url: URL
  /** Where it came from, for messages: "proxy-url" or the variable's name. */
  from: string
}

/** The proxy URL without its credentials, for messages. */
export const proxyName = (p: Proxy): string => `${p.url.protocol}//${p.url.host}`

/** client-go's order: the kubeconfig's proxy-url, else the environment (never for localhost or a loopback address). */
export function proxyFor(server: URL, proxyUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): Proxy | undefined {
  if (proxyUrl) return { url: parseProxyUrl(proxyUrl, 'proxy-url'), from: 'proxy-url' }
  const https = server.protocol === 'https:'
  const [name, value] = https ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : envAny(env, 'HTTP_PROXY', 'http_proxy')
  if (!value) return undefined
  const host = hostOf(server)
  if (host === 'localhost' || isLoopback(host)) return undefined
  const port = server.port || (https ? '443' : '80')
  if (noProxyMatches(envAny(env, 'NO_PROXY', 'no_proxy')[1] ?? '', host, port)) return undefined
  return { url: parseProxyUrl(value, name), from: name }
}

function envAny(env: NodeJS.ProcessEnv, ...names: string[]): [string, string | undefined] {
  for (const n of names) if (env[n]) return [n, env[n]]
  return [names[0], undefined]
}

/** A proxy URL as Go takes it: no scheme means http://. */
function parseProxyUrl(value: string, from: string): URL {
  let u: URL
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`)
  } catch {
    throw new ProxyError(`the proxy in ${from} is not a URL`, { transient: false })
  }
  if (!['http:', 'https:', 'socks5:', 'socks5h:'].includes(u.protocol))
    throw new ProxyError(`the proxy in ${from} has the scheme ${u.protocol.slice(0, -1)}: http, https, socks5 or socks5h are supported`, {
      transient: false
    })
  return u
}

/** The host of a URL without the brackets of an IPv6 address, lower case. */
const hostOf = (u: URL): string => u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()

function isLoopback(host: string): boolean {
  if (net.isIPv4(host)) return host.startsWith('127.')
  return net.isIPv6(host) && sameIp(host, '::1')
}

/**
 * NO_PROXY as Go's httpproxy reads it: `*` matches every host; an IP address
 * or a CIDR matches addresses; `example.com` matches it and its subdomains,
 * `.example.com` and `*.example.com` the subdomains only; any entry may end
 * in `:port` to match only that port.
 */
export function noProxyMatches(noProxy: string, host: string, port: string): boolean {
  const ip = net.isIP(host) ? host : undefined
  for (let entry of noProxy.split(',')) {
    entry = entry.trim().toLowerCase()
    if (!entry) continue
    if (entry === '*') return true
    if (entry.includes('/')) {
      if (ip && inCidr(ip, entry)) return true
      continue
    }
    let entryHost = entry
    let entryPort = ''
    const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(entry)
    if (m && !net.isIPv6(entry)) {
      entryHost = m[1]
      entryPort = m[2] ?? ''
    }
    if (net.isIP(entryHost)) {
      if (ip && sameIp(ip, entryHost) && (!entryPort || entryPort === port)) return true
      continue
    }
    if (entryHost.startsWith('*')) entryHost = entryHost.slice(1)
    const subdomainsOnly = entryHost.startsWith('.')
    const suffix = subdomainsOnly ? entryHost : `.${entryHost}`
    if ((host.endsWith(suffix) || (!subdomainsOnly && host === entryHost)) && (!entryPort || entryPort === port)) return true
  }
  return false
}

function sameIp(a: string, b: string): boolean {
  const list = new net.BlockList()
  list.addAddress(b, net.isIPv6(b) ? 'ipv6' : 'ipv4')
  return list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4')
}

function inCidr(ip: string, cidr: string): boolean {
  const [net0, bits] = cidr.split('/')
  const family = net.isIPv6(net0) ? 'ipv6' : net.isIPv4(net0) ? 'ipv4' : undefined
  if (!family || !/^\d+$/.test(bits)) return false
  const list = new net.BlockList()
  list.addSubnet(net0, Number(bits), family)
  return list.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4')
}

/** A connection to host:port through the proxy: a CONNECT tunnel or a SOCKS5 connection. */
export async function tunnel(proxy: Proxy, host: string, port: number, signal?: AbortSignal): Promise<Duplex> {
  return proxy.url.protocol.startsWith('socks') ? socksTunnel(proxy, host, port) : connectTunnel(proxy, host, port, signal)
}

function connectTunnel(proxy: Proxy, host: string, port: number, signal?: AbortSignal): Promise<Duplex> {
  const u = proxy.url
  const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`
  const headers: Record<string, string> = { Host: authority }
  if (u.username)
    headers['Proxy-Authorization'] =
      `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
  const proxyHost = u.hostname.replace(/^\[(.*)\]$/, '$1')
  const request = (u.protocol === 'https:' ? https.request : http.request)({
    host: proxyHost,
    // the proxy's own name for its certificate, not the Host header's (the API server's), which node:https would take
    ...(u.protocol === 'https:' ? { servername: net.isIP(proxyHost) ? '' : proxyHost } : {}),
    port: u.port || (u.protocol === 'https:' ? 443 : 80),
    method: 'CONNECT',
    path: authority,
    headers,
    agent: false,
    signal
  })
  return new Promise<Duplex>((resolve, reject) => {
    const refused = (status: number | undefined, message: string | undefined) =>
      new ProxyError(
        `the proxy ${proxyName(proxy)} (${proxy.from}) refused the tunnel to ${authority}: HTTP ${status}${message ? ` ${message}` : ''}`,
        { code: status, reason: 'ProxyRefused', transient: status === 502 || status === 503 || status === 504 }
      )
    request.once('connect', (res: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (res.statusCode !== 200) {
        socket.destroy()
        return reject(refused(res.statusCode, res.statusMessage))
      }
      if (head.length) socket.unshift(head)
      resolve(socket)
    })
    request.once('response', (res: http.IncomingMessage) => {
      res.resume()
      reject(refused(res.statusCode, res.statusMessage))
    })
    request.once('error', (err: NodeJS.ErrnoException) => reject(proxyUnreachable(proxy, err)))
    request.end()
  })
}

function proxyUnreachable(proxy: Proxy, err: NodeJS.ErrnoException): Error {
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return err
  const text = (err.message ?? String(err)).split('\n')[0]
  return new ProxyError(`cannot reach the proxy ${proxyName(proxy)} (${proxy.from}): ${text}`, {
    reason: err.code,
    transient: true,
    unreachable: true
  })
}

async function socksTunnel(proxy: Proxy, host: string, port: number): Promise<Duplex> {
  const u = proxy.url
  // socks5h: the proxy resolves the name; socks5: we do, as curl and Go's x/net/proxy
  let destination = host
  if (u.protocol === 'socks5:' && !net.isIP(host)) destination = (await (await import('node:dns')).promises.lookup(host)).address
  const { SocksClient } = (await import('socks')) as unknown as { SocksClient: SocksClientLike }
  try {
    const { socket } = await SocksClient.createConnection({
      proxy: {
        host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: Number(u.port || 1080),
        type: 5,
        ...(u.username ? { userId: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : {})
      },
      command: 'connect',
      destination: { host: destination, port }
    })
    return socket
  } catch (err) {
    const text = ((err as Error).message ?? String(err)).split('\n')[0]
    throw new ProxyError(`the SOCKS proxy ${proxyName(proxy)} (${proxy.from}) gave no connection to ${host}:${port}: ${text}`, {
      reason: 'ProxyRefused',
      transient: true
    })
  }
}

/** What is used of the socks package's SocksClient (its typings are not loaded with it). */
interface SocksClientLike {
  createConnection(o: {
    proxy: { host: string; port: number; type: 5; userId?: string; password?: string }
    command: 'connect'
    destination: { host: string; port: number }
  }): Promise<{ socket: net.Socket }>
}
