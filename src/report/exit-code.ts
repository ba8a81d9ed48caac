// Container exit codes for the outputs: each pod's terminated containers, and
// the one code a workflow can end its step with (output exit-code).
import type { ContainerInfo, PodInfo, Snapshot } from '../model.js'
import type { Outcome } from './outcome.js'

/** Container name → exit code, for every container (init and main) that terminated; a crash loop's last exit. */
export function exitCodes(p: PodInfo): Record<string, number> | undefined {
  const codes: [string, number][] = []
  for (const c of p.containers) {
    const code = codeOf(c)
    if (code !== undefined) codes.push([c.name, code])
  }
  return codes.length ? Object.fromEntries(codes) : undefined
}

const codeOf = (c: ContainerInfo): number | undefined =>
  c.state === 'terminated' ? c.exitCode : c.state === 'waiting' && c.reason === 'CrashLoopBackOff' ? c.lastExitCode : undefined

const byCreation = (a: PodInfo, b: PodInfo) =>
  (a.creationTimestamp ?? '').localeCompare(b.creationTimestamp ?? '') || a.name.localeCompare(b.name)

/** The non-zero code of a failing pod: its main containers first, then the init containers (one failed first, the rest never ran). */
function failingCode(p: PodInfo): number | undefined {
  for (const init of [false, true]) {
    for (const c of p.containers) {
      const code = c.init === init ? codeOf(c) : undefined
      if (code !== undefined && code !== 0) return code
    }
  }
  return undefined
}

/**
 * The exit-code output: for a failed result, the code of the failing container
 * that decided it (the last pod to fail, of the first failed Job); for a Job of
 * one pod, its main container's code on any end; else undefined.
 */
export function exitCodeOf(o: Pick<Outcome, 'result' | 'snapshot' | 'jobs'>): number | undefined {
  const snapshots: Snapshot[] = o.jobs
    ? o.jobs.filter((j) => j.verdict.state === 'failed').map((j) => j.snapshot)
    : o.snapshot
      ? [o.snapshot]
      : []
  if (o.result === 'failed') {
    for (const s of snapshots) {
      const failing = s.pods.filter((p) => failingCode(p) !== undefined).sort(byCreation)
      if (failing.length) return failingCode(failing[failing.length - 1])
    }
  }
  if (o.jobs || !o.snapshot || o.snapshot.pods.length !== 1) return undefined
  const main = o.snapshot.pods[0].containers.filter((c) => !c.init)
  return main.length === 1 ? codeOf(main[0]) : undefined
}
