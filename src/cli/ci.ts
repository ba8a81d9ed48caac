// What the CLI adds for CI systems other than GitHub, as pure helpers that
// return text or a command to run; the CLI main writes or runs them.
// - GitLab CI: collapsible sections in the job log (section_start /
//   section_end markers), one per pod's log and one for the diagnosis.
// - Buildkite: an annotation of the build with the markdown report, through
//   `buildkite-agent annotate`, only when the agent is on PATH.
import * as path from 'node:path'
import type { Outcome } from '../report/outcome.js'
import { summaryMarkdown } from '../report/summary.js'
import { terminalText, textReport } from './terminal.js'

// ---------------------------------------------------------------- GitLab CI

/** GitLab takes section names of letters, digits, "_", "." and "-". */
export function sectionName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100) || 'section'
}

/**
 * A collapsible section of a GitLab job log: the start marker with its
 * header, the lines, the end marker. `time` is in seconds since the epoch,
 * as GitLab reads it to show the section's duration. The header and the
 * lines are cluster text: cleaned, so that none can end the section early or
 * open another (each marker needs an ESC, which terminalText removes).
 */
export function gitlabSection(name: string, header: string, lines: readonly string[], time: number, collapsed = true): string {
  const id = sectionName(name)
  const t = Math.floor(time)
  const start = `\x1b[0Ksection_start:${t}:${id}${collapsed ? '[collapsed=true]' : ''}\r\x1b[0K${terminalText(header)}\n`
  const body = lines.map((l) => `${terminalText(l)}\n`).join('')
  return `${start}${body}\x1b[0Ksection_end:${t}:${id}\r\x1b[0K\n`
}

/**
 * The report for a GitLab job log: one collapsed section per pod log the
 * diagnosis holds, then the text report in a section of its own, open when
 * the wait did not end well, collapsed when it did.
 */
export function gitlabReport(o: Outcome, opts: { color: boolean; time: number; now?: number; width?: number }): string {
  const reports = o.jobs ?? (o.job ? [{ name: o.job, diagnosis: o.diagnosis }] : [])
  let out = ''
  let n = 0
  for (const r of reports) {
    for (const ev of r.diagnosis?.evidence ?? []) {
      if (!ev.log) continue
      const which = ev.log.previous ? ', previous instance' : ''
      const header = `Log of pod ${ev.pod}, container ${ev.log.container}${which} (${ev.log.lines.length} lines)`
      out += gitlabSection(`kube_job_wait_log_${n++}`, header, ev.log.lines, opts.time)
    }
  }
  const text = textReport(o, { color: opts.color, now: opts.now, width: opts.width })
  const [head, ...rest] = text.replace(/\n$/, '').split('\n')
  // The report is ours (its cluster text is cleaned already): written as is, colour kept.
  const id = 'kube_job_wait_diagnosis'
  const t = Math.floor(opts.time)
  out += `\x1b[0Ksection_start:${t}:${id}${o.result === 'met' ? '[collapsed=true]' : ''}\r\x1b[0K${head}\n`
  out += rest.map((l) => `${l}\n`).join('')
  out += `\x1b[0Ksection_end:${t}:${id}\r\x1b[0K\n`
  return out
}

// ---------------------------------------------------------------- Buildkite

export interface Command {
  command: string
  args: string[]
  /** written to the command's stdin */
  stdin: string
}

/** An executable's path on PATH, or undefined; `isExecutable` is the one look at the file system. */
export function findOnPath(name: string, envPath: string | undefined, isExecutable: (file: string) => boolean): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue
    const file = path.join(dir, name)
    if (isExecutable(file)) return file
  }
  return undefined
}

const STYLE: Record<Outcome['result'], 'success' | 'error' | 'warning'> = {
  met: 'success',
  failed: 'error',
  error: 'error',
  timeout: 'warning',
  cancelled: 'warning'
}

/**
 * The `buildkite-agent annotate` call with the markdown report on stdin, or
 * undefined when the agent is not on PATH (a build step without it, or
 * another CI). One context, so that a second run replaces the annotation.
 */
export function buildkiteAnnotation(
  o: Outcome,
  envPath: string | undefined,
  isExecutable: (file: string) => boolean,
  now?: number
): Command | undefined {
  const agent = findOnPath('buildkite-agent', envPath, isExecutable)
  if (!agent) return undefined
  return {
    command: agent,
    args: ['annotate', '--style', STYLE[o.result], '--context', 'kube-job-wait'],
    stdin: summaryMarkdown(o, now)
  }
}
