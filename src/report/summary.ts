// The job summary: what a person reading the run needs to see, without
// access to the cluster. The verdict first, then why (causes with their
// messages, events and log tails), then the pods, the Job and a timeline.
// Large Jobs are aggregated so the summary stays readable and small.
import type { Applied } from '../create/create.js'
import { formatDuration } from '../duration.js'
import type { Diagnosis } from '../diagnose/collect.js'
import { causeTitle } from '../decide/explain.js'
import type { PodInfo } from '../model.js'
import { targetText, type JobReport, type Outcome } from './outcome.js'
import { jobName, podRow, sortedPods } from './render.js'
import {
  gfm,
  gfmHtml,
  htmlText,
  mdCell,
  mdCode,
  mdCodeBlock,
  mdDetails,
  mdJoin,
  mdLines,
  mdLink,
  mdMermaid,
  mdTable,
  mdText,
  mermaid,
  mermaidText,
  type Markdown,
  type MermaidText
} from '../text/gate.js'

/** Beyond this many pods the table and the timeline give way to counts. */
export const MAX_POD_ROWS = 50
const MAX_LOG_LINE = 400
const MAX_EVENTS = 8

const ICON: Record<string, Markdown> = { met: gfm`✅`, failed: gfm`❌`, timeout: gfm`⏱️`, cancelled: gfm`🚫`, error: gfm`⚠️` }

// Every string here, the cluster's or ours, reaches the page through the
// gate's markdown constructors (src/text/gate.ts): the summary is Markdown,
// which nothing else can make, so no `|`, fence, HTML tag, @mention or
// #reference in cluster text can change the page.
const NONE = gfm``
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
/** Log lines in a fence that nothing inside can close. */
const fenced = (lines: string[]): Markdown => mdCodeBlock(lines.map((l) => clip(l, MAX_LOG_LINE)))

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

function podTable(pods: PodInfo[], now: number): Markdown {
  const indexed = pods.some((p) => p.completionIndex !== undefined)
  const head = [gfm`Pod`, ...(indexed ? [gfm`Index`] : []), gfm`Phase`, gfm`Node`, gfm`Started`, gfm`Duration`, gfm`Restarts`, gfm`Reason`]
  const rows = pods.map((p) => {
    const r = podRow(p)
    return [
      mdCell(r.name),
      ...(indexed ? [mdCell(r.index)] : []),
      mdCell(r.phase),
      mdCell(r.node),
      mdCell(r.startTime),
      mdCell(duration(p, now)),
      r.restarts,
      mdCell(r.reason, 200)
    ]
  })
  return mdTable(head, rows)
}

/** Counts per phase and reason, for Jobs too large for a row per pod. */
function aggregateTable(pods: PodInfo[]): Markdown {
  const counts = new Map<string, { phase: string; reason: string; pods: number }>()
  for (const p of pods) {
    const r = podRow(p)
    const key = JSON.stringify([r.phase, r.reason ?? ''])
    const row = counts.get(key) ?? { phase: r.phase, reason: r.reason ?? '', pods: 0 }
    row.pods++
    counts.set(key, row)
  }
  const rows = [...counts.values()].sort((a, b) => b.pods - a.pods)
  return mdTable(
    [gfm`Phase`, gfm`Reason`, gfm`Pods`],
    rows.map((r) => [mdCell(r.phase), mdCell(r.reason, 200), r.pods])
  )
}

/** A Mermaid gantt chart of each pod's Pending and Running time (GitHub renders it), or undefined without times. */
export function timeline(pods: PodInfo[], now: number): Markdown | undefined {
  const rows: MermaidText[] = []
  let n = 0
  for (const p of pods) {
    const t = podTimes(p)
    if (t.created === undefined) continue
    const end = t.finished ?? now
    const runFrom = t.started ?? (t.finished !== undefined ? t.finished : undefined)
    const label = mermaidText(p.completionIndex !== undefined ? `${p.name} [${p.completionIndex}]` : p.name)
    rows.push(mermaid`  section ${label}`)
    const pendingEnd = runFrom ?? end
    if (pendingEnd > t.created) rows.push(mermaid`  Pending :p${n}, ${t.created}, ${pendingEnd}`)
    if (runFrom !== undefined && end > runFrom) {
      const tag = p.phase === 'Failed' ? mermaid`crit` : p.phase === 'Succeeded' ? mermaid`done` : mermaid`active`
      const task = p.phase === 'Running' ? mermaid`Running` : mermaid`Running → ${mermaidText(p.phase)}`
      rows.push(mermaid`  ${task} :${tag}, r${n}, ${runFrom}, ${end}`)
    }
    n++
  }
  if (!rows.length) return undefined
  return mdMermaid([mermaid`gantt`, mermaid`  dateFormat x`, mermaid`  axisFormat %H:%M:%S`, ...rows])
}

