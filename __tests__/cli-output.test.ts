// -o json has the action's outputs as JSON values; -o name lists the Jobs that met.
import { expect, test } from '@jest/globals'
import { jsonOutput, nameOutput } from '../src/cli/output.js'
import { outputs } from '../src/report/render.js'
import { met, severalFailed, stuckPull } from './support/cli-outcomes.js'

test('-o json: every output of the action, JSON text parsed, numbers as numbers', () => {
  const o = severalFailed()
  const json = JSON.parse(jsonOutput(o)) as Record<string, unknown>
  expect(Object.keys(json).sort()).toEqual(Object.keys(outputs(o)).sort())
  expect(json).toMatchObject({ result: 'failed', count: 0, job: null, deleted: [], created: [], elapsed: 23.4 })
  expect((json.pods as { name: string; job: string }[]).map((p) => `${p.job}/${p.name}`)).toEqual([
    'migrate/migrate-7kq2x',
    'seed/seed-m4t8c',
    'smoke/smoke-r2d9v',
    'smoke/smoke-hx5wq'
  ])
  expect(json.phases).toEqual(JSON.parse(outputs(o).phases))
  expect(Object.keys(json.jobs as object)).toEqual(['migrate', 'seed', 'smoke'])
  expect(jsonOutput(o).endsWith('}\n')).toBe(true)
})

test('-o json of one Job: job is the Job', () => {
  const json = JSON.parse(jsonOutput(met())) as { job: { name: string; succeeded: number }; result: string }
  expect(json.result).toBe('met')
  expect(json.job).toMatchObject({ name: 'migrate', succeeded: 1 })
})

test('-o json: the Jobs the step created, as a list', () => {
  const json = JSON.parse(jsonOutput({ ...met(), created: ['db-migrate-x7k2q'] })) as { created: unknown }
  expect(json.created).toEqual(['db-migrate-x7k2q'])
})

test('-o name: the Jobs that met, as kubectl names them; nothing for a failed one', () => {
  expect(nameOutput(severalFailed())).toBe('job.batch/migrate\njob.batch/seed\n')
  expect(nameOutput(met())).toBe('job.batch/migrate\n')
  expect(nameOutput(stuckPull())).toBe('')
})
