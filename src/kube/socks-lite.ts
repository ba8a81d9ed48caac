// The socks package as the bundle sees it (tsconfig.json maps 'socks' here for
// ncc, as it maps 'undici' to undici-on-demand.ts). client-node's config.js
// and socks-proxy-agent import it at their top, and it is costly to evaluate
// (ip-address builds its tables of special subnets as it loads), while only a
// SOCKS proxy uses it: here the real package is loaded through its documented
// entry (package.json `main`: build/index.js; socks has no `exports`) on the
// first SOCKS connection, with the same createConnection (callback or promise).

type Callback = (err: Error | null, info?: unknown) => void
interface Client {
  createConnection(options: unknown, callback?: Callback): Promise<unknown>
}

const load = async (): Promise<Client> => {
  // @ts-expect-error: socks's typings name build/index.d.ts by its `types`, not this path
  const m = (await import('socks/build/index.js')) as { default?: { SocksClient: Client }; SocksClient?: Client }
  return (m.default?.SocksClient ?? m.SocksClient)!
}

export const SocksClient: Client = {
  createConnection(options, callback) {
    const info = load().then((c) => c.createConnection(options))
    if (callback)
      info.then(
        (i) => callback(null, i),
        (err: Error) => callback(err)
      )
    return info
  }
}
