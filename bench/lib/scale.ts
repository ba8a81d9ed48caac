// Figure 5's pure parts: which write a wait ended on, how long after it the
// waiter exited, and the figure's rows. No imports, so that the unit tests
// (jest, __tests__/bench-scale.test.ts) load it as it is.

/** One pods/status write as the API server's audit log saw it (epoch ms). */
export interface StatusWrite {
  pod: string
  received: number
  completed: number
}

/** The last pod's Succeeded write: when the API server received it and when it answered. */
export interface LastWrite {
  received: number
  completed: number
}

/**
 * The last of the pods' Succeeded writes, from the audit log. The simulator
 * notes a write's time when its PATCH returns, but the API server sends the
 * change to watchers when it commits it, which on a loaded machine can come
 * hundreds of ms before its answer: a fast watcher then exits "before" the
 * simulator's time. The commit lies between the request's arrival and the
 * answer, so the latest arrival is a time the last commit cannot precede, and
 * latency counted from it can only be too long, never too short.
 *
 * `succeeded` are the simulator's Succeeded writes (pod, time it returned):
 * each is matched to that pod's latest audited write answered by then
 * (Succeeded is the pod's last status write). Undefined when one is missing.
 */
export function lastSucceededWrite(audit: StatusWrite[], succeeded: { pod: string; t: number }[], slackMs = 50): LastWrite | undefined {
  const byPod = new Map<string, StatusWrite[]>()
  for (const w of audit) {
    const list = byPod.get(w.pod)
    if (list) list.push(w)
    else byPod.set(w.pod, [w])
  }
  let last: LastWrite | undefined
  for (const s of succeeded) {
    let match: StatusWrite | undefined
    for (const w of byPod.get(s.pod) ?? []) if (w.completed <= s.t + slackMs && (!match || w.completed > match.completed)) match = w
    if (!match) return undefined
    last = {
      received: Math.max(last?.received ?? -Infinity, match.received),
      completed: Math.max(last?.completed ?? -Infinity, match.completed)
    }
  }
  return last
}

export type Latency = { ms: number } | { refused: string }

/**
 * Last write → exit, or why the harness refuses to give it: a waiter that
 * exited before the API server even received the last write did not end on
 * that write, and a negative figure would say nothing true.
 */
export function lastWriteToExit(exitAt: number, last: LastWrite | undefined): Latency {
  if (!last) return { refused: 'no audit record of every Succeeded write' }
  const ms = exitAt - last.received
  if (ms < 0) return { refused: `exited ${Math.round(-ms)} ms before the API server received the last write` }
  return { ms }
}

export type ScaleKind = 'phase' | 'condition' | 'kubectl' | 'kubectl-pods' | 'floor'
export type ScaleMeasure = 'cpu' | 'rss' | 'per-pod' | 'latency'

/** The contenders in the figure's order; the last two never end by themselves (the harness ends them). */
export const SCALE_KINDS: readonly ScaleKind[] = ['phase', 'condition', 'kubectl', 'kubectl-pods', 'floor']
export const ENDED_BY_HARNESS: ReadonlySet<ScaleKind> = new Set(['kubectl-pods', 'floor'])
/** The sizes the targets name. */
export const SCALE_TARGET_SIZES = [1000, 5000, 10000] as const

export interface ScaleCell {
  size: number
  measure: ScaleMeasure
  kind: ScaleKind
}

/**
 * The figure's rows, once each: per size, CPU, peak RSS, CPU per pod and
 * last write → exit for every contender measured (latency only for those
 * that end by themselves: the harness's stop says nothing of a watcher).
 */
export function scaleLayout(sizes: number[], measured: ScaleKind[]): ScaleCell[] {
  const kinds = SCALE_KINDS.filter((k) => measured.includes(k))
  const out: ScaleCell[] = []
  for (const size of [...new Set(sizes)].sort((a, b) => a - b))
    for (const measure of ['cpu', 'rss', 'per-pod', 'latency'] as const)
      for (const kind of kinds) if (measure !== 'latency' || !ENDED_BY_HARNESS.has(kind)) out.push({ size, measure, kind })
  return out
}

/** The target sizes not in this run (said once, in one row). */
export const sizesNotRun = (sizes: number[]): number[] => SCALE_TARGET_SIZES.filter((s) => !sizes.includes(s))
