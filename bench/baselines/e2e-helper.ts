// Baseline: the Kubernetes e2e framework's Job helpers, in TypeScript with
// @kubernetes/client-node. waitForJobPodsInPhase: wait.PollWithContext with
// framework.Poll (2 s): the first check comes one interval after the start;
// each check lists the Job's pods (label batch.kubernetes.io/job-name) and is
// done when the number of pods in exactly the phase equals the expected count.
// For completion (WaitForJobFinish style): GET the Job every 2 s until its
// Complete condition is True.
//
//   node bench/baselines/e2e-helper.ts --namespace NS --job NAME (--phase P --expected N | --complete) [--timeout SECONDS]
//
// Prints "met" and exits 0, prints "timeout" and exits 3; exits 2 on an error.
// Credentials: KUBECONFIG. User-Agent: kjw-bench-e2e-helper/1.
import { BatchV1Api, CoreV1Api, KubeConfig, setHeaderOptions } from '@kubernetes/client-node'
import { parseArgs } from 'node:util'

const { values: a } = parseArgs({
  options: {
    namespace: { type: 'string' },
    job: { type: 'string' },
    phase: { type: 'string' },
    expected: { type: 'string', default: '1' },
    complete: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '900' }
  }
})
if (!a.namespace || !a.job || (!a.phase && !a.complete)) {
  console.error('usage: e2e-helper.ts --namespace NS --job NAME (--phase PHASE --expected N | --complete) [--timeout SECONDS]')
  process.exit(2)
}
const namespace = a.namespace
const jobName = a.job
const expected = Number(a.expected)
const POLL_MS = 2000 // framework.Poll
const opts = setHeaderOptions('User-Agent', 'kjw-bench-e2e-helper/1')
const kc = new KubeConfig()
kc.loadFromDefault()
const core = kc.makeApiClient(CoreV1Api)
const batch = kc.makeApiClient(BatchV1Api)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function condition(): Promise<boolean> {
  if (a.complete) {
    const job = await batch.readNamespacedJob({ namespace, name: jobName }, opts)
    return (job.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True')
  }
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${jobName}` }, opts)
  let count = 0
  for (const p of pods.items) if (p.status?.phase === a.phase) count++
  return count === expected
}

// wait.PollWithContext(ctx, interval, timeout, condition): ticks every
// interval (not immediately), stops with ErrWaitTimeout after timeout.
const start = Date.now()
const timeoutMs = Number(a.timeout) * 1000
try {
  for (let tick = 1; ; tick++) {
    const next = start + tick * POLL_MS
    if (next - start > timeoutMs) {
      await sleep(Math.max(0, start + timeoutMs - Date.now()))
      console.log('timeout')
      process.exit(3)
    }
    await sleep(Math.max(0, next - Date.now()))
    if (await condition()) {
      console.log('met')
      process.exit(0)
    }
  }
} catch (err) {
  console.error(`error: ${(err as Error).message?.split('\n')[0]}`)
  process.exit(2)
}
