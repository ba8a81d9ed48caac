// What the clean-up did (src/cleanup.ts), where the runner shows it: the log,
// a warning for each Job not deleted, the output deleted, the job summary.
import * as core from '@actions/core'
import { cleanupLines, cleanupMarkdown, deleteJobs, type Cleanup } from '../cleanup.js'
import type { Settings } from '../inputs.js'
import type { KubeHttp } from '../kube/http.js'
import type { Observed } from '../model.js'
import type { Outcome } from '../report/outcome.js'
import { appendSummary } from './report.js'

const TITLE = 'kube-job-wait: clean-up'

/** Deletes the Jobs as the inputs ask, and says so. */
export async function cleanUp(
  http: KubeHttp,
  settings: Settings,
  outcome: Outcome,
  seen: Observed,
  only?: readonly string[]
): Promise<void> {
  const done = await deleteJobs(http, settings, outcome, seen, only)
  if (done) reportCleanup(done, outcome)
}

export function reportCleanup(c: Cleanup, outcome: Outcome): void {
  const lines = cleanupLines(c)
  for (const line of lines.kept) core.info(line)
  for (const failure of c.failures) core.warning(failure, { title: TITLE })
  if (lines.deleted) {
    outcome.deleted = c.deleted
    core.setOutput('deleted', JSON.stringify(c.deleted))
    core.info(lines.deleted)
  }
  const summary = cleanupMarkdown(c)
  if (!summary) return
  try {
    appendSummary(summary)
  } catch (err) {
    core.warning(`could not write the job summary: ${(err as Error).message}`)
  }
}
