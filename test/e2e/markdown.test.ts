// Cluster text on the job summary's page, on the real control plane: the API
// server takes any annotation on a pod template, the Job controller's own
// `batch.kubernetes.io/job-completion-index` too, on a NonIndexed Job
// (issue 17). The summary is parsed as GitHub parses it
// (__tests__/support/gfm-page.ts).
import { afterEach, expect, test } from '@jest/globals'
import { parse, problems, walk } from '../../__tests__/support/gfm-page.js'
import { expectResult, runAction } from './support/action.js'
import { NS, cleanup, createJob, listPods, uniqueName } from './support/cluster.js'

afterEach(cleanup)

const INDEX = 'batch.kubernetes.io/job-completion-index'
/** The finding's value: it ends the table row, closes the chart's fence, then a heading, a link, an image and a mention. */
const PAYLOAD = '0 | x |\n```\n## Owned\n[click](https://evil.example) <img src=x onerror=alert(1)> @octocat'
const RUN_URL = 'https://github.com/acme/app/actions/runs/42'

test('a completion-index annotation set by the pod template of a NonIndexed Job: the summary keeps its shape', async () => {
  const name = uniqueName('mdindex')
  await createJob({ name, parallelism: 2, sim: { 'run-ms': '-1' }, podAnnotations: { [INDEX]: PAYLOAD } })
  const run = await runAction({
    inputs: { job: name, namespace: NS, phase: 'Running', timeout: '60s' },
    env: { GITHUB_REPOSITORY: 'acme/app', GITHUB_RUN_ID: '42' }
  })
  expectResult(run, 'met')
  // The API server kept the value for the action to read.
  const pods = await listPods(NS, `job-name=${name}`)
  expect(pods.map((p) => p.metadata.annotations[INDEX])).toEqual([PAYLOAD, PAYLOAD])

  expect(problems(run.summary, RUN_URL)).toEqual([])
  const tree = parse(run.summary)
  const nodes = [...walk(tree)].map(({ node }) => node)
  expect(nodes.filter((n) => n.type === 'heading').length).toBe(2)
  expect(nodes.filter((n) => n.type === 'table').length).toBe(1)
  expect(nodes.filter((n) => n.type === 'code' && n.lang === 'mermaid').length).toBe(1)
  expect(nodes.filter((n) => n.type === 'link').length).toBe(1)
  // It took the value for no index: none in the outputs either.
  expect(run.pods.map((p) => p.index)).toEqual([undefined, undefined])
})