/** "- ⚠️ Reason (×3): message" */
const eventLine = (e: { reason: string; count: number; message: string }): Markdown =>
  gfm`- ⚠️ ${mdText(e.reason)}${e.count > 1 ? gfm` (×${e.count})` : NONE}: ${mdText(e.message, 500)}`

function why(o: Outcome, d: Diagnosis | undefined, h: Markdown): Markdown[] {
  const out: Markdown[] = []
  const groups = o.verdict?.problems ?? []
  if (!groups.length && !d?.jobEvents.length && !d?.notes.length) return out
  out.push(gfm`${h} Why`, NONE)
  for (const g of groups.slice(0, 10)) {
    const names = mdJoin(
      g.pods.slice(0, 5).map((p) => mdCode(p.name)),
      gfm`, `
    )
    const more = g.pods.length > 5 ? gfm` and ${g.pods.length - 5} more` : NONE
    out.push(gfm`**${mdText(causeTitle(g))}**: ${names}${more}`, NONE)
    if (g.first.message) out.push(gfm`> ${mdText(g.first.message, 1000)}`, NONE)
    const ev = d?.evidence.find((e) => g.pods.some((p) => p.name === e.pod))
    if (ev?.events.length) {
      for (const e of ev.events.slice(0, MAX_EVENTS)) out.push(eventLine(e))
      out.push(NONE)
    }
    if (ev?.log) {
      const which = ev.log.previous ? gfmHtml`previous instance` : gfmHtml`last`
      const title = gfmHtml`Log of <code>${htmlText(ev.pod)}</code>, container <code>${htmlText(ev.log.container)}</code> (${which}, ${ev.log.lines.length} lines)`
      out.push(mdDetails(title, ev.log.lines.length ? fenced(ev.log.lines) : gfm`(empty)`), NONE)
    }
  }
  if (groups.length > 10) out.push(gfm`…and ${groups.length - 10} more causes.`, NONE)
  if (d?.jobEvents.length) {
    out.push(gfm`Job events:`, NONE)
    for (const e of d.jobEvents.slice(0, MAX_EVENTS)) out.push(eventLine(e))
    out.push(NONE)
  }
  for (const note of d?.notes ?? []) out.push(gfm`<sub>${mdText(note)}</sub>`, NONE)
  return out
}

const runLink = (o: Outcome): Markdown => (o.runUrl ? gfm` (${mdLink(gfm`run`, o.runUrl)})` : NONE)
const footer = (o: Outcome): Markdown[] => (o.mode ? [gfm`<sub>${mdText(o.mode)} mode, ${o.requests ?? 0} API requests</sub>`] : [])

export function summaryMarkdown(o: Outcome, now = Date.now()): Markdown {
  return gfm`${mdLines(summaryParts(o, now))}\n`
}

/**
 * The summary as a list of parts, each a whole block (a table, a section, a
 * paragraph) or an empty line; joined by line breaks they are the summary.
 * Whoever must shorten it (the PR comment) drops whole parts, so that no
 * table, fence or section is left open.
 */
export function summaryParts(o: Outcome, now = Date.now()): Markdown[] {
  if (o.jobs) return severalParts(o, o.jobs, now)
  const who = o.job ? gfm`job ${mdCode(jobName(o))}` : gfm`kube-job-wait`
  return [
    gfm`## ${ICON[o.result] ?? NONE} ${who}: ${mdText(o.result)} after ${mdText(formatDuration(o.elapsedMs))}`,
    NONE,
    gfm`Waited for ${mdText(targetText(o.target))}. ${mdText(o.message, 2000)}${runLink(o)}`,
    NONE,
    ...notes(o.verdict?.notes),
    ...jobDetails(o, gfm`###`, now),
    ...footer(o)
  ]
}

function notes(list: { title: string; message: string }[] | undefined): Markdown[] {
  return (list ?? []).flatMap((n) => [gfm`> ⚠️ **${mdText(n.title)}**: ${mdText(n.message)}`, NONE])
}

