// The annotations of a step, rendered from the verdict: a notice on success;
// on failure one error per cause group the verdict named rather than per pod
// (the UI shows ten errors and ten warnings per step), and a warning for each
// of the verdict's notes (restarts, a stale Job, what holds a Job back).
import { causeTitle } from '../decide/explain.js'
import { oneLine } from '../text/gate.js'
import type { Outcome } from './outcome.js'
import { jobName } from './render.js'

export interface Annotation {
  level: 'notice' | 'warning' | 'error'
  title: string
  message: string
}

/** setFailed adds one error of its own: nine are left for causes. */
const MAX_CAUSES = 9

export function annotations(o: Outcome): Annotation[] {
  const title = o.job ? `kube-job-wait: ${jobName(o)}` : 'kube-job-wait'
  const out: Annotation[] = []
  if (o.result === 'met') out.push({ level: 'notice', title, message: o.message })
  if (o.result === 'failed' || o.result === 'timeout') {
    for (const g of (o.verdict?.problems ?? []).slice(0, MAX_CAUSES)) {
      const ev = o.diagnosis?.evidence.find((e) => g.pods.some((p) => p.name === e.pod))
      const names =
        g.pods
          .slice(0, 3)
          .map((p) => p.name)
          .join(', ') + (g.pods.length > 3 ? `, ${g.pods.length - 3} more` : '')
      // Cluster text: one line each, no controls; @actions/core escapes the command.
      const parts = [`${names}${g.first.message ? `: ${oneLine(g.first.message, 500)}` : ''}`]
      const tail = ev?.log?.lines.slice(-5).map((l) => oneLine(l, 300)) ?? []
      if (tail.length) parts.push(`last log lines of ${ev!.pod}:`, ...tail)
      out.push({ level: 'error', title: oneLine(causeTitle(g), 200), message: parts.join('\n') })
    }
  }
  for (const n of o.verdict?.notes ?? []) out.push({ level: 'warning', title: oneLine(n.title, 200), message: n.message })
  return out
}
