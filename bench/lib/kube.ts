// The harness's own API calls (admin credentials, User-Agent kjw-bench-harness
// so that the audit log never mixes them up with a contender's): create the
// benchmark's Jobs, wait for their pods, delete them in the background.
import { BatchV1Api, CoreV1Api, KubeConfig, setHeaderOptions, type V1Job } from '@kubernetes/client-node'
import { log, sleep } from './util.ts'

export const HARNESS_UA = 'kjw-bench-harness/1'

export interface JobSpec {
  name: string
  completions: number
  parallelism: number
  /** sim.kjw.dev/* annotations, without the prefix */
  sim: Record<string, string>
  /** default 0 */
  backoffLimit?: number
  /** more labels, on the Job and its pods (beside kjw.dev/bench=true) */
  labels?: Record<string, string>
}

export class Harness {
  private readonly batch: BatchV1Api
  private readonly core: CoreV1Api
  private readonly opts = setHeaderOptions('User-Agent', HARNESS_UA)
  readonly namespace: string

  constructor(kubeconfig: string, namespace: string) {
    this.namespace = namespace
    const kc = new KubeConfig()
    kc.loadFromFile(kubeconfig)
    this.batch = kc.makeApiClient(BatchV1Api)
    this.core = kc.makeApiClient(CoreV1Api)
  }

  /** No namespace controller runs in the test cluster: the namespace is created once and kept. */
  async ensureNamespace(): Promise<void> {
    try {
      await this.core.readNamespace({ name: this.namespace }, this.opts)
    } catch {
      await this.core.createNamespace({ body: { metadata: { name: this.namespace, labels: { 'kjw.dev/purpose': 'bench' } } } }, this.opts)
    }
  }

  async createJob(s: JobSpec): Promise<string> {
    const job: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: s.name, namespace: this.namespace, labels: { 'kjw.dev/bench': 'true', ...s.labels } },
      spec: {
        completions: s.completions,
        parallelism: s.parallelism,
        backoffLimit: s.backoffLimit ?? 0,
        template: {
          metadata: {
            labels: { 'kjw.dev/bench': 'true', ...s.labels },
            annotations: Object.fromEntries(Object.entries(s.sim).map(([k, v]) => [`sim.kjw.dev/${k}`, v]))
          },
          spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'true'] }] }
        }
      }
    }
    const created = await this.batch.createNamespacedJob({ namespace: this.namespace, body: job }, this.opts)
    return created.metadata!.uid!
  }

  /** Until the Job has at least `count` pods (as created by the Job controller); or the pods matching a label selector. */
  async waitPodsExist(
    uid: string,
    count: number,
    timeoutMs: number,
    labelSelector = `batch.kubernetes.io/controller-uid=${uid}`
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const l = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector }, this.opts)
      if (l.items.length >= count) return
      if (Date.now() > deadline) throw new Error(`job pods: ${l.items.length} of ${count} after ${timeoutMs} ms`)
      await sleep(100)
    }
  }

  /** How many pods the Job has now. */
  async countPods(uid: string): Promise<number> {
    const l = await this.core.listNamespacedPod(
      { namespace: this.namespace, labelSelector: `batch.kubernetes.io/controller-uid=${uid}` },
      this.opts
    )
    return l.items.length
  }

  /** Until status.ready of the Job reaches `count` (all its pods Running and Ready). */
  async waitJobReady(name: string, count: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs
    let last = -1
    for (;;) {
      const j = await this.batch.readNamespacedJob({ name, namespace: this.namespace }, this.opts)
      const ready = j.status?.ready ?? 0
      if (ready >= count) return ready
      if (Date.now() > deadline) return ready
      if (ready !== last && ready > 0) log(`  job ${name}: ${ready}/${count} pods ready`)
      last = ready
      await sleep(2000)
    }
  }

  /** Until the Job has its Complete (or Failed) condition, polled every 250 ms; false after timeoutMs. */
  async waitJobFinished(name: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const j = await this.batch.readNamespacedJob({ name, namespace: this.namespace }, this.opts)
      if (j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) return true
      await sleep(250)
    }
    return false
  }

  /** Background propagation: the call returns at once, the garbage collector deletes the pods. */
  async deleteJob(name: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({ name, namespace: this.namespace, propagationPolicy: 'Background' }, this.opts)
    } catch (err) {
      log(`  could not delete job ${name}: ${(err as Error).message?.split('\n')[0]}`)
    }
  }

  /** Whether the benchmark's pods are left in the namespace: 0 when none (cheap: limit=1). */
  async podCount(): Promise<number> {
    const l = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: 'kjw.dev/bench=true', limit: 1 }, this.opts)
    return l.items.length
  }

  /** Before a measurement: until the pods of earlier runs are gone, at most timeoutMs. */
  async settle(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs
    const t0 = Date.now()
    let n = await this.podCount()
    if (n > 0) log(`  waiting for the pods of earlier runs to be deleted`)
    while (n > 0 && Date.now() < deadline) {
      await sleep(2000)
      n = await this.podCount()
    }
    if (n > 0) log(`  pods of earlier runs still there after ${Math.round(timeoutMs / 1000)} s; going on`)
    return Date.now() - t0
  }

  async deleteAllBenchJobs(): Promise<void> {
    const l = await this.batch.listNamespacedJob({ namespace: this.namespace, labelSelector: 'kjw.dev/bench=true' }, this.opts)
    for (const j of l.items) await this.deleteJob(j.metadata!.name!)
  }
}
