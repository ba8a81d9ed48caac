// Start-up: spawn → first API request, for the action's bundle and for
// `kubectl wait`, each cold and warm, against one local HTTPS server on
// 127.0.0.1 that offers h2 and HTTP/1.1 and answers every request with 404
// (the Job is not there) or an empty list. The time is taken in this process:
// just before spawn(), and when the server sees the first request's headers;
// the child is killed then. Runs are interleaved (ours cold, ours warm,
// kubectl cold, kubectl warm, node -e) so that the machine's load falls on
// all alike.
//
// Cold and warm mean the same for every program. Cold: the first start of a
// copy of its files written just before (dist/ for ours, the binary for
// kubectl), with a HOME and TMPDIR of its own, empty: a runner's first step
// after it downloaded the action or the tool. Warm: the same copy started
// again with the same HOME and TMPDIR, keeping whatever the first start left
// there (kubectl: its discovery cache; ours keeps nothing). The files are in
// the page cache in both cases, as on a runner that has just written them:
// emptying it needs root and would slow the machine's other work.
// Used by `npm run bench` (figure 4) and by bench/startup.ts.
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

export const STARTUP_CASES = [
  'ours, cold (a fresh copy, first start)',
  'ours, warm (the same copy, started again)',
  'kubectl wait, cold (a fresh copy, first start)',
  'kubectl wait, warm (the same copy, started again)',
  'node -e (one HTTPS GET)'
] as const
export type StartupCase = (typeof STARTUP_CASES)[number]

export interface StartupResult {
  /** ms from spawn to the first request, per case, one per run */
  results: Record<StartupCase, number[]>
  /** files ours left in its HOME and TMPDIR after the last run's cold and warm starts (what it keeps between starts) */
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

  /** A fresh copy of a program's files, with an empty HOME and TMPDIR of its own. */
  const freshCopy = (run: number, name: string, from: string): { dir: string; copy: string; home: string; tmp: string } => {
    const dir = path.join(work, `${name}-${run}`)
    const copy = path.join(dir, 'files', path.basename(from))
    fs.mkdirSync(path.dirname(copy), { recursive: true })
    fs.cpSync(from, copy, { recursive: true })
    const home = path.join(dir, 'home')
    const tmp = path.join(dir, 'tmp')
    fs.mkdirSync(home)
    fs.mkdirSync(tmp)
    return { dir, copy, home, tmp }
  }
  const ours = (entry: string, home: string, tmp: string): Promise<number> => {
    const out = path.join(work, 'output')
    fs.writeFileSync(out, '')
    return once(process.execPath, [...(o.nodeArgs ?? []), entry], {
      PATH: process.env.PATH ?? '',
      HOME: home,
      TMPDIR: tmp,
      GITHUB_OUTPUT: out,
      GITHUB_STEP_SUMMARY: path.join(work, 'summary'),
      RUNNER_TEMP: work,
      INPUT_JOB: 'x',
      INPUT_NAMESPACE: 'default',
      INPUT_TIMEOUT: '2s',
      INPUT_KUBECONFIG: kubeconfig
    })
  }
  const kubectlWait = (bin: string, home: string, tmp: string): Promise<number> =>
    once(bin, ['wait', '--for=condition=complete', 'job/x', '--timeout=2s', '--kubeconfig', kubeconfigFile], {
      PATH: process.env.PATH ?? '',
      HOME: home,
      TMPDIR: tmp
    })
  /** The floor for any Node program: node itself, one HTTPS GET, nothing loaded. */
  const nodeFloor = (): Promise<number> => {
    const script = `require('node:https').get(${JSON.stringify(url + '/version')}, { rejectUnauthorized: false }).on('error', () => {})`
    return once(process.execPath, ['-e', script], { PATH: process.env.PATH ?? '', HOME: work })
  }

  try {
    const distDir = path.dirname(o.entry)
    const floors: Record<string, number[]> = {}
    const results = Object.fromEntries(STARTUP_CASES.map((c) => [c, [] as number[]])) as Record<StartupCase, number[]>
    let cacheFiles = 0
    for (let i = 1; i <= o.runs; i++) {
      const a = freshCopy(i, 'ours', distDir)
      const entry = path.join(a.copy, path.basename(o.entry))
      results['ours, cold (a fresh copy, first start)'].push(await ours(entry, a.home, a.tmp))
      results['ours, warm (the same copy, started again)'].push(await ours(entry, a.home, a.tmp))
      cacheFiles = fs.readdirSync(a.home, { recursive: true }).length + fs.readdirSync(a.tmp, { recursive: true }).length
      fs.rmSync(a.dir, { recursive: true, force: true })
      if (o.kubectl) {
        const k = freshCopy(i, 'kubectl', o.kubectl)
        results['kubectl wait, cold (a fresh copy, first start)'].push(await kubectlWait(k.copy, k.home, k.tmp))
        results['kubectl wait, warm (the same copy, started again)'].push(await kubectlWait(k.copy, k.home, k.tmp))
        fs.rmSync(k.dir, { recursive: true, force: true })
      }
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
    return { results, cacheFiles, floors }
  } finally {
    for (const s of sessions) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    fs.rmSync(work, { recursive: true, force: true })
  }
}
