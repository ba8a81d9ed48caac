// Pure part of the kubelet simulator: what a pod's annotations ask for, which
// exit code an attempt ends with, the texts a real kubelet would show. The
// container logs are in sim-logs.ts. No I/O here.

export const PREFIX = 'sim.kjw.dev/'

export const STUCK_REASONS = [
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'Unschedulable'
] as const
export type StuckReason = (typeof STUCK_REASONS)[number]

export interface Scenario {
  startMs: number // binding -> Running
  runMs: number // Running -> terminated; -1 = forever
  exitCode: number
  skipRunning: boolean
  stuck: StuckReason | undefined
  crashLoop: number // restarts before the final exit
  statusLagMs: number // crash-loop restarts at once, the status written this much later; 0: with back-off
  oom: boolean
  failAttempts: number // first N pods of the Job fail
  indexExitCodes: Map<number, number>
  log: string | undefined
  logScript: string | undefined
  logRate: number // numbered lines per second, 0: none
  logLines: number // numbered lines in all, 0: no limit
  logLongLine: number // bytes of one long line, 0: none
  logHostile: boolean
  logStamp: boolean
}

export interface Parsed {
  scenario: Scenario
  warnings: string[]
}

function int(ann: Record<string, string>, key: string, def: number, min: number, warnings: string[]): number {
  const raw = ann[PREFIX + key]
  if (raw === undefined || raw.trim() === '') return def
  const n = Number(raw.trim())
  if (!Number.isInteger(n) || n < min) {
    warnings.push(`${PREFIX}${key}=${JSON.stringify(raw)} is not an integer >= ${min}; using ${def}`)
    return def
  }
  return n
}

function bool(ann: Record<string, string>, key: string, warnings: string[]): boolean {
  const raw = ann[PREFIX + key]
  if (raw === undefined) return false
  const v = raw.trim().toLowerCase()
  if (v === 'true') return true
  if (v !== 'false' && v !== '') warnings.push(`${PREFIX}${key}=${JSON.stringify(raw)} is not "true"/"false"; using false`)
  return false
}

export function parseScenario(annotations: Record<string, string> | undefined): Parsed {
  const ann = annotations ?? {}
  const warnings: string[] = []
  const runMsRaw = int(ann, 'run-ms', 1000, -1, warnings)
  const stuckRaw = ann[PREFIX + 'stuck']?.trim()
  let stuck: StuckReason | undefined
  if (stuckRaw) {
    stuck = STUCK_REASONS.find((r) => r.toLowerCase() === stuckRaw.toLowerCase())
    if (!stuck) warnings.push(`${PREFIX}stuck=${JSON.stringify(stuckRaw)} is not one of ${STUCK_REASONS.join(', ')}; ignored`)
  }
  const indexExitCodes = new Map<number, number>()
  const iec = ann[PREFIX + 'index-exit-codes']
  if (iec !== undefined) {
    for (const part of iec.split(',')) {
      if (part.trim() === '') continue
      const m = /^\s*(\d+)\s*=\s*(\d+)\s*$/.exec(part)
      if (m) indexExitCodes.set(Number(m[1]), Number(m[2]))
      else warnings.push(`${PREFIX}index-exit-codes: cannot read ${JSON.stringify(part)} (want INDEX=CODE)`)
    }
  }
  return {
    scenario: {
      startMs: int(ann, 'start-ms', 200, 0, warnings),
      runMs: runMsRaw,
      exitCode: int(ann, 'exit-code', 0, 0, warnings),
      skipRunning: bool(ann, 'skip-running', warnings),
      stuck,
      crashLoop: int(ann, 'crash-loop', 0, 0, warnings),
      statusLagMs: int(ann, 'status-lag-ms', 0, 0, warnings),
      oom: bool(ann, 'oom', warnings),
      failAttempts: int(ann, 'fail-attempts', 0, 0, warnings),
      indexExitCodes,
      log: ann[PREFIX + 'log'],
      logScript: ann[PREFIX + 'log-script'],
      logRate: int(ann, 'log-rate', 0, 0, warnings),
      logLines: int(ann, 'log-lines', 0, 0, warnings),
      logLongLine: int(ann, 'log-long-line', 0, 0, warnings),
      logHostile: bool(ann, 'log-hostile', warnings),
      logStamp: bool(ann, 'log-stamp', warnings)
    },
    warnings
  }
}

export interface Exit {
  exitCode: number
  reason: string // Completed | Error | OOMKilled
}

/** How the final attempt of a pod ends. ordinal: 0-based order of the pod
 * among the pods of its Job; index: its completion index (Indexed Jobs). */
export function finalExit(s: Scenario, ordinal: number, index: number | undefined): Exit {
  if (s.oom) return { exitCode: 137, reason: 'OOMKilled' }
  let code = s.exitCode
  if (index !== undefined && s.indexExitCodes.has(index)) {
    code = s.indexExitCodes.get(index)!
  } else if (s.failAttempts > 0) {
    code = ordinal < s.failAttempts ? s.exitCode || 1 : 0
  }
  return { exitCode: code, reason: code === 0 ? 'Completed' : 'Error' }
}

/** The waiting message a real kubelet shows for a pod that cannot start. */
export function stuckMessage(reason: StuckReason, image: string, configName: string): string {
  switch (reason) {
    case 'ImagePullBackOff':
      return `Back-off pulling image "${image}"`
    case 'ErrImagePull':
      return `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`
    case 'InvalidImageName':
      return `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`
    case 'CreateContainerConfigError':
      return `configmap "${configName}" not found`
    case 'CreateContainerError':
      return `failed to generate container spec for image "${image}": failed to create rootfs: no such file or directory`
    case 'Unschedulable':
      return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
  }
}

/** The event a real kubelet (or scheduler) records for a stuck pod. */
export function stuckEvent(reason: StuckReason, image: string, message: string): { reason: string; message: string; component: string } {
  switch (reason) {
    case 'ImagePullBackOff':
      return { reason: 'BackOff', message: `Back-off pulling image "${image}"`, component: 'kubelet' }
    case 'ErrImagePull':
      return { reason: 'Failed', message: `Failed to pull image "${image}": ${message}`, component: 'kubelet' }
    case 'InvalidImageName':
      return { reason: 'InspectFailed', message, component: 'kubelet' }
    case 'CreateContainerConfigError':
    case 'CreateContainerError':
      return { reason: 'Failed', message: `Error: ${message}`, component: 'kubelet' }
    case 'Unschedulable':
      return { reason: 'FailedScheduling', message, component: 'default-scheduler' }
  }
}

/** What `kubectl logs` says about a container that has not started. */
export function waitingLogMessage(reason: string): string {
  if (reason === 'ImagePullBackOff' || reason === 'ErrImagePull') return 'trying and failing to pull image'
  if (reason === 'InvalidImageName') return "image can't be pulled"
  return reason
}
