// The waiters being compared, and how each one is run for each goal:
//  - ours: dist/index.js run as the runner runs an action (INPUT_* variables
//    with action.yml's defaults, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files,
//    credentials from KUBECONFIG), in watch mode and in poll mode (2 s);
//  - kubectl wait (job condition, or a jsonpath on the Job's pods by controller-uid);
//  - the seed's hand-written 1 s loop and the e2e framework's 2 s helper
//    (bench/baselines/), both with @kubernetes/client-node.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { Identity } from './logs.ts'
import type { ProcResult } from './proc.ts'
import { ROOT, type KubectlInfo } from './cluster.ts'
import { parseOutputFile } from '../../__tests__/support/run-dist.ts'

export type Goal =
  /** the Job's (single) pod Running */
  | { kind: 'running' }
  /** the Job finished successfully (a Job condition, or status.succeeded for the seed) */
  | { kind: 'complete' }
  /** all `count` pods Succeeded (a pod phase) */
  | { kind: 'succeeded'; count: number }
  /** every Job matching `selector` Complete (`count` of them exist when the waiter starts) */
  | { kind: 'jobs-complete'; selector: string; count: number }

export interface RunContext {
  namespace: string
  job: string
  uid: string
  timeoutS: number
  kubeconfig: string
  /** a fresh directory for this process: HOME, GITHUB_OUTPUT, ... */
  dir: string
}

export type Result = 'met' | 'timeout' | 'error'

export interface Invocation {
  cmd: string
  args: string[]
  env: Record<string, string>
  /** what the process said happened */
  result(r: ProcResult): { result: Result; detail: string }
}

export interface Contender {
  id: string
  label: string
  /** how to find its requests in the audit log when it runs alone (no proxy) */
  identity: Identity
  /** null: this contender has no way to wait for that goal */
  invoke(goal: Goal, c: RunContext): Invocation | null
  /** it reads until ended: the harness ends it (SIGTERM) once the goal is met */
  endedByHarness?: boolean
}

export const DIST = path.join(ROOT, 'dist', 'index.js')
const NODE = process.execPath

/** The entry ours is run from: the benchmark runs a copy of dist/ taken at its start. */
let distEntry = DIST
export function setDistEntry(p: string): void {
  distEntry = p
}

function baseEnv(c: RunContext): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: c.dir, KUBECONFIG: c.kubeconfig, LANG: 'C.UTF-8' }
}

function lastLine(s: string): string {
  return s.trim().split('\n').pop()?.slice(0, 200) ?? ''
}

function ours(id: string, label: string, mode: 'watch' | 'poll', pick?: (g: Goal) => Goal): Contender {
  return {
    id,
    label,
    identity: { user: 'kjw-admin', ua: 'kube-job-wait/' },
    invoke(goal, c) {
      const g = pick ? pick(goal) : goal
      const outFile = path.join(c.dir, 'github-output')
      const summaryFile = path.join(c.dir, 'step-summary')
      fs.writeFileSync(outFile, '')
      fs.writeFileSync(summaryFile, '')
      // every input of action.yml, with its default unless set: the runner passes them all
      const several = g.kind === 'jobs-complete'
      const inputs: Record<string, string> = {
        job: several ? '' : c.job,
        selector: several ? g.selector : '',
        'expected-jobs': several ? String(g.count) : '',
        'fail-fast': 'true',
        namespace: c.namespace,
        phase: g.kind === 'running' ? 'Running' : g.kind === 'succeeded' ? 'Succeeded' : '',
        'expected-count': '',
        match: 'at-least',
        condition: g.kind === 'complete' || several ? 'Complete' : '',
        timeout: `${c.timeoutS}s`,
        kubeconfig: '',
        context: '',
        mode,
        'poll-interval': '2s',
        'pod-error-grace': '60s',
        'log-lines': '30',
        delete: 'never',
        'on-cancel': 'keep'
      }
      const env: Record<string, string> = {
        ...baseEnv(c),
        GITHUB_OUTPUT: outFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        RUNNER_TEMP: c.dir
      }
      for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v
      return {
        cmd: NODE,
        args: [distEntry],
        env,
        result(r) {
          let outputs: Record<string, string> = {}
          try {
            outputs = parseOutputFile(fs.readFileSync(outFile, 'utf8'))
          } catch {
            // no outputs: an error below
          }
          const res = outputs.result
          const detail = outputs.message ?? (lastLine(r.stderr) || lastLine(r.stdout))
          if (res === 'met' || res === 'timeout') return { result: res, detail }
          return { result: 'error', detail: `result=${res ?? '(none)'} exit=${r.code ?? r.signal}: ${detail}` }
        }
      }
    }
  }
}

export function oursWatch(): Contender {
  return ours('ours-watch', 'ours (watch)', 'watch')
}
export function oursPoll(): Contender {
  return ours('ours-poll', 'ours (poll 2s)', 'poll')
}
/** For the completion case: the pod's phase instead of the Job's condition (no Job controller delay). */
export function oursWatchPodPhase(): Contender {
  return ours('ours-watch-phase', 'ours (watch), phase Succeeded', 'watch', (g) =>
    g.kind === 'complete' ? { kind: 'succeeded', count: 1 } : g
  )
}

function kubectlResult(r: ProcResult): { result: Result; detail: string } {
  if (r.code === 0) return { result: 'met', detail: lastLine(r.stdout) }
  if (r.code === 1 && /timed out waiting/.test(r.stderr)) return { result: 'timeout', detail: lastLine(r.stderr) }
  return { result: 'error', detail: `exit=${r.code ?? r.signal}: ${lastLine(r.stderr)}` }
}

