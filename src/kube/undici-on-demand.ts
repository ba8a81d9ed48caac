// undici as the bundle sees it: tsconfig.json maps the module name 'undici'
// here, and ncc resolves every `import ... from 'undici'` of the bundle with
// that map (client-node's config.js, @actions/http-client, @actions/github);
// jest loads the real package. Those modules import undici at their top, but
// none of them uses it on the action's paths (requests go through
// connection.ts): evaluating undici's index there would cost start-up for
// nothing. So the real package is loaded here, through its documented entry
// (package.json `main`: index.js; undici has no `exports`), on first use only:
// fetch loads it itself; the classes need loadUndici() first (the PR comment
// calls it before it loads @actions/github, whose proxy support builds a
// ProxyAgent).
import type * as Undici from 'undici/index.js'

let real: typeof Undici | undefined

/** The real undici, loaded on the first call. */
export async function loadUndici(): Promise<typeof Undici> {
  if (!real) {
    const m = (await import('undici/index.js')) as typeof Undici & { default?: typeof Undici }
    real = m.default ?? m
  }
  return real
}

function loaded(name: string): typeof Undici {
  if (!real) throw new Error(`undici's ${name} was used before loadUndici() loaded undici (src/kube/undici-on-demand.ts)`)
  return real
}

export type { Dispatcher } from 'undici/index.js'

// Constructors that build the real class: `new Agent(...)` gives undici's Agent.
export const Agent = function Agent(...args: ConstructorParameters<typeof Undici.Agent>) {
  return new (loaded('Agent').Agent)(...args)
} as unknown as typeof Undici.Agent

export const ProxyAgent = function ProxyAgent(...args: ConstructorParameters<typeof Undici.ProxyAgent>) {
  return new (loaded('ProxyAgent').ProxyAgent)(...args)
} as unknown as typeof Undici.ProxyAgent

export const fetch: typeof Undici.fetch = async (input, init) => (await loadUndici()).fetch(input, init)
