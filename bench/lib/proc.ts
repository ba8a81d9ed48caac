// Runs one waiting process and measures it: spawn and exit wall times
// (Date.now() in this process), a timestamp for every stdout line, and CPU
// seconds and peak RSS from GNU time (/usr/bin/time -f), which reads them from
// wait4()'s rusage of the exited process, so nothing is missed at the end.
// Without GNU time, /proc/PID/stat and /proc/PID/status are sampled instead.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export interface ProcResult {
  spawnAt: number
  exitAt: number
  code: number | null
  signal: NodeJS.Signals | null
  lines: { t: number; line: string }[]
  stdout: string
  stderr: string
  cpuUserS?: number
  cpuSysS?: number
  maxRssKB?: number
  /** killed by the harness's safety timer */
  killed: boolean
  /** when the harness ended it on purpose (ProcOptions.stop) */
  stoppedAt?: number
}

export interface ProcOptions {
  cmd: string
  args: string[]
  env: Record<string, string>
  /** kill (SIGKILL) after this long: the contender hung */
  killAfterMs: number
  /** a waiter that never ends by itself (kubectl get --watch): SIGTERM to it once this settles */
  stop?: Promise<unknown>
}

const running = new Set<ChildProcess>()

// Each contender runs in its own process group (under GNU time it is a
// grandchild): killing the group gets it too.
function killGroup(c: ChildProcess): void {
  try {
    if (c.pid) process.kill(-c.pid, 'SIGKILL')
  } catch {
    c.kill('SIGKILL')
  }
}

/** Kills every process still running (harness interrupted). */
export function killAll(): void {
  for (const c of running) killGroup(c)
}

let gnuTime: boolean | undefined
function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    if (!fs.existsSync('/usr/bin/time')) gnuTime = false
    else {
      const r = spawnSync('/usr/bin/time', ['--version'], { encoding: 'utf8' })
      gnuTime = /GNU/.test(`${r.stdout}${r.stderr}`)
    }
  }
  return gnuTime
}

/** The waiter itself: under GNU time, time's child (time must live on to write the rusage). */
function waiterPid(child: ChildProcess, underTime: boolean): number | undefined {
  if (!child.pid || !underTime) return child.pid
  try {
    const kids = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)
    return kids[0] ? Number(kids[0]) : undefined
  } catch {
    return undefined
  }
}

export function measuring(): string {
  return hasGnuTime() ? '/usr/bin/time (rusage of the exited process)' : '/proc sampling every 50 ms (no GNU time)'
}

function procSample(pid: number): { cpu: number; rss: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const tck = 100 // USER_HZ
    const cpu = (Number(f[11]) + Number(f[12])) / tck
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const hwm = /VmHWM:\s+(\d+)/.exec(status)
    return { cpu, rss: hwm ? Number(hwm[1]) : 0 }
  } catch {
    return undefined
  }
}

export async function runProc(o: ProcOptions): Promise<ProcResult> {
  const useTime = hasGnuTime()
  const timeFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-bench-time-')), 'rusage')
  const [cmd, args] = useTime ? ['/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, o.cmd, ...o.args]] : [o.cmd, o.args]
  const spawnAt = Date.now()
  const child = spawn(cmd, args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  running.add(child)
  let stdout = ''
  let stderr = ''
  let partial = ''
  const lines: { t: number; line: string }[] = []
  child.stdout!.on('data', (d: Buffer) => {
    const t = Date.now()
    stdout += d
    partial += d
    let nl: number
    while ((nl = partial.indexOf('\n')) >= 0) {
      lines.push({ t, line: partial.slice(0, nl) })
      partial = partial.slice(nl + 1)
    }
  })
  child.stderr!.on('data', (d: Buffer) => (stderr += d))
  let sampled: { cpu: number; rss: number } | undefined
  const sampler = useTime
    ? undefined
    : setInterval(() => {
        const s = child.pid ? procSample(child.pid) : undefined
        if (s) sampled = { cpu: s.cpu, rss: Math.max(s.rss, sampled?.rss ?? 0) }
      }, 50)
  let killed = false
  const safety = setTimeout(() => {
    killed = true
    killGroup(child)
  }, o.killAfterMs)
  // 'exit' is the moment the process ended; 'close' waits for its pipes too
  const exit = new Promise<[number | null, NodeJS.Signals | null, number]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s, Date.now()]))
  )
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  let stoppedAt: number | undefined
  void o.stop?.then(
    () => {
      const pid = waiterPid(child, useTime)
      if (!pid || child.exitCode !== null || child.signalCode !== null) return
      stoppedAt = Date.now()
      try {
        process.kill(pid, 'SIGTERM')
      } catch {
        // already gone
      }
    },
    () => undefined
  )
  const [code, signal, exitAt] = await exit
  await closed
  clearTimeout(safety)
  if (sampler) clearInterval(sampler)
  running.delete(child)
  const r: ProcResult = { spawnAt, exitAt, code, signal, lines, stdout, stderr, killed, stoppedAt }
  if (useTime) {
    try {
      const text = fs.readFileSync(timeFile, 'utf8').trim().split('\n')
      const sig = /terminated by signal (\d+)/.exec(text.join('\n'))
      if (sig) r.signal = (Object.entries(os.constants.signals).find(([, n]) => n === Number(sig[1]))?.[0] ?? 'SIGKILL') as NodeJS.Signals
      // GNU time prefixes "Command exited with non-zero status N" when it does
      const m = /^([\d.]+) ([\d.]+) (\d+)$/.exec(text[text.length - 1])
      if (m) {
        r.cpuUserS = Number(m[1])
        r.cpuSysS = Number(m[2])
        r.maxRssKB = Number(m[3])
      }
    } catch {
      // no rusage: leave undefined
    }
  } else if (sampled) {
    r.cpuUserS = sampled.cpu
    r.cpuSysS = 0
    r.maxRssKB = sampled.rss
  }
  fs.rmSync(path.dirname(timeFile), { recursive: true, force: true })
  return r
}
