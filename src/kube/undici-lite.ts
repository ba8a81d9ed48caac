// undici as the bundle sees it: tsconfig.json maps the module name 'undici'
// here, and ncc resolves every `import ... from 'undici'` in the bundle with
// that map (ours in http.ts, client-node's config.js, @actions/http-client,
// @actions/github); jest still loads the real package. undici's index loads
// all of it (fetch, WebSocket, caches, mocks, interceptors) and was the
// largest cost of start-up (about 45 ms of module evaluation, measured with
// --cpu-prof): here only what is used from the start is loaded (Agent and
// ProxyAgent, and the request API that the index adds to every dispatcher),
// and fetch, which only the PR comment's Octokit calls, on its first call.
// Ambient types for the deep imports below, wherever tsconfig paths bring this file (bench/ too).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./undici-lib.d.ts" />
import DispatcherBase from 'undici/lib/dispatcher/dispatcher.js'
import AgentClass from 'undici/lib/dispatcher/agent.js'
import ProxyAgentClass from 'undici/lib/dispatcher/proxy-agent.js'
import api from 'undici/lib/api/index.js'
import type * as undici from 'undici/index.js'

Object.assign((DispatcherBase as { prototype: object }).prototype, api)

export type { Dispatcher } from 'undici/index.js'
export const Agent = AgentClass as typeof undici.Agent
export const ProxyAgent = ProxyAgentClass as typeof undici.ProxyAgent

export const fetch: typeof undici.fetch = async (input, init) => {
  const m = (await import('undici/lib/web/fetch/index.js')) as { default?: { fetch: typeof undici.fetch }; fetch?: typeof undici.fetch }
  return (m.default?.fetch ?? m.fetch!)(input, init)
}
