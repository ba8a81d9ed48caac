// Small helpers shared by the benchmark: logging, sleeping, statistics, formatting.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Progress goes to stderr so that stdout carries only the final table. */
export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

export interface Stat {
  median: number
  /** nearest rank: the smallest value with at least 90 % of the runs at or below it */
  p90: number
  min: number
  max: number
  n: number
}

export function stat(values: number[]): Stat | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return undefined
  const mid = Math.floor(v.length / 2)
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
  const p90 = v[Math.min(v.length - 1, Math.ceil(0.9 * v.length) - 1)]
  return { median, p90, min: v[0], max: v[v.length - 1], n: v.length }
}

export function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 7)
}

/** "2026-11-28T05:18:53.162871Z" (audit log, microseconds) → epoch ms with the fraction kept. */
export function parseMicroTime(s: string | undefined): number {
  if (!s) return NaN
  const m = /^(.{19})(?:\.(\d+))?Z$/.exec(s)
  if (!m) return Date.parse(s)
  return Date.parse(`${m[1]}Z`) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0)
}

export function fmtMs(x: number): string {
  return `${Math.round(x)} ms`
}
export function fmtBytes(x: number): string {
  if (x >= 1024 * 1024) return `${(x / 1024 / 1024).toFixed(2)} MiB`
  if (x >= 1024) return `${(x / 1024).toFixed(1)} KiB`
  return `${Math.round(x)} B`
}
export function fmtMB(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MiB`
}
export function fmtCpu(s: number): string {
  return `${s.toFixed(2)} s`
}
export function fmtCount(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1)
}

export function envInt(name: string, def: number): number {
  const v = process.env[name]
  if (v === undefined || v === '') return def
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: expected a non-negative number`)
  return n
}

export function envList(name: string, def: string[]): string[] {
  const v = process.env[name]
  if (v === undefined || v.trim() === '') return def
  return v.split(/[\s,]+/).filter(Boolean)
}
