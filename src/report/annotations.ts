// The annotations of a step, rendered from the verdict: a notice on success;
// on failure one error per cause group the verdict named rather than per pod
// (the UI shows ten errors and ten warnings per step), and a warning for each
// of the verdict's notes (restarts, a stale Job, what holds a Job back).
import { causeTitle, type CauseGroup } from '../decide/explain.js'
import type { Diagnosis } from '../diagnose/collect.js'
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
  const out: Annotation[] = []
  if (o.jobs) {
    // Several Jobs: one notice for the step; the causes of each Job that failed or fell short, named by the Job.
    if (o.result === 'met') out.push({ level: 'notice', title: 'kube-job-wait', message: o.message })
    for (const j of o.jobs) {
      if (j.verdict.state === 'failed' || j.verdict.state === 'timeout') {
        out.push(...causes(j.verdict.problems, j.diagnosis, `${o.namespace ? `${o.namespace}/` : ''}${j.name}: `))
      }
    }
    for (const n of o.notes ?? []) out.push({ level: 'warning', title: oneLine(n.title, 200), message: n.message })
    return cap(out)
  }
  const title = o.job ? `kube-job-wait: ${jobName(o)}` : 'kube-job-wait'
  if (o.result === 'met') out.push({ level: 'notice', title, message: o.message })
  if (o.result === 'failed' || o.result === 'timeout') out.push(...causes(o.verdict?.problems ?? [], o.diagnosis, ''))
  for (const n of o.verdict?.notes ?? []) out.push({ level: 'warning', title: oneLine(n.title, 200), message: n.message })
  return cap(out)
}

/** One error per cause group, with the names of its pods and the last lines of the first one's log. */
function causes(groups: CauseGroup[], diagnosis: Diagnosis | undefined, prefix: string): Annotation[] {
  return groups.map((g) => {
    const ev = diagnosis?.evidence.find((e) => g.pods.some((p) => p.name === e.pod))
    const names =
      g.pods
        .slice(0, 3)
        .map((p) => p.name)
        .join(', ') + (g.pods.length > 3 ? `, ${g.pods.length - 3} more` : '')
    // Cluster text: one line each, no controls; @actions/core escapes the command.
    const parts = [`${names}${g.first.message ? `: ${oneLine(g.first.message, 500)}` : ''}`]
    const tail = ev?.log?.lines.slice(-5).map((l) => oneLine(l, 300)) ?? []
    if (tail.length) parts.push(`last log lines of ${ev!.pod}:`, ...tail)
    return { level: 'error' as const, title: oneLine(`${prefix}${causeTitle(g)}`, 200), message: parts.join('\n') }
  })
}

/** The UI shows ten errors per step and setFailed adds one: nine for causes. */
function cap(list: Annotation[]): Annotation[] {
  let errors = 0
  return list.filter((a) => a.level !== 'error' || ++errors <= MAX_CAUSES)
}
