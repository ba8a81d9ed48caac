// Whether a Job's pods have started (input start-timeout), and if not, what
// holds them: a pure function of the snapshot that returns undefined once
// started, else the reason, which doubles as the message (as the e2e
// framework's JobState does).
import { podStatus } from './explain.js'
import { jobEnd, type KueueWorkload, type PodInfo, type Snapshot } from '../model.js'
import { phasesClasses, podsOf } from '../pod-table.js'
import { oneLine } from '../text/gate.js'

/**
 * The reducer's counts by class, not a pass over the pods: this runs on every
 * snapshot until the Job starts. A pod that ran to its end counts as started
 * even while it is deleted; one that is deleted before it ended does not.
 */
const STARTED = phasesClasses('Running', 'Succeeded', 'Failed')
const NOT_STARTED = phasesClasses('Pending', 'Unknown')
const MAX_SHOWN = 3
/** The Workload conditions that say where admission stands, the most telling first. */
const ADMISSION = ['Evicted', 'Admitted', 'QuotaReserved']

/** Where Kueue's admission of the Workload stands: the most telling of its conditions, in Kueue's words. */
function admissionState(w: KueueWorkload): string {
  const c =
    w.conditions.find((x) => x.type === 'Evicted' && x.status === 'True') ??
    w.conditions.find((x) => x.type === 'Admitted' && x.status === 'True') ??
    w.conditions.find((x) => ADMISSION.includes(x.type))
  const cq = w.clusterQueue ? `, ClusterQueue ${oneLine(w.clusterQueue, 253)}` : ''
  if (!c) return `Kueue: workload ${oneLine(w.name, 253)} not considered for admission yet${cq}`
  const reason = c.reason ? ` (${oneLine(c.reason, 128)})` : ''
  return `Kueue: ${c.type} ${c.status}${reason}${c.message ? `: ${oneLine(c.message, 500)}` : ''}${cq}`
}

/**
 * What holds a suspended Job in Kueue: "queued in LocalQueue team-a (Kueue:
 * QuotaReserved False (Pending): ...)"; undefined when it is in no queue
 * known (no queue-name label, no Workload read).
 */
export function queuedIn(s: Snapshot): string | undefined {
  const queue = s.job?.queueName ?? s.workload?.queueName
  if (!queue && !s.workload) return undefined
  const where = queue ? `queued in LocalQueue ${oneLine(queue, 253)}` : 'queued in Kueue'
  return s.workload ? `${where} (${admissionState(s.workload)})` : where
}

/** How a pending pod is held: the scheduler's and the autoscaler's words, a waiting reason (pulling an image), or just Pending. */
function heldPod(p: PodInfo): string {
  if (p.unschedulable) {
    const a = p.autoscaler
    const autoscaler = a ? `; ${a.component ?? 'the autoscaler'}: ${a.reason}${a.message ? `: ${a.message}` : ''}` : ''
    return `${p.name} unschedulable${p.unschedulable.message ? `: ${p.unschedulable.message}` : ''}${autoscaler}`
  }
  const waiting = p.containers.find((c) => c.state === 'waiting' && c.reason)
  if (waiting) return `${p.name} ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`
  const status = podStatus(p)
  return `${p.name} Pending${status ? ` (${status})` : p.node ? '' : ' (not scheduled yet)'}`
}

/**
 * undefined once the Job has started: it ended, or as many of its pods as it
 * runs at once (parallelism, capped by the completions still to go) are
 * Running or beyond. Otherwise what holds it.
 */
export function startHeldBy(s: Snapshot): string | undefined {
  const job = s.job
  if (!job) return `job ${s.name} does not exist yet`
  if (jobEnd(job, s.inferred)) return undefined
  if (job.suspend) {
    const queued = queuedIn(s)
    if (queued) return `job ${s.name} is suspended: ${queued}`
    return `job ${s.name} is suspended (spec.suspend: true; a queue such as Kueue starts it by setting it to false when it admits it)`
  }
  const parallelism = job.parallelism ?? 1
  const toGo = (job.completions ?? parallelism) - job.succeeded
  const needed = Math.max(1, Math.min(parallelism, toGo))
  const pods = podsOf(s)
  const started = pods.count(STARTED)
  if (started >= needed) return undefined
  const pending = pods.count(NOT_STARTED)
  const head = `${started} of ${needed} pod${needed === 1 ? '' : 's'} of job ${s.name} started`
  if (!pending) return `${head}: no pod created yet`
  const shown = pods.pick(NOT_STARTED, MAX_SHOWN).map(heldPod)
  const more = pending > MAX_SHOWN ? `; and ${pending - MAX_SHOWN} more pending` : ''
  return `${head}: ${shown.join('; ')}${more}`
}

/** Over several Jobs: undefined when every one has started, else the first that has not. */
export function startHeldByAny(snapshots: Snapshot[], names: readonly string[]): string | undefined {
  for (const name of names) {
    const s = snapshots.find((x) => x.name === name) ?? { namespace: '', name, jobDeleted: false, pods: [] }
    const held = startHeldBy(s)
    if (held) return held
  }
  return undefined
}
