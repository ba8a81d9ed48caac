// The files of undici that src/kube/undici-lite.ts loads (undici types only its index).
declare module 'undici/lib/dispatcher/dispatcher.js' {
  const Dispatcher: unknown
  export default Dispatcher
}
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: unknown
  export default Agent
}
declare module 'undici/lib/dispatcher/proxy-agent.js' {
  const ProxyAgent: unknown
  export default ProxyAgent
}
declare module 'undici/lib/api/index.js' {
  const api: Record<string, unknown>
  export default api
}
declare module 'undici/lib/web/fetch/index.js'
// and of socks, for src/kube/socks-lite.ts
declare module 'socks/build/index.js'
