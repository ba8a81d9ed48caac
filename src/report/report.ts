// Writes an Outcome where the runner shows it: outputs, annotations, the
// diagnosis in collapsible log groups, the job summary, and the step's
// failure. Called once, on every path.
import * as core from '@actions/core'
import { causeTitle } from '../decide/explain.js'
import { annotations } from './annotations.js'
import type { Outcome } from './outcome.js'
import { outputs } from './render.js'
import { summaryMarkdown } from './summary.js'

export async function report(o: Outcome): Promise<void> {
  for (const [k, v] of Object.entries(outputs(o))) core.setOutput(k, v)
  for (const a of annotations(o)) {
    if (a.level === 'notice') core.notice(a.message, { title: a.title })
    else if (a.level === 'warning') core.warning(a.message, { title: a.title })
    else core.error(a.message, { title: a.title })
  }
  logDiagnosis(o)
  if (o.result !== 'met') core.setFailed(o.message)
  try {
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(summaryMarkdown(o)).write()
  } catch (err) {
    core.warning(`could not write the job summary: ${(err as Error).message}`)
  }
}

function logDiagnosis(o: Outcome): void {
  const d = o.diagnosis
  if (!d) return
  for (const ev of d.evidence) {
    const g = o.verdict?.problems.find((x) => x.pods.some((p) => p.name === ev.pod))
    core.startGroup(`${g ? causeTitle(g) : ev.cause.cause}: pod ${ev.pod}`)
    if (ev.cause.message) core.info(ev.cause.message)
    for (const e of ev.events) core.info(`event ${e.reason}${e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`)
    if (ev.log) {
      core.info(
        `--- log of container ${ev.log.container}${ev.log.previous ? ' (previous instance)' : ''}, last ${ev.log.lines.length} lines ---`
      )
      for (const l of ev.log.lines) core.info(l)
    }
    core.endGroup()
  }
  for (const e of d.jobEvents) core.info(`job event ${e.reason}: ${e.message}`)
  for (const n of d.notes) core.info(n)
}
