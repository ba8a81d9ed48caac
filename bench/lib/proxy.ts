// A byte-counting TCP proxy in front of the API server. TLS passes through
// untouched (the apiserver's certificate is valid for 127.0.0.1 on any port),
// so what it counts is what went over the wire: TLS handshakes and records
// included. One proxy per contender and run, so every byte is that contender's.
// Each proxy connects to the API server from its own loopback address
// (127.0.1.N): the audit log's sourceIPs then tell whose request it was, even
// for two processes with the same user and User-Agent running at once.
import * as net from 'node:net'

export interface ProxyStats {
  port: number
  /** the loopback address it connects to the API server from */
  sourceIp: string
  connections: number
  /** server → client: what the API server served */
  bytesDown: number
  /** client → server */
  bytesUp: number
  /** epoch ms of the first accepted connection */
  firstConnectAt?: number
}

export interface Proxy {
  stats: ProxyStats
  close(): Promise<void>
}

export async function startProxy(targetPort: number, sourceIp: string): Promise<Proxy> {
  const sockets = new Set<net.Socket>()
  const stats: ProxyStats = { port: 0, sourceIp, connections: 0, bytesDown: 0, bytesUp: 0 }
  const server = net.createServer((client) => {
    stats.connections++
    stats.firstConnectAt ??= Date.now()
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1', localAddress: sourceIp })
    sockets.add(client)
    sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    client.on('data', (d: Buffer) => (stats.bytesUp += d.length))
    upstream.on('data', (d: Buffer) => (stats.bytesDown += d.length))
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', () => {
      sockets.delete(client)
      upstream.end()
    })
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  stats.port = (server.address() as net.AddressInfo).port
  return {
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