export function kubectl(k: KubectlInfo): Contender {
  return {
    id: 'kubectl',
    label: 'kubectl wait',
    // kubectl's User-Agent starts with the name it was run as: "kubectl.1.32/v1.32.5 ..."
    identity: { user: 'kjw-admin', ua: `${path.basename(k.path)}/` },
    invoke(goal, c) {
      const target =
        goal.kind === 'jobs-complete'
          ? // kubectl resolves the selector once, then waits for each Job in turn
            ['--for=condition=complete', 'job', '-l', goal.selector]
          : goal.kind === 'complete'
            ? ['--for=condition=complete', `job/${c.job}`]
            : [
                '--for=jsonpath={.status.phase}=' + (goal.kind === 'running' ? 'Running' : 'Succeeded'),
                'pod',
                '-l',
                `batch.kubernetes.io/controller-uid=${c.uid}`
              ]
      return {
        cmd: k.path,
        args: ['wait', ...target, '-n', c.namespace, `--timeout=${c.timeoutS}s`],
        env: baseEnv(c),
        result: kubectlResult
      }
    }
  }
}

/** kubectl waiting on the Job's condition only (never reads a pod): the cheap way, for the process-cost figure. */
export function kubectlJob(k: KubectlInfo): Contender {
  return {
    id: 'kubectl-job',
    label: 'kubectl wait, job condition',
    identity: { user: 'kjw-admin', ua: `${path.basename(k.path)}/` },
    invoke(_goal, c) {
      return {
        cmd: k.path,
        args: ['wait', '--for=condition=complete', `job/${c.job}`, '-n', c.namespace, `--timeout=${c.timeoutS}s`],
        env: baseEnv(c),
        result: kubectlResult
      }
    }
  }
}

/**
 * Ended by the harness (SIGTERM once the goal was met, ProcResult.stoppedAt): met, whatever its exit
 * code (kubectl's interrupt handler exits 1 on SIGTERM); an end before that is an error.
 */
function stoppedResult(r: ProcResult): { result: Result; detail: string } {
  if (r.stoppedAt !== undefined && !r.killed) return { result: 'met', detail: lastLine(r.stderr) }
  return {
    result: 'error',
    detail: `exit=${r.code ?? r.signal}${r.stoppedAt ? '' : ' before the harness ended it'}: ${lastLine(r.stderr)}`
  }
}

/**
 * kubectl reading every pod of the Job, as client-go decodes the watch stream
 * (`kubectl get pods --watch -o name`): the comparison for a waiter that reads
 * the pods. It never ends by itself.
 */
export function kubectlPodsWatch(k: KubectlInfo): Contender {
  return {
    id: 'kubectl-pods',
    label: 'kubectl get pods --watch -o name',
    identity: { user: 'kjw-admin', ua: `${path.basename(k.path)}/` },
    endedByHarness: true,
    invoke(_goal, c) {
      return {
        cmd: k.path,
        args: ['get', 'pods', '-n', c.namespace, '-l', `batch.kubernetes.io/controller-uid=${c.uid}`, '--watch', '-o', 'name'],
        env: baseEnv(c),
        result: stoppedResult
      }
    }
  }
}

/** The floor: a Node script that only reads and JSON.parses the same pod watch stream (bench/baselines/floor-watch.ts). */
export function floorWatch(): Contender {
  return {
    id: 'floor',
    label: 'floor: node:http2 + JSON.parse of the pod watch',
    identity: { user: 'kjw-admin', ua: 'kjw-bench-floor/' },
    endedByHarness: true,
    invoke(_goal, c) {
      return {
        cmd: NODE,
        args: [
          '--disable-warning=ExperimentalWarning',
          path.join(ROOT, 'bench', 'baselines', 'floor-watch.ts'),
          '--namespace',
          c.namespace,
          '--uid',
          c.uid
        ],
        env: baseEnv(c),
        result: stoppedResult
      }
    }
  }
}

function baseline(id: string, label: string, file: string, ua: string, args: (g: Goal) => string[]): Contender {
  return {
    id,
    label,
    identity: { user: 'kjw-admin', ua },
    invoke(goal, c) {
      if (goal.kind === 'jobs-complete') return null
      return {
        cmd: NODE,
        args: [
          '--disable-warning=ExperimentalWarning',
          path.join(ROOT, 'bench', 'baselines', file),
          '--namespace',
          c.namespace,
          '--job',
          c.job,
          '--timeout',
          String(c.timeoutS),
          ...args(goal)
        ],
        env: baseEnv(c),
        result(r) {
          if (r.code === 0) return { result: 'met', detail: '' }
          if (r.code === 3) return { result: 'timeout', detail: '' }
          return { result: 'error', detail: `exit=${r.code ?? r.signal}: ${lastLine(r.stderr)}` }
        }
      }
    }
  }
}

export function seedLoop(): Contender {
  return baseline('seed', 'seed loop (1 s)', 'seed-loop.ts', 'kjw-bench-seed-loop/', (g) =>
    g.kind === 'complete' ? ['--complete'] : ['--phase', g.kind === 'running' ? 'Running' : 'Succeeded']
  )
}

export function e2eHelper(): Contender {
  return baseline('e2e', 'e2e helper (2 s)', 'e2e-helper.ts', 'kjw-bench-e2e-helper/', (g) =>
    g.kind === 'complete'
      ? ['--complete']
      : ['--phase', g.kind === 'running' ? 'Running' : 'Succeeded', '--expected', String(g.kind === 'succeeded' ? g.count : 1)]
  )
}
