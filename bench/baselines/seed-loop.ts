// Baseline: the hand-written loop of the seed (/work/shared/seed), in
// TypeScript with @kubernetes/client-node. Every second it lists the pods by
// the label job-name=NAME, GETs the FIRST one and checks its phase (only that
// pod, whatever the Job's size); for completion it GETs the Job every second
// and checks status.succeeded. The seed gave up after 10 tries; here the limit
// is --timeout so that it can wait as long as the others.
//
//   node bench/baselines/seed-loop.ts --namespace NS --job NAME (--phase Running | --complete) [--timeout SECONDS]
//
// Prints "met" and exits 0, prints "timeout" and exits 3; exits 2 on an error.
// Credentials: KUBECONFIG. User-Agent: kjw-bench-seed-loop/1.
import { BatchV1Api, CoreV1Api, KubeConfig, setHeaderOptions, type V1Pod } from '@kubernetes/client-node'
import { parseArgs } from 'node:util'

const { values: a } = parseArgs({
  options: {
    namespace: { type: 'string' },
    job: { type: 'string' },
    phase: { type: 'string' },
    complete: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '900' }
  }
})
if (!a.namespace || !a.job || (!a.phase && !a.complete)) {
  console.error('usage: seed-loop.ts --namespace NS --job NAME (--phase PHASE | --complete) [--timeout SECONDS]')
  process.exit(2)
}
const namespace = a.namespace
const jobName = a.job
const opts = setHeaderOptions('User-Agent', 'kjw-bench-seed-loop/1')
const kc = new KubeConfig()
kc.loadFromDefault()
const core = kc.makeApiClient(CoreV1Api)
const batch = kc.makeApiClient(BatchV1Api)
const deadline = Date.now() + Number(a.timeout) * 1000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// getJobPod of the seed: list by job-name, then GET the first pod.
async function getJobPod(): Promise<V1Pod | undefined> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${jobName}` }, opts)
  if (!pods.items || pods.items.length === 0) return undefined
  return core.readNamespacedPod({ namespace, name: pods.items[0].metadata!.name! }, opts)
}

async function done(): Promise<boolean> {
  if (a.complete) {
    const job = await batch.readNamespacedJob({ namespace, name: jobName }, opts)
    return (job.status?.succeeded ?? 0) >= (job.spec?.completions ?? 1)
  }
  const pod = await getJobPod()
  return pod !== undefined && pod.status?.phase === a.phase
}

try {
  for (;;) {
    if (await done()) {
      console.log('met')
      process.exit(0)
    }
    if (Date.now() >= deadline) {
      console.log('timeout')
      process.exit(3)
    }
    await sleep(1000)
  }
} catch (err) {
  console.error(`error: ${(err as Error).message?.split('\n')[0]}`)
  process.exit(2)
}
