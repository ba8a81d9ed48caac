// Writes an Outcome where the runner shows it: outputs, the job summary, an
// annotation, and the step's failure. Called once, on every path.
import * as core from '@actions/core'
import type { Settings } from '../inputs.js'
import type { Outcome } from './outcome.js'
import { jobName, outputs, summaryMarkdown } from './render.js'

export async function report(o: Outcome, _settings?: Settings): Promise<void> {
  for (const [k, v] of Object.entries(outputs(o))) core.setOutput(k, v)
  const title = o.job ? `kube-job-wait: ${jobName(o)}` : 'kube-job-wait'
  if (o.result === 'met') {
    core.notice(o.message, { title })
  } else {
    core.setFailed(o.message)
  }
  try {
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(summaryMarkdown(o)).write()
  } catch (err) {
    core.warning(`could not write the job summary: ${(err as Error).message}`)
  }
}
