// `-o json` and `-o name`: the machine-readable faces of an Outcome. JSON has
// the action's outputs (render.ts outputs()), each as a JSON value instead of
// a string, so that `jq .pods` works on the CLI as `fromJSON(...)` does on
// the action; `name` prints each Job that met the target, as kubectl wait
// prints the resources it waited for.
import type { Outcome } from '../report/outcome.js'
import { outputs } from '../report/render.js'

/** The outputs whose value is JSON text in the action. */
const JSON_OUTPUTS = new Set(['phases', 'pods', 'job', 'jobs', 'deleted', 'created'])

export function jsonOutput(o: Outcome): string {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(outputs(o))) {
    if (JSON_OUTPUTS.has(k)) out[k] = JSON.parse(v)
    else if (k === 'count' || k === 'elapsed') out[k] = Number(v)
    else out[k] = v
  }
  return `${JSON.stringify(out, null, 2)}\n`
}

/** "job.batch/NAME" for each Job that met the target; nothing for the others. */
export function nameOutput(o: Outcome): string {
  const met = o.jobs ? o.jobs.filter((j) => j.verdict.state === 'met').map((j) => j.name) : o.job && o.result === 'met' ? [o.job] : []
  return met.map((n) => `job.batch/${n}\n`).join('')
}