/** Why, the pods, the Job and the timeline of one Job. */
function jobDetails(o: Outcome, h: Markdown, now: number): Markdown[] {
  const lines: Markdown[] = []
  if (o.result === 'failed' || o.result === 'timeout') lines.push(...why(o, o.diagnosis, h))

  const pods = sortedPods(o.snapshot)
  if (pods.length > MAX_POD_ROWS) {
    lines.push(gfm`${h} Pods (${pods.length})`, NONE, aggregateTable(pods), NONE)
    const named = new Set((o.verdict?.problems ?? []).flatMap((g) => g.pods.map((p) => p.uid)))
    const problems = pods.filter((p) => named.has(p.uid) || p.restarts > 0)
    if (problems.length) {
      const first = problems.length > MAX_POD_ROWS ? gfm`, the first ${MAX_POD_ROWS}` : NONE
      lines.push(gfm`Pods with problems (${problems.length}${first}):`, NONE)
      lines.push(podTable(problems.slice(0, MAX_POD_ROWS), now), NONE)
    }
  } else if (pods.length) {
    lines.push(gfm`${h} Pods (${pods.length})`, NONE, podTable(pods, now), NONE)
  }

  const job = o.snapshot?.job
  if (job) {
    const deleted = o.snapshot?.jobDeleted ? gfm` (deleted)` : NONE
    lines.push(
      gfm`**Job** ${mdText(`${job.namespace}/${job.name}`)}: ${job.active} active, ${job.ready} ready, ${job.succeeded} succeeded, ${job.failed} failed${deleted}`
    )
    for (const c of job.conditions) {
      const reason = c.reason ? gfm` ${mdText(c.reason)}` : NONE
      const message = c.message ? gfm`: ${mdText(c.message)}` : NONE
      lines.push(gfm`- ${mdText(c.type)}=${mdText(c.status)}${reason}${message}`)
    }
    const inferred = o.snapshot?.inferred?.condition
    if (inferred) {
      const reason = inferred.reason ? gfm` (${mdText(inferred.reason)})` : NONE
      lines.push(gfm`- ${mdText(inferred.type)}, inferred from the Job controller's events${reason}`)
    }
    lines.push(NONE)
  }
  if (pods.length && pods.length <= MAX_POD_ROWS) {
    const chart = timeline(pods, now)
    if (chart) lines.push(mdDetails(gfmHtml`Timeline`, chart), NONE)
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

const JOB_ICON: Record<string, Markdown> = { met: gfm`✅`, failed: gfm`❌`, timeout: gfm`⏱️`, cancelled: gfm`🚫`, waiting: gfm`⏳` }

/** Several Jobs: one line per Job on top, then the details of those that failed or fell short. */
function severalParts(o: Outcome, jobs: JobReport[], now: number): Markdown[] {
  const ns = o.namespace ? gfm` in ${mdCode(o.namespace)}` : NONE
  const lines: Markdown[] = []
  lines.push(
    gfm`## ${ICON[o.result] ?? NONE} ${jobs.length} jobs${ns}: ${mdText(o.result)} after ${mdText(formatDuration(o.elapsedMs))}`,
    NONE
  )
  lines.push(gfm`Waited for ${mdText(targetText(o.target))} of each. ${mdText(o.message, 2000)}${runLink(o)}`, NONE)
  for (const j of jobs) {
    const took = jobDuration(j, now)
    const after = took ? gfm` (${mdText(took)})` : NONE
    lines.push(gfm`- ${JOB_ICON[j.verdict.state] ?? NONE} ${mdCode(j.name)}: ${mdText(j.verdict.message)}${after}`)
  }
  lines.push(NONE)
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
    lines.push(gfm`### ${JOB_ICON[j.verdict.state] ?? NONE} job ${mdCode(jobName(sub))}: ${mdText(j.verdict.state)}`, NONE)
    lines.push(...jobDetails(sub, gfm`####`, now))
  }
  lines.push(...footer(o))
  return lines
}

/** What the step created or re-created, a line under the report (names are the manifest's or the server's). */
export function createdMarkdown(c: Applied): Markdown {
  const parts = c.notes.map((n) => mdText(n))
  if (c.created.length)
    parts.push(
      gfm`created ${mdJoin(
        c.created.map((n) => mdCode(n)),
        gfm`, `
      )}`
    )
  return gfm`\n🆕 ${mdJoin(parts, gfm`; `)}.\n`
}
