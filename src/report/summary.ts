// The job summary: what a person reading the run needs to see, without
// access to the cluster. The verdict first, then why (causes with their
// messages, events and log tails), then the pods, the Job and a timeline.
// Large Jobs are aggregated so the summary stays readable and small.
import { formatDuration } from '../duration.js'
import type { Diagnosis } from '../diagnose/collect.js'
import { causeTitle } from '../decide/explain.js'
import type { PodInfo } from '../model.js'
import { targetText, type JobReport, type Outcome } from './outcome.js'
import { jobName, podRow, sortedPods } from './render.js'
import { markdownCodeBlock, markdownInline, oneLine } from '../text/gate.js'

/** Beyond this many pods the table and the timeline give way to counts. */
export const MAX_POD_ROWS = 50
const MAX_LOG_LINE = 400
const MAX_EVENTS = 8

const ICON: Record<string, string> = { met: '✅', failed: '❌', timeout: '⏱️', cancelled: '🚫', error: '⚠️' }

// Cluster text (messages, reasons, events, log lines) is untrusted: it goes
// through the gate's markdown escaping (src/text/gate.ts), so that no `|`,
// fence, HTML tag, @mention or #reference in it changes the page.
/** Our own text with names in it, in a table cell or a line. */
export const esc = (s: string | null | undefined): string => (s ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
/** Several lines as one: a message is read whole, not cut at its first line break. */
const flat = (s: string | null | undefined): string => (s ?? '').replace(/\r?\n/g, ' ')
/** Cluster text as inline markdown, one line. */
const md = (s: string | null | undefined, max = 1000): string => markdownInline(flat(s), max)
/** Our phrases that quote cluster names and reasons (a cause, the verdict's message): one line, HTML
 * inert, no emphasis, code, link or table break, no mention or reference; plain punctuation kept. */
const phrase = (s: string | null | undefined, max = 1000): string =>
  oneLine(flat(s), max)
    .replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'))
    .replace(/[\\`*_[\]~|]/g, '\\$&')
    .replace(/[@#]/g, '$&\u200d')
/** Log lines in a fence that nothing inside can close. */
const fenced = (lines: string[]) => markdownCodeBlock(lines.map((l) => clip(l, MAX_LOG_LINE))).split('\n')

function ms(iso: string | undefined): number | undefined {
  if (!iso) return undefined
  const t = Date.parse(iso)
  return Number.isNaN(t) ? undefined : t
}

/** When each pod ran: Pending from creation, Running from the container start, to its end. */
export function podTimes(p: PodInfo): { created?: number; started?: number; finished?: number } {
  const main = p.containers.filter((c) => !c.init)
  // A crash-looping container waits between runs, yet it has run: from its first start,
  // which the API does not keep; the pod's start is the closest time it does.
  const starts = main
    .flatMap((c) => [ms(c.startedAt), ms(c.lastStartedAt), c.restartCount > 0 ? ms(p.startTime) : undefined])
    .filter((x): x is number => x !== undefined)
  const ends = main.map((c) => ms(c.finishedAt)).filter((x): x is number => x !== undefined)
  const done = p.phase === 'Succeeded' || p.phase === 'Failed'
  return {
    created: ms(p.creationTimestamp),
    started: starts.length ? Math.min(...starts) : undefined,
    finished: done && ends.length ? Math.max(...ends) : undefined
  }
}

function duration(p: PodInfo, now: number): string {
  const t = podTimes(p)
  const from = t.started ?? ms(p.startTime)
  if (from === undefined) return ''
  return formatDuration((t.finished ?? now) - from)
}

function podTable(pods: PodInfo[], now: number): string[] {
  const indexed = pods.some((p) => p.completionIndex !== undefined)
  const head = ['Pod', ...(indexed ? ['Index'] : []), 'Phase', 'Node', 'Started', 'Duration', 'Restarts', 'Reason']
  const out = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`]
  for (const p of pods) {
    const r = podRow(p)
    const cells = [
      esc(r.name),
      ...(indexed ? [r.index ?? ''] : []),
      r.phase,
      esc(r.node),
      r.startTime ?? '',
      duration(p, now),
      String(r.restarts),
      phrase(r.reason, 200)
    ]
    out.push(`| ${cells.join(' | ')} |`)
  }
  return out
}

/** Counts per phase and reason, for Jobs too large for a row per pod. */
function aggregateTable(pods: PodInfo[]): string[] {
  const counts = new Map<string, number>()
  for (const p of pods) {
    const r = podRow(p)
    const key = `${r.phase}|${r.reason ?? ''}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1])
  return [
    '| Phase | Reason | Pods |',
    '| --- | --- | --- |',
    ...rows.map(([k, n]) => `| ${k.split('|')[0]} | ${phrase(k.split('|')[1], 200)} | ${n} |`)
  ]
}

/** A Mermaid gantt chart of each pod's Pending and Running time (GitHub renders it). */
export function timeline(pods: PodInfo[], now: number): string[] {
  const rows: string[] = []
  let n = 0
  for (const p of pods) {
    const t = podTimes(p)
    if (t.created === undefined) continue
    const end = t.finished ?? now
    const runFrom = t.started ?? (t.finished !== undefined ? t.finished : undefined)
    const label = p.completionIndex !== undefined ? `${p.name} [${p.completionIndex}]` : p.name
    rows.push(`  section ${label.replace(/[:#;]/g, ' ')}`)
    const pendingEnd = runFrom ?? end
    if (pendingEnd > t.created) rows.push(`  Pending :p${n}, ${t.created}, ${pendingEnd}`)
    if (runFrom !== undefined && end > runFrom) {
      const tag = p.phase === 'Failed' ? 'crit' : p.phase === 'Succeeded' ? 'done' : 'active'
      rows.push(`  ${p.phase === 'Running' ? 'Running' : `Running → ${p.phase}`} :${tag}, r${n}, ${runFrom}, ${end}`)
    }
    n++
  }
  if (!rows.length) return []
  return ['```mermaid', 'gantt', '  dateFormat x', '  axisFormat %H:%M:%S', ...rows, '```']
}

function why(o: Outcome, d: Diagnosis | undefined): string[] {
  const out: string[] = []
  const groups = o.verdict?.problems ?? []
  if (!groups.length && !d?.jobEvents.length && !d?.notes.length) return out
  out.push('### Why', '')
  for (const g of groups.slice(0, 10)) {
    const names =
      g.pods
        .slice(0, 5)
        .map((p) => `\`${p.name}\``)
        .join(', ') + (g.pods.length > 5 ? ` and ${g.pods.length - 5} more` : '')
    out.push(`**${phrase(causeTitle(g))}**: ${names}`, '')
    if (g.first.message) out.push(`> ${md(g.first.message, 1000)}`, '')
    const ev = d?.evidence.find((e) => g.pods.some((p) => p.name === e.pod))
    if (ev?.events.length) {
      for (const e of ev.events.slice(0, MAX_EVENTS))
        out.push(`- ⚠️ ${phrase(e.reason)}${e.count > 1 ? ` (×${e.count})` : ''}: ${md(e.message, 500)}`)
      out.push('')
    }
    if (ev?.log) {
      const which = ev.log.previous ? 'previous instance' : 'last'
      out.push(
        `<details><summary>Log of <code>${ev.pod}</code>, container <code>${ev.log.container}</code> (${which}, ${ev.log.lines.length} lines)</summary>`,
        ''
      )
      out.push(...(ev.log.lines.length ? fenced(ev.log.lines) : ['(empty)']), '', '</details>', '')
    }
  }
  if (groups.length > 10) out.push(`…and ${groups.length - 10} more causes.`, '')
  if (d?.jobEvents.length) {
    out.push('Job events:', '')
    for (const e of d.jobEvents.slice(0, MAX_EVENTS))
      out.push(`- ⚠️ ${phrase(e.reason)}${e.count > 1 ? ` (×${e.count})` : ''}: ${md(e.message, 500)}`)
    out.push('')
  }
  for (const note of d?.notes ?? []) out.push(`<sub>${phrase(note)}</sub>`, '')
  return out
}

export function summaryMarkdown(o: Outcome, now = Date.now()): string {
  if (o.jobs) return severalMarkdown(o, o.jobs, now)
  const lines: string[] = []
  const who = o.job ? `job \`${jobName(o)}\`` : 'kube-job-wait'
  lines.push(`## ${ICON[o.result] ?? ''} ${who}: ${o.result} after ${formatDuration(o.elapsedMs)}`, '')
  lines.push(`Waited for ${targetText(o.target)}. ${phrase(o.message, 2000)}${o.runUrl ? ` ([run](${o.runUrl}))` : ''}`, '')
  lines.push(...notes(o.verdict?.notes))
  lines.push(...jobDetails(o, '###', now))
  if (o.mode) lines.push(`<sub>${o.mode} mode, ${o.requests ?? 0} API requests</sub>`)
  return lines.join('\n') + '\n'
}

function notes(list: { title: string; message: string }[] | undefined): string[] {
  return (list ?? []).flatMap((n) => [`> ⚠️ **${phrase(n.title)}**: ${phrase(n.message)}`, ''])
}

/** Why, the pods, the Job and the timeline of one Job. */
function jobDetails(o: Outcome, h: string, now: number): string[] {
  const lines: string[] = []
  if (o.result === 'failed' || o.result === 'timeout') lines.push(...why(o, o.diagnosis).map((l) => (l === '### Why' ? `${h} Why` : l)))

  const pods = sortedPods(o.snapshot)
  if (pods.length > MAX_POD_ROWS) {
    lines.push(`${h} Pods (${pods.length})`, '', ...aggregateTable(pods), '')
    const named = new Set((o.verdict?.problems ?? []).flatMap((g) => g.pods.map((p) => p.uid)))
    const problems = pods.filter((p) => named.has(p.uid) || p.restarts > 0)
    if (problems.length) {
      lines.push(`Pods with problems (${problems.length}${problems.length > MAX_POD_ROWS ? `, the first ${MAX_POD_ROWS}` : ''}):`, '')
      lines.push(...podTable(problems.slice(0, MAX_POD_ROWS), now), '')
    }
  } else if (pods.length) {
    lines.push(`${h} Pods (${pods.length})`, '', ...podTable(pods, now), '')
  }

  const job = o.snapshot?.job
  if (job) {
    lines.push(
      `**Job** ${job.namespace}/${job.name}: ${job.active} active, ${job.ready} ready, ${job.succeeded} succeeded, ${job.failed} failed${o.snapshot?.jobDeleted ? ' (deleted)' : ''}`
    )
    for (const c of job.conditions)
      lines.push(`- ${phrase(c.type)}=${phrase(c.status)}${c.reason ? ` ${phrase(c.reason)}` : ''}${c.message ? `: ${md(c.message)}` : ''}`)
    const inferred = o.snapshot?.inferred?.condition
    if (inferred)
      lines.push(`- ${inferred.type}, inferred from the Job controller's events${inferred.reason ? ` (${phrase(inferred.reason)})` : ''}`)
    lines.push('')
  }
  if (pods.length && pods.length <= MAX_POD_ROWS) {
    const chart = timeline(pods, now)
    if (chart.length) lines.push('<details><summary>Timeline</summary>', '', ...chart, '', '</details>', '')
  }
  return lines
}

/** How long a Job ran: from its start (or creation) to its completion, or to now. */
function jobDuration(r: JobReport, now: number): string {
  const job = r.snapshot.job
  const from = ms(job?.startTime ?? job?.creationTimestamp)
  if (from === undefined) return ''
  const end =
    ms(job?.completionTime) ?? ms(job?.conditions.find((c) => c.type === 'Failed' && c.status === 'True')?.lastTransitionTime) ?? now
  return formatDuration(end - from)
}

const JOB_ICON: Record<string, string> = { met: '✅', failed: '❌', timeout: '⏱️', cancelled: '🚫', waiting: '⏳' }

/** Several Jobs: one line per Job on top, then the details of those that failed or fell short. */
function severalMarkdown(o: Outcome, jobs: JobReport[], now: number): string {
  const ns = o.namespace ? ` in \`${o.namespace}\`` : ''
  const lines: string[] = []
  lines.push(`## ${ICON[o.result] ?? ''} ${jobs.length} jobs${ns}: ${o.result} after ${formatDuration(o.elapsedMs)}`, '')
  lines.push(`Waited for ${targetText(o.target)} of each. ${phrase(o.message, 2000)}${o.runUrl ? ` ([run](${o.runUrl}))` : ''}`, '')
  for (const j of jobs) {
    const took = jobDuration(j, now)
    lines.push(`- ${JOB_ICON[j.verdict.state] ?? ''} \`${j.name}\`: ${phrase(j.verdict.message)}${took ? ` (${took})` : ''}`)
  }
  lines.push('')
  lines.push(...notes(o.notes))
  for (const j of jobs) {
    if (j.verdict.state === 'met') continue
    const sub: Outcome = {
      result: j.verdict.state === 'waiting' ? o.result : j.verdict.state,
      message: j.verdict.message,
      namespace: o.namespace,
      job: j.name,
      target: o.target,
      verdict: j.verdict,
      snapshot: j.snapshot,
      diagnosis: j.diagnosis,
      elapsedMs: o.elapsedMs
    }
    lines.push(`### ${JOB_ICON[j.verdict.state] ?? ''} job \`${jobName(sub)}\`: ${j.verdict.state}`, '')
    lines.push(...jobDetails(sub, '####', now))
  }
  if (o.mode) lines.push(`<sub>${o.mode} mode, ${o.requests ?? 0} API requests</sub>`)
  return lines.join('\n') + '\n'
}
