// One sticky pull-request comment per Job with the verdict and the pods,
// created on the first run and updated on the next. Optional
// (comment-on-pr: true); a failure here is a warning, never the step's result.
import * as core from '@actions/core'
import { gfm, mdComment, mdLines, type Markdown } from '../text/gate.js'
import type { Outcome } from '../report/outcome.js'
import { jobName } from '../report/render.js'
import { summaryParts } from '../report/summary.js'

/** GitHub refuses comment bodies over 65,536 characters. */
const MAX_BODY = 60_000

export function marker(o: Pick<Outcome, 'namespace' | 'job'>): Markdown {
  return mdComment(`kube-job-wait: ${jobName(o)}`)
}

/** The marker, then the summary; a summary too long is cut at a whole part, so no table or fence is left open. */
export function commentBody(o: Outcome, maxBody = MAX_BODY, now = Date.now()): Markdown {
  const parts = summaryParts(o, now)
  const body = mdLines(parts)
  if (body.length < maxBody) return gfm`${marker(o)}\n${body}\n`
  const kept: Markdown[] = []
  let size = 0
  for (const part of parts) {
    size += part.length + 1
    if (size > maxBody) break
    kept.push(part)
  }
  return gfm`${marker(o)}\n${mdLines(kept)}\n\n…(cut; the job summary of the run has it all)\n`
}

/** Returns the comment's URL, or undefined when there is no pull request. */
export async function commentOnPullRequest(o: Outcome, token: string): Promise<string | undefined> {
  // Loaded only when a comment is asked for: Octokit is a fifth of the bundle and
  // most runs never need it (its own chunk in dist/).
  await (await import('../kube/undici-on-demand.js')).loadUndici() // before Octokit's proxy support builds a ProxyAgent
  const github = await import('@actions/github')
  const ctx = github.context
  const number = ctx.payload.pull_request?.number ?? (ctx.payload.issue?.pull_request ? ctx.payload.issue.number : undefined)
  if (!number) {
    core.info('comment-on-pr: this run is not for a pull request; no comment')
    return undefined
  }
  const octokit = github.getOctokit(token)
  const { owner, repo } = ctx.repo
  const mark = marker(o)
  const body = commentBody(o)
  let existing: { id: number } | undefined
  for (let page = 1; page <= 10 && !existing; page++) {
    const { data } = await octokit.rest.issues.listComments({ owner, repo, issue_number: number, per_page: 100, page })
    existing = data.find((c) => c.body?.startsWith(mark))
    if (data.length < 100) break
  }
  if (existing) {
    const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body })
    return data.html_url
  }
  const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body })
  return data.html_url
}
