// Start-up: spawn → first API request, for the action's bundle (cold and warm
// compile cache) and for `kubectl wait`, against one local HTTPS server on
// 127.0.0.1 that offers h2 and HTTP/1.1 and answers every request with 404
// (the Job is not there) or an empty list. The time is taken in this process:
// just before spawn(), and when the server sees the first request's headers;
// the child is killed then. Runs are interleaved (ours cold, ours warm,
// kubectl, node -e) so that the machine's load falls on all alike.
//
// Cold: the compile cache folder is emptied before each run (dist/index.js
// keeps it in os.tmpdir(); the child gets a TMPDIR of its own, so other runs
// on the machine are not touched). Warm: the same folder kept, after one run
// that fills it. Used by `npm run bench` (figure 4) and by bench/startup.ts.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { b64, testPki } from '../../__tests__/support/certs.ts'

export interface StartupOptions {
  runs: number
  /** the entry run as the action: DIR/index.js */
  entry: string
  /** the kubectl binary to compare with; none: not measured */
  kubectl?: string
  /** e.g. --cpu-prof, before the entry */
  nodeArgs?: string[]
  /** after each run */
  progress?: (run: number) => void
  /** More floors, run after the cases above in each run: `node -e` scripts, __SERVER__ replaced by the server's URL (bench/startup.ts --floors) */
  floors?: Record<string, string>
}

export const STARTUP_CASES = ['ours, compile cache cold', 'ours, compile cache warm', 'kubectl wait', 'node -e (one HTTPS GET)'] as const
export type StartupCase = (typeof STARTUP_CASES)[number]

export interface StartupResult {
  /** ms from spawn to the first request, per case, one per run */
  results: Record<StartupCase, number[]>
  /** files in the warm compile cache folder */
  cacheFiles: number
  /** ms from spawn to the first request, per floor of StartupOptions.floors */
  floors: Record<string, number[]>
}

export async function measureStartup(o: StartupOptions): Promise<StartupResult> {
  const pki = testPki()
  let firstRequest: { at: number } | undefined
  let onFirst: (() => void) | undefined
  const server = http2.createSecureServer({ key: pki.server.key, cert: pki.server.cert, allowHTTP1: true }, (req, res) => {
    const url = req.url ?? '/'
    if (!firstRequest) {
      firstRequest = { at: performance.now() }
      onFirst?.()
    }
    const list = /\/(jobs|pods|events)(\?|$)/.test(url)
    const body = list
      ? JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] })
      : JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' })
    res.writeHead(list ? 200 : 404, { 'content-type': 'application/json' })
    res.end(body)
  })
  const sessions = new Set<{ destroy(): void }>()
  server.on('session', (s) => (sessions.add(s), s.on('close', () => sessions.delete(s))))
  server.on(
    'connection',
    (s: { destroy(): void; on(e: string, f: () => void): void }) => (sessions.add(s), s.on('close', () => sessions.delete(s)))
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-startup-'))
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: bench',
    '  cluster:',
    `    server: ${url}`,
    `    certificate-authority-data: ${b64(pki.ca.cert)}`,
    'users:',
    '- name: bench',
    '  user:',
    '    token: startup-bench-token',
    'contexts:',
    '- name: bench',
    '  context: {cluster: bench, user: bench, namespace: default}',
    'current-context: bench',
    ''
  ].join('\n')
  const kubeconfigFile = path.join(work, 'kubeconfig')
  fs.writeFileSync(kubeconfigFile, kubeconfig)

  /** Spawns, waits for the first request, kills; returns ms from spawn to it. */
  async function once(cmd: string, argv: string[], env: Record<string, string>): Promise<number> {
    firstRequest = undefined
    const seen = new Promise<void>((resolve) => (onFirst = resolve))
    const t0 = performance.now()
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()))
    const ok = await Promise.race([seen.then(() => true), closed.then(() => false)])
    child.kill('SIGKILL')
    await closed
    for (const s of sessions) s.destroy()
    const first = firstRequest as { at: number } | undefined // set by the server's handler
    if (!ok || !first) throw new Error(`${cmd} ${argv.join(' ')} exited before any request: ${stderr.slice(0, 500)}`)
    return first.at - t0
  }

  const ours = (cacheRoot: string): Promise<number> => {
    const out = path.join(work, 'output')
    fs.writeFileSync(out, '')
    return once(process.execPath, [...(o.nodeArgs ?? []), o.entry], {
      PATH: process.env.PATH ?? '',
      HOME: work,
      TMPDIR: cacheRoot,
      GITHUB_OUTPUT: out,
      GITHUB_STEP_SUMMARY: path.join(work, 'summary'),
      RUNNER_TEMP: work,
      INPUT_JOB: 'x',
      INPUT_NAMESPACE: 'default',
      INPUT_TIMEOUT: '2s',
      INPUT_KUBECONFIG: kubeconfig
    })
  }
  const kubectlWait = (bin: string): Promise<number> =>
    once(bin, ['wait', '--for=condition=complete', 'job/x', '--timeout=2s', '--kubeconfig', kubeconfigFile], {
      PATH: process.env.PATH ?? '',
      HOME: work
    })
  /** The floor for any Node program: node itself, one HTTPS GET, nothing loaded. */
  const nodeFloor = (): Promise<number> => {
    const script = `require('node:https').get(${JSON.stringify(url + '/version')}, { rejectUnauthorized: false }).on('error', () => {})`
    return once(process.execPath, ['-e', script], { PATH: process.env.PATH ?? '', HOME: work })
  }

  try {
    const coldDir = path.join(work, 'cold')
    const warmDir = path.join(work, 'warm')
    fs.mkdirSync(warmDir)
    await ours(warmDir) // fills the warm cache
    const floors: Record<string, number[]> = {}
    const results: Record<StartupCase, number[]> = {
      'ours, compile cache cold': [],
      'ours, compile cache warm': [],
      'kubectl wait': [],
      'node -e (one HTTPS GET)': []
    }
    for (let i = 1; i <= o.runs; i++) {
      fs.rmSync(coldDir, { recursive: true, force: true })
      fs.mkdirSync(coldDir)
      results['ours, compile cache cold'].push(await ours(coldDir))
      results['ours, compile cache warm'].push(await ours(warmDir))
      if (o.kubectl) results['kubectl wait'].push(await kubectlWait(o.kubectl))
      results['node -e (one HTTPS GET)'].push(await nodeFloor())
      for (const [name, script] of Object.entries(o.floors ?? {}))
        (floors[name] ??= []).push(
          await once(process.execPath, ['-e', script.replaceAll('__SERVER__', JSON.stringify(url))], {
            PATH: process.env.PATH ?? '',
            HOME: work
          })
        )
      o.progress?.(i)
    }
    return { results, cacheFiles: fs.readdirSync(warmDir, { recursive: true }).length, floors }
  } finally {
    for (const s of sessions) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    fs.rmSync(work, { recursive: true, force: true })
  }
}
