// The local control plane of test/cluster: where it is (KJW_STATE_DIR,
// KJW_APISERVER_PORT, defaulting to <repo>/.cluster and 6443 as up.sh does),
// whether it is up, starting and stopping it, and kubeconfig copies that
// point at a given port (the byte-counting proxies).
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as https from 'node:https'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { log } from './util.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface ClusterInfo {
  state: string
  port: number
  ca: string
  auditLog: string
  simWrites: string
  admin: string
  cert: string
}

export function clusterInfo(): ClusterInfo {
  const state = process.env.KJW_STATE_DIR || path.join(ROOT, '.cluster')
  const port = Number(process.env.KJW_APISERVER_PORT || 6443)
  return {
    state,
    port,
    ca: path.join(state, 'pki', 'ca.crt'),
    auditLog: path.join(state, 'audit.log'),
    simWrites: path.join(state, 'sim-writes.jsonl'),
    admin: path.join(state, 'admin.kubeconfig'),
    cert: path.join(state, 'cert.kubeconfig')
  }
}

function alive(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

export function apiGet(c: ClusterInfo, p: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port: c.port,
        path: p,
        ca: fs.readFileSync(c.ca),
        timeout: 3000,
        headers: token ? { Authorization: `Bearer ${token}` } : {}
      },
      (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      }
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

/** Same test as up.sh: every component's pid alive, /readyz ok, the simulator ready. */
export async function clusterUp(c: ClusterInfo): Promise<boolean> {
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubelet-sim']) {
    let pid: number
    try {
      pid = Number(fs.readFileSync(path.join(c.state, `${name}.pid`), 'utf8').trim())
    } catch {
      return false
    }
    if (!pid || !alive(pid)) return false
  }
  if (!fs.existsSync(path.join(c.state, 'kubelet-sim.ready')) || !fs.existsSync(c.ca)) return false
  try {
    const r = await apiGet(c, '/readyz')
    return r.status === 200 && r.body === 'ok'
  } catch {
    return false
  }
}

function script(name: string): void {
  const r = spawnSync('bash', [path.join(ROOT, 'test', 'cluster', name)], { stdio: ['ignore', 2, 2], env: process.env })
  if (r.status !== 0) throw new Error(`test/cluster/${name} failed (exit ${r.status ?? r.signal})`)
}

/** Starts the cluster unless it is up; says whether it started it. */
export async function ensureCluster(c: ClusterInfo): Promise<boolean> {
  if (await clusterUp(c)) {
    log(`cluster already up at https://127.0.0.1:${c.port} (state ${c.state}); it stays up afterwards`)
    return false
  }
  log(`starting the cluster (state ${c.state}, port ${c.port})`)
  script('up.sh')
  if (!(await clusterUp(c))) throw new Error('the cluster is not healthy after up.sh')
  return true
}

export function stopCluster(): void {
  log('stopping the cluster the benchmark started')
  script('down.sh')
}

export function tokenOf(kubeconfig: string): string | undefined {
  return /^\s*token:\s*(\S+)\s*$/m.exec(fs.readFileSync(kubeconfig, 'utf8'))?.[1]
}

/** A copy of a kubeconfig whose server is https://127.0.0.1:PORT (mode 600). */
export function kubeconfigFor(source: string, port: number, dir: string, name: string): string {
  const text = fs.readFileSync(source, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`)
  const file = path.join(dir, name)
  fs.writeFileSync(file, text, { mode: 0o600 })
  return file
}

export interface KubectlInfo {
  /** the binary the benchmark runs */
  path: string
  version: string
  bytes: number
  /** what `kubectl` on PATH is, when it differs (e.g. the gcloud dispatcher) */
  note?: string
}

function kubectlVersion(bin: string): string {
  const r = spawnSync(bin, ['version', '--client', '-o', 'json'], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } })
  try {
    return JSON.parse(r.stdout).clientVersion.gitVersion as string
  } catch {
    return 'unknown'
  }
}

/**
 * BENCH_KUBECTL, else kubectl on PATH. The Google Cloud SDK's kubectl is a
 * dispatcher that first GETs /version and then picks a kubectl for the
 * server's version (its own built-in one, or a kubectl.1.NN next to it): the
 * benchmark runs the plain kubectl.1.NN of the dispatcher's version directly,
 * as a normal kubectl install would be, so the dispatcher's extra request and
 * start-up do not count against kubectl.
 */
export function resolveKubectl(): KubectlInfo {
  let bin = process.env.BENCH_KUBECTL
  let note: string | undefined
  if (!bin) {
    const which = spawnSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim()
    if (!which) throw new Error('kubectl not found on PATH (set BENCH_KUBECTL)')
    bin = fs.realpathSync(which)
    const v = kubectlVersion(bin)
    const m = /^v(\d+)\.(\d+)\..*dispatcher/.exec(v)
    const versioned = m && path.join(path.dirname(bin), `kubectl.${m[1]}.${m[2]}`)
    if (versioned && fs.existsSync(versioned)) {
      note = `kubectl on PATH (${which}) is the Google Cloud SDK dispatcher ${v}: it GETs /version first, then runs a kubectl matching the server; the plain ${path.basename(versioned)} next to it is run instead`
      bin = versioned
    }
  }
  return { path: bin, version: kubectlVersion(bin), bytes: fs.statSync(bin).size, note }
}
