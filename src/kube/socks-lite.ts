// The socks package as the bundle sees it (tsconfig.json maps 'socks' here for
// ncc, as it maps 'undici' to undici-lite.ts). client-node's config.js and
// socks-proxy-agent import it at start only to reach SOCKS proxies (a
// kubeconfig's proxy-url: socks5://...), and it costs about 6 ms of start-up
// (ip-address builds its tables of special subnets as it loads): here it is
// loaded on the first SOCKS connection, with the same createConnection
// (callback or promise).
// Ambient types for the deep import below, wherever tsconfig paths bring this file.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./undici-lib.d.ts" />

type Callback = (err: Error | null, info?: unknown) => void
interface Client {
  createConnection(options: unknown, callback?: Callback): Promise<unknown>
}

const load = async (): Promise<Client> => {
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
