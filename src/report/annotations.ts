// The annotations of a step: a notice on success; on failure one error per
// distinct cause rather than per pod (the UI shows ten errors and ten
// warnings per step), and a warning for pods that restarted.
import { causeTitle, groupCauses } from '../diagnose/causes.js'
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
  const pods = o.snapshot?.pods ?? []
  if (o.result === 'failed' || o.result === 'timeout') {
    const groups = o.diagnosis?.groups ?? groupCauses(pods)
    for (const g of groups.slice(0, MAX_CAUSES)) {
      const ev = o.diagnosis?.evidence.find((e) => g.pods.some((p) => p.name === e.pod))
      const names =
        g.pods
          .slice(0, 3)
          .map((p) => p.name)
          .join(', ') + (g.pods.length > 3 ? `, ${g.pods.length - 3} more` : '')
      const parts = [`${names}${g.first.message ? `: ${g.first.message}` : ''}`]
      const tail = ev?.log?.lines.slice(-5) ?? []
      if (tail.length) parts.push(`last log lines of ${ev!.pod}:`, ...tail)
      out.push({ level: 'error', title: causeTitle(g), message: parts.join('\n') })
    }
  }
  const restarted = pods.filter((p) => p.restarts > 0)
  if (restarted.length) {
    const total = restarted.reduce((n, p) => n + p.restarts, 0)
    const names =
      restarted
        .slice(0, 5)
        .map((p) => `${p.name} (${p.restarts})`)
        .join(', ') + (restarted.length > 5 ? `, ${restarted.length - 5} more` : '')
    out.push({
      level: 'warning',
      title: `${restarted.length} pod${restarted.length === 1 ? '' : 's'} restarted (${total} restarts)`,
      message: names
    })
  }
  return out
}
