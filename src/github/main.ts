// The GitHub Action's face of the engine (src/engine.ts): inputs from the
// runner, the step's log through the stop-commands gate, outputs,
// annotations, the job summary, the PR comment; and the process: the
// runner's signals, and one report whatever fails.
import * as core from '@actions/core'
import { WaitRun, type EngineIO, type Timing } from '../engine.js'
import type { Outcome } from '../report/outcome.js'
import { LogGate } from './commands.js'

/** What only the report needs (outputs, annotations, the summary's Markdown, the clean-up's lines). */
const reportCode = async () => {
  const [report, summary, cleanup] = await Promise.all([import('./report.js'), import('../report/summary.js'), import('./cleanup.js')])
  return { ...report, createdMarkdown: summary.createdMarkdown, reportCleanup: cleanup.reportCleanup }
}
type ReportCode = Awaited<ReturnType<typeof reportCode>>

/**
 * One step. `exiting`: the caller ends the process the moment run() returns (the entry point), so the
 * tidy-up is left to the exit, which closes every connection and timer at once; other callers (tests,
 * local-action) are left with no watch, request or timer open.
 */
export async function run(tuning: Partial<Timing> = {}, { exiting = false } = {}): Promise<Outcome> {
  // The one writer of the step's log while cluster text may be in it (commands.ts): cluster text goes
  // through gate.untrusted, the action's own commands (warning, debug, group...) through gate.own.
  // core.info writes to stdout as the gate would (one write for many lines), and tests see it.
  const gate = new LogGate((text) => core.info(text.replace(/\n$/, '')))
  // Not loaded before the first request: it loads with the first snapshot, while the Job runs,
  // so that it is there when the verdict comes (or at once, on a path that ends before any snapshot).
  let loading: Promise<ReportCode> | undefined
  const reporting = () => (loading ??= reportCode())
  // A manifest's relative paths start from the checkout.
  const wait = new WaitRun({ ...stepLog(gate), observing: () => void reporting() }, tuning, {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd()
  })
  // The runner cancels with SIGINT, then SIGTERM 7.5 s later: both end the wait
  // at once, and the report is still written.
  const cancel = new AbortController()
  const onSignal = () => cancel.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  // One report, whichever path gets there first: the crash handler below and the main flow both end
  // here, and the second finds the first's report (outputs written twice would have the last one win).
  let reported: { outcome: Outcome; done: Promise<void> } | undefined
  const reportOnce = (outcome: Outcome) => (reported ??= { outcome, done: finish(outcome, wait, gate, reporting()) })
  // The last resort: a throw that escaped every handler still ends in result=error, reported; after a
  // report already begun it only ends the step, with that report's exit code.
  let crashed = false
  const onCrash = (err: unknown) => {
    if (crashed) return
    crashed = true
    const first = reported === undefined
    const { done } = reportOnce(wait.failed(err))
    if (!first) gate.own(() => core.debug(`after the report: ${(err as Error)?.stack ?? String(err)}`))
    void done.finally(() => process.exit(first ? 1 : undefined))
  }
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  const ours = reportOnce(await wait.outcome((name) => core.getInput(name), cancel.signal))
  await ours.done
  if (exiting) return ours.outcome
  // Tidy up after the report, without waiting for it.
  wait.close()
  process.removeListener('SIGINT', onSignal)
  process.removeListener('SIGTERM', onSignal)
  process.removeListener('uncaughtException', onCrash)
  process.removeListener('unhandledRejection', onCrash)
  return ours.outcome
}

/** The engine's words in the step's log: cluster text inside the stop-commands block, ours outside. */
function stepLog(gate: LogGate): EngineIO {
  return {
    info: (text) => gate.own(() => core.info(text)),
    untrusted: (text) => gate.untrusted(text),
    warning: (message, props) => gate.own(() => (props ? core.warning(message, props) : core.warning(message))),
    debug: (message) => gate.own(() => core.debug(message)),
    secret: (value) => core.setSecret(value)
  }
}

/** Outputs, annotations and summary; then the optional PR comment; then the clean-up. */
async function finish(outcome: Outcome, wait: WaitRun, gate: LogGate, code: Promise<ReportCode>): Promise<void> {
  outcome.runUrl ??= runUrl()
  wait.complete(outcome)
  const { report, reportCleanup, appendSummary, createdMarkdown } = await code
  report(outcome, gate)
  if (wait.created) createdSummary(() => appendSummary(createdMarkdown(wait.created!)))
  const token = wait.settings?.prCommentToken
  // report() ended outside the block: the comment's lines (ours) are written there too
  gate.close()
  // A PR comment or a clean-up follows: the watches end first. Otherwise they are left to run() and to the exit.
  const commenting = token && outcome.result !== 'cancelled'
  if (commenting || wait.deletes(outcome)) await wait.release()
  if (commenting) await prComment(outcome, token)
  // What becomes of the Jobs: after the report, so that a failure to delete changes nothing of it.
  const cleanup = await wait.cleanUp(outcome)
  if (cleanup) reportCleanup(cleanup, outcome)
}

/** What the step created or re-created, under the report. */
function createdSummary(append: () => void): void {
  try {
    append()
  } catch (err) {
    core.warning(`could not write the job summary: ${(err as Error).message}`)
  }
}

async function prComment(o: Outcome, token: string): Promise<void> {
  try {
    // Loaded here: few steps comment (it renders the summary, and loads Octokit in turn).
    const { commentOnPullRequest } = await import('./pr-comment.js')
    const url = await commentOnPullRequest(o, token)
    if (url) core.info(`pull-request comment: ${url}`)
  } catch (err) {
    core.warning(`could not comment on the pull request: ${(err as Error).message?.split('\n')[0]}`)
  }
}

/** The run's page, from the variables the runner sets (as @actions/github's context reads them). */
function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID } = process.env
  if (!GITHUB_REPOSITORY || !GITHUB_RUN_ID) return undefined
  return `${GITHUB_SERVER_URL || 'https://github.com'}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`
}
