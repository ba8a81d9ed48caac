// Durations as users write them in workflow files: "90s", "15m", "1h30m",
// "500ms", or a bare number of seconds.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim()
  if (s === '') return undefined
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000)
  let total = 0
  PART.lastIndex = 0
  while (PART.lastIndex < s.length) {
    const start = PART.lastIndex
    const m = PART.exec(s)
    if (!m || m.index !== start) return undefined
    total += Number(m[1]) * UNITS[m[2]]
  }
  return Math.round(total)
}

/** "1h2m3s", "45s", "1.2s", "350ms": short and exact enough for a log line. */
export function formatDuration(raw: number): string {
  const ms = Math.round(raw)
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`
  let s = Math.floor(ms / 1000)
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`
}
