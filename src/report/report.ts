// Writes an Outcome where the runner shows it: outputs, annotations, the
// diagnosis in collapsible log groups, the job summary, and the step's
// failure. Called once, on every path. Cluster text (messages, events, log
// lines) reaches the log only through the gate: our commands (annotations,
// groups, the failure) outside its stop-commands block, the text inside.
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as core from '@actions/core'
import { causeTitle, type CauseGroup } from '../decide/explain.js'
import type { Diagnosis } from '../diagnose/collect.js'
import { LogGate, oneLine, type Markdown } from '../text/gate.js'
import { annotations } from './annotations.js'
import type { Outcome } from './outcome.js'
import { outputs } from './render.js'
import { summaryMarkdown } from './summary.js'

export function report(o: Outcome, gate: LogGate = new LogGate()): void {
  gate.close()
  setOutputs(outputs(o))
  gate.own(() => {
    for (const a of annotations(o)) {
      if (a.level === 'notice') core.notice(a.message, { title: a.title })
      else if (a.level === 'warning') core.warning(a.message, { title: a.title })
      else core.error(a.message, { title: a.title })
    }
  })
  logDiagnosis(o, gate)
  if (o.result !== 'met') gate.own(() => core.setFailed(o.message))
  try {
    appendSummary(summaryMarkdown(o))
  } catch (err) {
    gate.own(() => core.warning(`could not write the job summary: ${(err as Error).message}`))
  }
  gate.close()
}

/**
 * Appends to the job summary (GITHUB_STEP_SUMMARY; nothing without it): one synchronous append, as
 * core.summary.addRaw().write() appends, without its two round trips through the thread pool (about
 * 5 ms between the verdict and the exit, measured with timestamps).
 */
export function appendSummary(markdown: Markdown): void {
  const file = process.env.GITHUB_STEP_SUMMARY
  if (file) fs.appendFileSync(file, markdown, 'utf8')
}

/**
 * Every output in one append to GITHUB_OUTPUT, in the form core.setOutput writes one
 * (`name<<delimiter`, the value, the delimiter: a random delimiter per output, which the value cannot
 * contain), instead of one open-append-close per output (about 2 ms for the dozen outputs). Without
 * GITHUB_OUTPUT, core.setOutput's ::set-output:: command, outside the gate's block.
 */
export function setOutputs(values: Record<string, string>): void {
  const file = process.env.GITHUB_OUTPUT
  if (!file) {
    for (const [k, v] of Object.entries(values)) core.setOutput(k, v)
    return
  }
  let text = ''
  for (const [k, v] of Object.entries(values)) {
    const delimiter = `ghadelimiter_${randomUUID()}`
    text += `${k}<<${delimiter}${os.EOL}${v}${os.EOL}${delimiter}${os.EOL}`
  }
  fs.appendFileSync(file, text, 'utf8')
}

function logDiagnosis(o: Outcome, gate: LogGate): void {
  if (o.jobs) for (const j of o.jobs) logJobDiagnosis(j.diagnosis, j.verdict.problems, `job ${j.name}, `, gate)
  else logJobDiagnosis(o.diagnosis, o.verdict?.problems ?? [], '', gate)
}

function logJobDiagnosis(d: Diagnosis | undefined, problems: CauseGroup[], prefix: string, gate: LogGate): void {
  if (!d) return
  for (const ev of d.evidence) {
    const g = problems.find((x) => x.pods.some((p) => p.name === ev.pod))
    // The group's title is a command's data: escaped by core, and cut to one line by the gate's rules.
    gate.own(() => core.startGroup(oneLine(`${g ? causeTitle(g) : ev.cause.cause}: ${prefix}pod ${ev.pod}`, 300)))
    const lines: string[] = []
    if (ev.cause.message) lines.push(ev.cause.message)
    for (const e of ev.events) lines.push(`event ${e.reason}${e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`)
    if (ev.log) {
      lines.push(
        `--- log of container ${ev.log.container}${ev.log.previous ? ' (previous instance)' : ''}, last ${ev.log.lines.length} lines ---`
      )
      lines.push(...ev.log.lines)
    }
    gate.untrusted(lines)
    gate.own(() => core.endGroup())
  }
  gate.untrusted([...d.jobEvents.map((e) => `job event ${e.reason}: ${e.message}`), ...d.notes])
}
