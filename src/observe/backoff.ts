// Retry delays as client-go's reflector: 800 ms, doubling, at most 30 s, with
// jitter, back to the start after 2 minutes without trouble.
export interface BackoffOptions {
  initialMs: number
  maxMs: number
  resetAfterMs: number
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 800, maxMs: 30_000, resetAfterMs: 120_000 }

export class Backoff {
  private attempt = 0
  private lastFailure = 0

  constructor(
    private readonly o: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now
  ) {}

  /** The delay before the next try; a server's Retry-After wins when longer. */
  next(retryAfterMs?: number): number {
    const t = this.now()
    if (this.lastFailure && t - this.lastFailure > this.o.resetAfterMs) this.attempt = 0
    this.lastFailure = t
    const base = Math.min(this.o.maxMs, this.o.initialMs * 2 ** this.attempt)
    this.attempt++
    const jittered = base * (1 + this.random())
    return Math.min(Math.max(jittered, retryAfterMs ?? 0), Math.max(this.o.maxMs, retryAfterMs ?? 0))
  }
}

/** Resolves after ms, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
