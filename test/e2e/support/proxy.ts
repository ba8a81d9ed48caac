// A TCP proxy on loopback between the action and kube-apiserver, to cut the
// action off while the control plane goes on: the Job controller, the TTL
// controller and the kubelet simulator talk to the API server directly.
// TLS passes through untouched (the serving certificate is for 127.0.0.1 on
// any port).
//
// freeze(): nothing more is forwarded either way (bytes are held, the
// connections stay open, as with a frozen load balancer); thaw(): the held
// bytes go out, each direction in one write, and forwarding resumes;
// freezeOpen(): only the connections open now are frozen, for good (their
// bytes are held until thaw()); new connections pass, as through a load
// balancer that lost its state for the old ones;
// cut(): every connection is destroyed (held bytes are dropped), as a reset
// does; new connections are accepted (and frozen while frozen).
import * as net from 'node:net'

export interface Proxy {
  /** the port it listens on, 127.0.0.1 */
  port: number
  /** connections accepted so far */
  connections(): number
  freeze(): void
  /** freezes the connections open now; later ones pass */
  freezeOpen(): void
  thaw(): void
  cut(): void
  close(): Promise<void>
}

interface Pipe {
  client: net.Socket
  upstream: net.Socket
  /** held while frozen: client → server, server → client */
  up: Buffer[]
  down: Buffer[]
  /** frozen on its own (freezeOpen) */
  frozen: boolean
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const pipes = new Set<Pipe>()
  let frozen = false
  let accepted = 0
  const server = net.createServer((client) => {
    accepted++
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1' })
    const pipe: Pipe = { client, upstream, up: [], down: [], frozen: false }
    pipes.add(pipe)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    client.on('data', (d: Buffer) => (frozen || pipe.frozen ? pipe.up.push(d) : upstream.write(d)))
    upstream.on('data', (d: Buffer) => (frozen || pipe.frozen ? pipe.down.push(d) : client.write(d)))
    const end = () => {
      pipes.delete(pipe)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const cut = () => {
    for (const p of [...pipes]) {
      pipes.delete(p)
      p.client.destroy()
      p.upstream.destroy()
    }
  }
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => accepted,
    freeze: () => {
      frozen = true
    },
    freezeOpen: () => {
      for (const p of pipes) p.frozen = true
    },
    thaw: () => {
      frozen = false
      for (const p of pipes) {
        p.frozen = false
        if (p.up.length) p.upstream.write(Buffer.concat(p.up.splice(0)))
        if (p.down.length) p.client.write(Buffer.concat(p.down.splice(0)))
      }
    },
    cut,
    close: () =>
      new Promise<void>((resolve) => {
        cut()
        server.close(() => resolve())
      })
  }
}
