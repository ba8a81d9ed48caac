// Kubelet simulator for the local test cluster (started by up.sh).
//
// Plays the kubelet of one Node (kjw-node): registers the Node, binds every
// unscheduled pod to it, drives each pod's status through the lifecycle its
// `sim.kjw.dev/*` annotations ask for (see sim-scenario.ts and README.md),
// finishes deletions, and serves container logs over HTTPS the way a kubelet
// does, so `kubectl logs` works through the real API server.
//
// Run: KUBECONFIG=.cluster/sim.kubeconfig node test/cluster/kubelet-sim.ts
// Env: KJW_STATE_DIR (.cluster), KJW_NODE_NAME (kjw-node), KJW_KUBELET_PORT
// (10250), KJW_SIM_CONCURRENCY (32 API writes in flight).
//
// Every status write is appended to <state>/sim-writes.jsonl as
// {"t": ms after the write returned, "ns", "pod", "job", "phase", "reason", "restarts"}.

import fs from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  ServerConfiguration,
  Watch,
  createConfiguration,
  setHeaderOptions
} from '@kubernetes/client-node'
import type { HttpLibrary, Observable, RequestContext, ResponseContext } from '@kubernetes/client-node'
import { IsomorphicFetchHttpLibrary } from '@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js'
import { finalExit, parseScenario, stuckEvent, stuckMessage, waitingLogMessage } from './sim-scenario.ts'
import type { Scenario } from './sim-scenario.ts'
import { ContainerLog, LogReader, endLines, logPlan, parseLogQuery, parseTimestamp, serveLog } from './sim-logs.ts'
import type { LogSpec, LogVars } from './sim-logs.ts'

const STATE = process.env.KJW_STATE_DIR ?? path.resolve(import.meta.dirname, '../../.cluster')
const NODE_NAME = process.env.KJW_NODE_NAME ?? 'kjw-node'
const PORT = Number(process.env.KJW_KUBELET_PORT ?? 10250)
const CONCURRENCY = Math.max(1, Number(process.env.KJW_SIM_CONCURRENCY ?? 32))
const USER_AGENT = 'kjw-kubelet-sim'
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name'
const JOB_UID_LABEL = 'batch.kubernetes.io/controller-uid'
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index'

// ---------------------------------------------------------------- utilities

function say(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`)
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
const hex = (n: number) => randomBytes(n).toString('hex')
// wall-clock nanoseconds, monotonic: container log timestamps
const epochNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
const nowNs = () => epochNs + process.hrtime.bigint()
const isoNs = (iso: string): bigint => parseTimestamp(iso.replace(/\.\d+Z$|Z$/, 'Z')) ?? nowNs()
const toIso = (v: unknown): string | undefined =>
  v instanceof Date ? v.toISOString().replace(/\.\d{3}Z$/, 'Z') : typeof v === 'string' ? v : undefined

function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code
  const c = (err as { statusCode?: unknown } | null)?.statusCode
  return typeof c === 'number' ? c : undefined
}

function describe(err: unknown): string {
  if (err instanceof ApiException) {
    let msg: string
    try {
      msg = (JSON.parse(String(err.body)) as { message?: string }).message ?? ''
    } catch {
      msg = String(err.body ?? '').slice(0, 200)
    }
    return `HTTP ${err.code}${msg ? `: ${msg}` : ''}`
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    return `${err.name}: ${err.message}${cause ? ` (${cause.code ?? cause.message})` : ''}`
  }
  return String(err)
}

/** At most `max` tasks at a time, FIFO. */
class Limiter {
  max: number
  active = 0
  queue: Array<() => void> = []
  constructor(max: number) {
    this.max = max
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      await new Promise<void>((resolve) => this.queue.push(resolve)) // the slot is handed over
    } else {
      this.active++
    }
    try {
      return await fn()
    } finally {
      const next = this.queue.shift()
      if (next) next()
      else this.active--
    }
  }
}

// ---------------------------------------------------------------- API client

// Sets our User-Agent on every request, watches included (client-node's
// Watch sends none of its own), so the audit log tells the simulator apart.
class SimKubeConfig extends KubeConfig {
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context)
    context.setHeaderParam('User-Agent', USER_AGENT)
  }
}
const kc = new SimKubeConfig()
kc.loadFromDefault()
const cluster = kc.getCurrentCluster()
if (!cluster || !process.env.KUBECONFIG) {
  say('KUBECONFIG must name a kubeconfig file (up.sh passes .cluster/sim.kubeconfig)')
  process.exit(2)
}

// client-node builds a new undici Agent (so a new TLS connection) for every
// request; reuse the first one so that writes share keep-alive connections.
class SharedDispatcherHttp implements HttpLibrary {
  inner = new IsomorphicFetchHttpLibrary()
  shared: ReturnType<RequestContext['getDispatcher']> = undefined
  send(request: RequestContext): Observable<ResponseContext> {
    const d = request.getDispatcher()
    if (d) {
      this.shared ??= d
      request.setDispatcher(this.shared)
    }
    return this.inner.send(request)
  }
}

const core = new CoreV1Api(
  createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    httpApi: new SharedDispatcherHttp()
  })
)
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
const limiter = new Limiter(CONCURRENCY)

let writesTotal = 0
let errorsTotal = 0

/** One API call through the limiter, retried on 429/5xx/network errors until
 * it works or the pod is gone. Returns false when it gave up. */
async function call(rec: PodRec | undefined, what: string, fn: () => Promise<unknown>, okCodes: number[] = []): Promise<boolean> {
  let delay = 200
  for (let attempt = 1; ; attempt++) {
    if (rec?.removed) return false
    try {
      await limiter.run(fn)
      return true
    } catch (err) {
      const code = statusOf(err)
      if (code !== undefined && okCodes.includes(code)) return true
      if (code === 404) return false // the pod is gone
      errorsTotal++
      const retry = code === undefined || code === 408 || code === 429 || code >= 500
      if (!retry) {
        say(`${what}${rec ? ` ${rec.ns}/${rec.name}` : ''} failed: ${describe(err)}`)
        return false
      }
      if (attempt === 1 || attempt % 10 === 0) say(`${what}${rec ? ` ${rec.ns}/${rec.name}` : ''}: ${describe(err)}; retrying`)
      await sleep(delay + Math.random() * delay * 0.2)
      delay = Math.min(delay * 2, 5000)
    }
  }
}

// ---------------------------------------------------------------- writes log

const writesFile = path.join(STATE, 'sim-writes.jsonl')
let pendingLines: string[] = []
function flushWrites(): void {
  if (pendingLines.length === 0) return
  const data = pendingLines.join('')
  pendingLines = []
  try {
    fs.appendFileSync(writesFile, data)
  } catch (err) {
    say(`cannot append to ${writesFile}: ${describe(err)}`)
  }
}
setInterval(flushWrites, 100).unref()

// ---------------------------------------------------------------- pods

interface Attempt {
  startedAt: string
  finishedAt?: string
  startedNs: bigint // the same, to the nanosecond (log timestamps)
  finishedNs?: bigint
  exitCode?: number
  reason?: string
  crashed: boolean // ended in the crash loop (the container restarts)
  containerId: string
}

interface PodRec {
  uid: string
  ns: string
  name: string
  job: string | undefined
  ordinal: number
  index: number | undefined
  containers: Array<{ name: string; image: string }>
  restartPolicy: string
  sc: Scenario
  configName: string
  stage: 'new' | 'binding' | 'pending' | 'stuck' | 'unschedulable' | 'running' | 'backoff' | 'terminated' | 'deleting'
  scheduledAt: string
  startTime: string | undefined
  restartCount: number
  attempts: Attempt[]
  readyStatus: boolean
  readyChangedAt: string
  podIP: string
  timer: NodeJS.Timeout | undefined
  deleting: boolean
  removed: boolean
}

const pods = new Map<string, PodRec>() // by uid
const byName = new Map<string, PodRec>() // by ns/name (log requests)
const jobCounters = new Map<string, number>() // pods seen per Job uid
let ipCounter = 0

type Obj = any // pods come both as raw JSON (watch) and as V1Pod (list)

function newRec(pod: Obj): PodRec {
  const md = pod.metadata ?? {}
  const labels: Record<string, string> = md.labels ?? {}
  const annotations: Record<string, string> = md.annotations ?? {}
  const owner = (md.ownerReferences ?? []).find((o: Obj) => o.controller && o.kind === 'Job')
  const jobUid: string | undefined = labels[JOB_UID_LABEL] ?? labels['controller-uid'] ?? owner?.uid
  let ordinal = 0
  if (jobUid) {
    ordinal = jobCounters.get(jobUid) ?? 0
    jobCounters.set(jobUid, ordinal + 1)
  }
  const idx = annotations[INDEX_ANNOTATION] ?? labels[INDEX_ANNOTATION]
  const { scenario, warnings } = parseScenario(annotations)
  const containers = ((pod.spec?.containers ?? []) as Obj[]).map((c) => ({ name: String(c.name), image: String(c.image ?? '') }))
  if (warnings.length) say(`pod ${md.namespace}/${md.name}: ${warnings.join('; ')}`)
  if (scenario.crashLoop > 0 && (pod.spec?.restartPolicy ?? 'Always') === 'Never')
    say(`pod ${md.namespace}/${md.name}: sim.kjw.dev/crash-loop ignored with restartPolicy Never`)
  ipCounter++
  const rec: PodRec = {
    uid: md.uid,
    ns: md.namespace,
    name: md.name,
    job: labels[JOB_NAME_LABEL] ?? labels['job-name'] ?? owner?.name,
    ordinal,
    index: idx !== undefined && /^\d+$/.test(idx) ? Number(idx) : undefined,
    containers,
    restartPolicy: pod.spec?.restartPolicy ?? 'Always',
    sc: scenario,
    configName: findConfigName(pod) ?? `${md.name}-config`,
    stage: 'new',
    scheduledAt: now(),
    startTime: undefined,
    restartCount: 0,
    attempts: [],
    readyStatus: false,
    readyChangedAt: now(),
    podIP: `10.244.${(ipCounter >> 8) & 255}.${ipCounter & 255}`,
    timer: undefined,
    deleting: false,
    removed: false
  }
  pods.set(rec.uid, rec)
  byName.set(`${rec.ns}/${rec.name}`, rec)
  return rec
}

function findConfigName(pod: Obj): string | undefined {
  for (const c of (pod.spec?.containers ?? []) as Obj[]) {
    for (const e of (c.envFrom ?? []) as Obj[]) if (e.configMapRef?.name) return e.configMapRef.name
    for (const e of (c.env ?? []) as Obj[]) if (e.valueFrom?.configMapKeyRef?.name) return e.valueFrom.configMapKeyRef.name
  }
  return undefined
}

function removeRec(rec: PodRec): void {
  rec.removed = true
  if (rec.timer) clearTimeout(rec.timer)
  rec.timer = undefined
  pods.delete(rec.uid)
  if (byName.get(`${rec.ns}/${rec.name}`) === rec) byName.delete(`${rec.ns}/${rec.name}`)
}

/** Runs fn after ms unless the pod is deleted meanwhile. */
function later(rec: PodRec, ms: number, fn: () => Promise<void>): void {
  if (rec.timer) clearTimeout(rec.timer)
  rec.timer = setTimeout(() => {
    rec.timer = undefined
    if (rec.removed || rec.deleting) return
    fn().catch((err) => say(`pod ${rec.ns}/${rec.name}: ${describe(err)}`))
  }, ms)
}

// ---------------------------------------------------------------- status

type ContainerState = Record<string, unknown>

function conditions(rec: PodRec, ready: boolean, completed: boolean): Obj[] {
  if (ready !== rec.readyStatus) {
    rec.readyStatus = ready
    rec.readyChangedAt = now()
  }
  const names = rec.containers.map((c) => c.name).join(' ')
  const notReady = completed
    ? { reason: 'PodCompleted' }
    : { reason: 'ContainersNotReady', message: `containers with unready status: [${names}]` }
  const readyCond = (type: string) => ({
    type,
    status: ready ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: rec.readyChangedAt,
    ...(ready ? {} : notReady)
  })
  return [
    { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: rec.scheduledAt },
    { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: rec.scheduledAt },
    readyCond('Ready'),
    readyCond('ContainersReady'),
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rec.scheduledAt }
  ]
}

function imageId(image: string): string {
  return `${image.split('@')[0]}@sha256:${createHash('sha256').update(image).digest('hex')}`
}

function containerStatuses(
  rec: PodRec,
  state: ContainerState,
  lastState: ContainerState,
  running: boolean,
  att: Attempt | undefined
): Obj[] {
  return rec.containers.map((c) => ({
    name: c.name,
    image: c.image,
    imageID: att ? imageId(c.image) : '',
    ...(att ? { containerID: `containerd://${att.containerId}${c.name === rec.containers[0]?.name ? '' : hashSuffix(c.name)}` } : {}),
    ready: running,
    started: running,
    restartCount: rec.restartCount,
    state,
    lastState
  }))
}
const hashSuffix = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 8)

function terminatedState(a: Attempt): ContainerState {
  return {
    terminated: {
      exitCode: a.exitCode ?? 0,
      reason: a.reason ?? 'Completed',
      startedAt: a.startedAt,
      finishedAt: a.finishedAt ?? a.startedAt,
      containerID: `containerd://${a.containerId}`
    }
  }
}

function lastStateOf(rec: PodRec): ContainerState {
  const prev = [...rec.attempts].reverse().find((a) => a.crashed)
  return prev ? terminatedState(prev) : {}
}

/** Merge-patches the pod's status subresource and records the write. */
async function writeStatus(rec: PodRec, status: Obj, reason: string, bound = true): Promise<boolean> {
  const base = bound ? { hostIP: '127.0.0.1', hostIPs: [{ ip: '127.0.0.1' }], ...(rec.startTime ? { startTime: rec.startTime } : {}) } : {}
  const body = { status: { ...base, ...status } }
  const ok = await call(rec, `status ${reason}`, () =>
    core.patchNamespacedPodStatus({ name: rec.name, namespace: rec.ns, body }, mergePatch)
  )
  if (ok) {
    writesTotal++
    pendingLines.push(
      JSON.stringify({
        t: Date.now(),
        ns: rec.ns,
        pod: rec.name,
        job: rec.job ?? null,
        phase: status.phase,
        reason,
        restarts: rec.restartCount
      }) + '\n'
    )
  }
  return ok
}

function podIPs(rec: PodRec): Obj {
  return { podIP: rec.podIP, podIPs: [{ ip: rec.podIP }] }
}

async function writePending(rec: PodRec, reason: string, message?: string): Promise<boolean> {
  const waiting = { waiting: message ? { reason, message } : { reason } }
  return writeStatus(
    rec,
    {
      phase: 'Pending',
      conditions: conditions(rec, false, false),
      containerStatuses: containerStatuses(rec, waiting, {}, false, undefined)
    },
    reason
  )
}

async function writeRunning(rec: PodRec, att: Attempt): Promise<boolean> {
  return writeStatus(
    rec,
    {
      phase: 'Running',
      ...podIPs(rec),
      conditions: conditions(rec, true, false),
      containerStatuses: containerStatuses(rec, { running: { startedAt: att.startedAt } }, lastStateOf(rec), true, att)
    },
    'Running'
  )
}

async function writeBackoff(rec: PodRec, att: Attempt): Promise<boolean> {
  const c = rec.containers[0]?.name ?? ''
  const delay = Math.min(10 * 2 ** (rec.restartCount - 1), 300)
  const message = `back-off ${delay >= 60 ? `${Math.floor(delay / 60)}m${delay % 60 ? `${delay % 60}s` : ''}` : `${delay}s`} restarting failed container=${c} pod=${rec.name}_${rec.ns}(${rec.uid})`
  return writeStatus(
    rec,
    {
      phase: 'Running',
      ...podIPs(rec),
      conditions: conditions(rec, false, false),
      containerStatuses: containerStatuses(rec, { waiting: { reason: 'CrashLoopBackOff', message } }, terminatedState(att), false, att)
    },
    'CrashLoopBackOff'
  )
}

async function writeTerminal(rec: PodRec, att: Attempt): Promise<boolean> {
  const phase = att.exitCode === 0 ? 'Succeeded' : 'Failed'
  return writeStatus(
    rec,
    {
      phase,
      ...podIPs(rec),
      conditions: conditions(rec, false, true),
      containerStatuses: containerStatuses(rec, terminatedState(att), lastStateOf(rec), false, att)
    },
    att.reason ?? 'Completed'
  )
}

async function emitEvent(rec: PodRec, type: string, reason: string, message: string, component: string): Promise<void> {
  const t = new Date()
  const c = rec.containers[0]?.name
  await call(rec, `event ${reason}`, () =>
    core.createNamespacedEvent({
      namespace: rec.ns,
      body: {
        metadata: { name: `${rec.name}.${hex(8)}`, namespace: rec.ns },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: rec.ns,
          name: rec.name,
          uid: rec.uid,
          ...(component === 'kubelet' && c ? { fieldPath: `spec.containers{${c}}` } : {})
        },
        reason,
        message,
        type,
        source: component === 'kubelet' ? { component, host: NODE_NAME } : { component },
        firstTimestamp: t,
        lastTimestamp: t,
        count: 1,
        reportingComponent: component,
        reportingInstance: component === 'kubelet' ? NODE_NAME : ''
      }
    })
  )
}

// ---------------------------------------------------------------- lifecycle

async function bindAndStart(rec: PodRec): Promise<void> {
  const ok = await call(
    rec,
    'bind',
    () =>
      core.createNamespacedPodBinding({
        name: rec.name,
        namespace: rec.ns,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: rec.name, namespace: rec.ns },
          target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME }
        }
      }),
    [409] // already bound
  )
  if (!ok || rec.removed || rec.deleting) return
  rec.scheduledAt = now()
  rec.readyChangedAt = rec.scheduledAt
  await startPod(rec)
}

async function startPod(rec: PodRec): Promise<void> {
  rec.startTime ??= now()
  const sc = rec.sc
  if (sc.stuck) {
    rec.stage = 'stuck'
    const image = rec.containers[0]?.image ?? ''
    const message = stuckMessage(sc.stuck, image, rec.configName)
    if (await writePending(rec, sc.stuck, message)) {
      const ev = stuckEvent(sc.stuck, image, message)
      await emitEvent(rec, 'Warning', ev.reason, ev.message, ev.component)
    }
    return // forever
  }
  rec.stage = 'pending'
  if (!(await writePending(rec, 'ContainerCreating'))) return
  if (sc.skipRunning) {
    later(rec, sc.startMs + Math.max(sc.runMs, 0), async () => {
      const t = now()
      const ns = nowNs()
      const att: Attempt = { startedAt: t, finishedAt: t, startedNs: ns, finishedNs: ns, crashed: false, containerId: hex(32) }
      Object.assign(att, finalExit(sc, rec.ordinal, rec.index))
      rec.attempts.push(att)
      rec.stage = 'terminated'
      await writeTerminal(rec, att)
    })
  } else {
    later(rec, sc.startMs, () => startAttempt(rec))
  }
}

async function startAttempt(rec: PodRec): Promise<void> {
  const att: Attempt = { startedAt: now(), startedNs: nowNs(), crashed: false, containerId: hex(32) }
  rec.attempts.push(att)
  rec.stage = 'running'
  if (!(await writeRunning(rec, att))) return
  if (rec.sc.runMs >= 0) later(rec, rec.sc.runMs, () => endAttempt(rec, att))
}

async function endAttempt(rec: PodRec, att: Attempt): Promise<void> {
  att.finishedAt = now()
  att.finishedNs = nowNs()
  if (rec.restartPolicy !== 'Never' && rec.restartCount < rec.sc.crashLoop) {
    att.exitCode = 1
    att.reason = 'Error'
    att.crashed = true
    rec.restartCount++
    if (rec.sc.statusLagMs > 0) return restartLagging(rec)
    rec.stage = 'backoff'
    if (!(await writeBackoff(rec, att))) return
    const c = rec.containers[0]?.name ?? ''
    void emitEvent(
      rec,
      'Warning',
      'BackOff',
      `Back-off restarting failed container ${c} in pod ${rec.name}_${rec.ns}(${rec.uid})`,
      'kubelet'
    )
    later(rec, rec.sc.startMs, () => startAttempt(rec))
    return
  }
  Object.assign(att, finalExit(rec.sc, rec.ordinal, rec.index))
  rec.stage = 'terminated'
  await writeTerminal(rec, att)
}

/**
 * status-lag-ms: the runtime starts the next instance at once (a first
 * restart has no back-off) and the kubelet serves it as the current log,
 * while the status that says so reaches the API server only statusLagMs
 * later, as when the kubelet's status updates queue up. Until then the API
 * still says "running" with the old restartCount.
 */
function restartLagging(rec: PodRec): void {
  const att: Attempt = { startedAt: now(), startedNs: nowNs(), crashed: false, containerId: hex(32) }
  rec.attempts.push(att)
  rec.stage = 'running'
  if (rec.sc.runMs >= 0) later(rec, rec.sc.runMs, () => endAttempt(rec, att))
  setTimeout(() => {
    // Said only while it is still so: a later write must not be overtaken by this one.
    if (rec.removed || rec.deleting || rec.attempts.at(-1) !== att || att.finishedAt !== undefined) return
    void writeRunning(rec, att)
  }, rec.sc.statusLagMs)
}

async function markUnschedulable(rec: PodRec): Promise<void> {
  const message = stuckMessage('Unschedulable', '', '')
  const ok = await writeStatus(
    rec,
    {
      phase: 'Pending',
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: now() }
      ]
    },
    'Unschedulable',
    false
  )
  if (ok) await emitEvent(rec, 'Warning', 'FailedScheduling', message, 'default-scheduler')
}

// ---------------------------------------------------------------- a cluster that grows (autoscalers)

/** What an autoscaler records about an Unschedulable pod, as cluster-autoscaler and Karpenter word it. */
const AUTOSCALER_EVENTS: Record<string, { type: string; component: string; message: string }> = {
  TriggeredScaleUp: { type: 'Normal', component: 'cluster-autoscaler', message: 'pod triggered scale-up: [{kjw-pool 1->2 (max: 10)}]' },
  NotTriggerScaleUp: {
    type: 'Normal',
    component: 'cluster-autoscaler',
    message: "pod didn't trigger scale-up: 1 max node group size reached"
  },
  FailedScaleUp: {
    type: 'Warning',
    component: 'cluster-autoscaler',
    message: 'Node scale up in zones kjw-zone associated with this pod failed: out of quota. Pod is at risk of not being scheduled.'
  },
  Nominated: { type: 'Normal', component: 'karpenter', message: 'Pod should schedule on: nodeclaim/kjw-pool-x7k2p' }
}

interface Growth {
  /** ms Unschedulable before a node comes and the pod is bound; -1: never */
  unschedulableMs: number
  /** the autoscaler's event recorded about the pod, autoscalerMs after it became Unschedulable */
  autoscaler?: string
  autoscalerMs: number
}

/** sim.kjw.dev/unschedulable-ms, autoscaler, autoscaler-ms: Unschedulable first, an autoscaler's word, then maybe a node. */
function clusterGrowth(pod: Obj): Growth | undefined {
  const ann: Record<string, string> = pod.metadata?.annotations ?? {}
  const msRaw = ann['sim.kjw.dev/unschedulable-ms']
  const autoscaler = ann['sim.kjw.dev/autoscaler']?.trim()
  if (msRaw === undefined && !autoscaler) return undefined
  const ms = Number(msRaw ?? -1)
  if (autoscaler && !AUTOSCALER_EVENTS[autoscaler]) {
    say(
      `pod ${pod.metadata?.namespace}/${pod.metadata?.name}: sim.kjw.dev/autoscaler=${JSON.stringify(autoscaler)} is not one of ${Object.keys(AUTOSCALER_EVENTS).join(', ')}; ignored`
    )
  }
  const autoscalerMs = Number(ann['sim.kjw.dev/autoscaler-ms'] ?? 500)
  return {
    unschedulableMs: Number.isInteger(ms) && ms >= 0 ? ms : -1,
    autoscaler: autoscaler && AUTOSCALER_EVENTS[autoscaler] ? autoscaler : undefined,
    autoscalerMs: Number.isInteger(autoscalerMs) && autoscalerMs >= 0 ? autoscalerMs : 500
  }
}

/** Unschedulable as the scheduler writes it, the autoscaler's event, then (unless never) bound and started as usual. */
async function waitForANode(rec: PodRec, g: Growth): Promise<void> {
  await markUnschedulable(rec)
  const bind = (afterMs: number) => {
    if (g.unschedulableMs >= 0) later(rec, Math.max(0, afterMs), () => bindAndStart(rec))
  }
  if (!g.autoscaler) return bind(g.unschedulableMs)
  const ev = AUTOSCALER_EVENTS[g.autoscaler]
  later(rec, g.autoscalerMs, async () => {
    await emitEvent(rec, ev.type, g.autoscaler!, ev.message, ev.component)
    bind(g.unschedulableMs - g.autoscalerMs)
  })
}

function beginDelete(rec: PodRec, pod: Obj): void {
  if (rec.deleting) return
  rec.deleting = true
  rec.stage = 'deleting'
  if (rec.timer) clearTimeout(rec.timer)
  rec.timer = undefined
  if (!pod.spec?.nodeName) return // the API server removes unbound pods by itself
  void call(
    rec,
    'delete',
    () =>
      core.deleteNamespacedPod({
        name: rec.name,
        namespace: rec.ns,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: rec.uid } }
      }),
    [409] // precondition failed: another pod of that name
  )
}

/** Rebuilds the attempts (for logs) of a pod first seen already started:
 * the simulator was restarted, or the test set spec.nodeName itself. */
function adoptHistory(rec: PodRec, pod: Obj): void {
  const st = pod.status ?? {}
  const cs = (st.containerStatuses ?? [])[0] ?? {}
  rec.startTime = toIso(st.startTime)
  const sched = (st.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled')
  rec.scheduledAt = toIso(sched?.lastTransitionTime) ?? now()
  rec.restartCount = Number(cs.restartCount ?? 0)
  rec.attempts = []
  const last = cs.lastState?.terminated
  for (let i = 0; i < rec.restartCount; i++) {
    const isLast = i === rec.restartCount - 1 && last
    const startedAt = toIso(isLast ? last.startedAt : undefined) ?? rec.scheduledAt
    const finishedAt = toIso(isLast ? last.finishedAt : undefined) ?? rec.scheduledAt
    rec.attempts.push({
      startedAt,
      finishedAt,
      startedNs: isoNs(startedAt),
      finishedNs: isoNs(finishedAt),
      exitCode: isLast ? Number(last.exitCode ?? 1) : 1,
      reason: isLast ? (last.reason ?? 'Error') : 'Error',
      crashed: true,
      containerId: hex(32)
    })
  }
  const term = cs.state?.terminated
  const run = cs.state?.running
  if (term) {
    const startedAt = toIso(term.startedAt) ?? rec.scheduledAt
    const finishedAt = toIso(term.finishedAt) ?? rec.scheduledAt
    rec.attempts.push({
      startedAt,
      finishedAt,
      startedNs: isoNs(startedAt),
      finishedNs: isoNs(finishedAt),
      exitCode: Number(term.exitCode ?? 0),
      reason: term.reason ?? 'Completed',
      crashed: false,
      containerId: hex(32)
    })
  } else if (run) {
    const startedAt = toIso(run.startedAt) ?? now()
    rec.attempts.push({ startedAt, startedNs: isoNs(startedAt), crashed: false, containerId: hex(32) })
  }
}

/** A pod that is already bound when first seen: carry on from its status. */
function resume(rec: PodRec, pod: Obj): void {
  adoptHistory(rec, pod)
  const st = pod.status ?? {}
  const cs = (st.containerStatuses ?? [])[0] ?? {}
  const current = rec.attempts[rec.attempts.length - 1]
  if (st.phase === 'Running' && cs.state?.running && current) {
    rec.readyStatus = true
    rec.stage = 'running'
    if (rec.sc.runMs >= 0) later(rec, rec.sc.runMs, () => endAttempt(rec, current))
  } else if (st.phase === 'Running' && cs.state?.waiting?.reason === 'CrashLoopBackOff') {
    rec.stage = 'backoff'
    later(rec, rec.sc.startMs, () => startAttempt(rec))
  } else {
    rec.restartCount = 0
    rec.attempts = []
    rec.stage = 'pending'
    startPod(rec).catch((err) => say(`pod ${rec.ns}/${rec.name}: ${describe(err)}`))
  }
}

function onPod(pod: Obj): void {
  const uid: string | undefined = pod?.metadata?.uid
  if (!uid) return
  const nodeName: string | undefined = pod.spec?.nodeName || undefined
  if (nodeName && nodeName !== NODE_NAME) return
  const rec = pods.get(uid) ?? newRec(pod)
  if (pod.metadata.deletionTimestamp) {
    beginDelete(rec, pod)
    return
  }
  if (rec.stage !== 'new') return // our own writes coming back
  const phase = pod.status?.phase
  if (phase === 'Succeeded' || phase === 'Failed') {
    adoptHistory(rec, pod)
    rec.stage = 'terminated'
    return
  }
  if (!nodeName) {
    const growth = clusterGrowth(pod)
    if (growth) {
      rec.stage = 'unschedulable'
      waitForANode(rec, growth).catch((err) => say(`pod ${rec.ns}/${rec.name}: ${describe(err)}`))
      return
    }
    if (rec.sc.stuck === 'Unschedulable') {
      rec.stage = 'unschedulable'
      markUnschedulable(rec).catch((err) => say(`pod ${rec.ns}/${rec.name}: ${describe(err)}`))
    } else {
      rec.stage = 'binding'
      bindAndStart(rec).catch((err) => say(`pod ${rec.ns}/${rec.name}: ${describe(err)}`))
    }
    return
  }
  resume(rec, pod)
}

function onDeleted(pod: Obj): void {
  const rec = pods.get(pod?.metadata?.uid)
  if (rec) removeRec(rec)
}

// ---------------------------------------------------------------- list + watch

async function listPods(): Promise<string> {
  const items: Obj[] = []
  let cont: string | undefined
  let rv = ''
  do {
    const page = await core.listPodForAllNamespaces({ limit: 500, _continue: cont })
    items.push(...page.items)
    cont = page.metadata?._continue || undefined
    rv = page.metadata?.resourceVersion ?? rv
  } while (cont)
  const seen = new Set(items.map((p) => p.metadata?.uid))
  for (const rec of [...pods.values()]) if (!seen.has(rec.uid)) removeRec(rec)
  const created = (p: Obj) => new Date(p.metadata?.creationTimestamp ?? 0).getTime()
  items.sort((a, b) => created(a) - created(b) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)))
  for (const p of items) onPod(p)
  return rv
}

async function listUntilItWorks(): Promise<string> {
  let delay = 500
  for (;;) {
    try {
      return await listPods()
    } catch (err) {
      say(`list pods: ${describe(err)}; retrying in ${delay} ms`)
      await sleep(delay)
      delay = Math.min(delay * 2, 10_000)
    }
  }
}

interface WatchEnd {
  rv: string
  expired: boolean
  events: number
  err: unknown
}

const watcher = new Watch(kc)
// client-node aborts a watch after 30 s without bytes; bookmarks come about
// once a minute, so allow a little more than that.
;(watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 90_000

function watchOnce(rv: string): Promise<WatchEnd> {
  return new Promise((resolve) => {
    const end: WatchEnd = { rv, expired: false, events: 0, err: null }
    let settled = false
    let ctrl: AbortController | undefined
    const finish = (err: unknown) => {
      if (settled) return
      settled = true
      if (statusOf(err) === 410) end.expired = true
      end.err = err
      ctrl?.abort()
      resolve(end)
    }
    watcher
      .watch(
        '/api/v1/pods',
        { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 300 },
        (type: string, obj: Obj) => {
          if (settled) return
          if (type === 'ERROR') {
            if (obj?.code === 410) end.expired = true
            finish(end.expired ? null : new Error(`watch ERROR event: ${obj?.message ?? JSON.stringify(obj)}`))
            return
          }
          const v = obj?.metadata?.resourceVersion
          if (v) end.rv = v
          end.events++
          if (type === 'BOOKMARK') return
          try {
            if (type === 'DELETED') onDeleted(obj)
            else onPod(obj)
          } catch (err) {
            say(`handling ${type} ${obj?.metadata?.namespace}/${obj?.metadata?.name}: ${describe(err)}`)
          }
        },
        (err: unknown) => finish(err)
      )
      .then(
        (c) => {
          ctrl = c
          if (settled) c.abort()
        },
        (err) => finish(err)
      )
  })
}

async function watchForever(initialRv: string): Promise<never> {
  let rv = initialRv
  let delay = 500
  for (;;) {
    const end = await watchOnce(rv)
    if (end.expired) {
      say('watch: resource version too old (410); listing again')
      rv = await listUntilItWorks()
      delay = 500
      continue
    }
    rv = end.rv
    if (end.err) {
      if (end.events > 0) delay = 500
      const timeout = end.err instanceof Error && end.err.name === 'TimeoutError'
      if (!timeout) say(`watch: ${describe(end.err)}; watching again in ${delay} ms`)
      await sleep(timeout ? 0 : delay)
      if (!timeout) delay = Math.min(delay * 2, 10_000)
    } else {
      delay = 500
    }
  }
}

// ---------------------------------------------------------------- node

/** The Node's status; the heartbeat leaves the kubelet's port alone (a test may point it elsewhere for a while). */
function nodeStatus(endpoints = true): Obj {
  const t = now()
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: t,
    lastTransitionTime: startedAt
  })
  return {
    status: {
      // InternalIP only: with a Hostname address the API server would dial
      // the node by name (kubelet-preferred-address-types puts it first).
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      ...(endpoints ? { daemonEndpoints: { kubeletEndpoint: { Port: PORT } } } : {}),
      capacity: { cpu: '64', memory: '256Gi', pods: '10000', 'ephemeral-storage': '1Ti' },
      allocatable: { cpu: '64', memory: '256Gi', pods: '10000', 'ephemeral-storage': '1Ti' },
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (simulated by kube-job-wait tests)')
      ],
      nodeInfo: {
        machineID: 'kjw',
        systemUUID: 'kjw',
        bootID: bootId,
        kernelVersion: 'simulated',
        osImage: 'kjw kubelet simulator',
        containerRuntimeVersion: 'simulated://1.0.0',
        kubeletVersion: 'v1.37.2',
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64'
      }
    }
  }
}
const startedAt = now()
const bootId = hex(16)

async function ensureNode(): Promise<void> {
  try {
    await core.createNode({
      body: {
        metadata: {
          name: NODE_NAME,
          labels: {
            'kubernetes.io/hostname': NODE_NAME,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'kjw.dev/simulated': 'true'
          }
        }
      }
    })
  } catch (err) {
    if (statusOf(err) !== 409) throw err
  }
  await core.patchNodeStatus({ name: NODE_NAME, body: nodeStatus() }, mergePatch)
}

// ---------------------------------------------------------------- kubelet HTTPS (logs)

function currentAndPrevious(rec: PodRec): { current: Attempt | undefined; previous: Attempt | undefined } {
  const n = rec.attempts.length
  if (rec.stage === 'backoff') return { current: rec.attempts[n - 1], previous: rec.attempts[n - 1] }
  return { current: rec.attempts[n - 1], previous: n >= 2 ? rec.attempts[n - 2] : undefined }
}

function logSpec(sc: Scenario): LogSpec {
  return {
    text: sc.log,
    script: sc.logScript,
    rate: sc.logRate,
    lines: sc.logLines > 0 ? sc.logLines : Infinity,
    longLine: sc.logLongLine,
    hostile: sc.logHostile,
    stamp: sc.logStamp
  }
}

// The log file of each container of each attempt, made when first asked for
// (what it holds depends only on the attempt's start and end).
const logs = new WeakMap<Attempt, Map<string, ContainerLog>>()

/** The container's log as it stands now: every write due by now (or by the
 * end of the attempt), and the lines printed on the way out. */
function containerLog(rec: PodRec, container: string, att: Attempt): ContainerLog {
  let byContainer = logs.get(att)
  if (!byContainer) logs.set(att, (byContainer = new Map()))
  const vars: LogVars = { pod: rec.name, namespace: rec.ns, container, attempt: rec.attempts.indexOf(att) + 1, index: rec.index }
  let log = byContainer.get(container)
  if (!log) byContainer.set(container, (log = new ContainerLog(logPlan(logSpec(rec.sc), vars), att.startedNs)))
  if (att.finishedNs !== undefined) log.finish(att.finishedNs, endLines(logSpec(rec.sc), vars, att.exitCode ?? 0, att.crashed))
  else log.advance(nowNs())
  return log
}

function serveLogs(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  const requestNs = nowNs()
  const url = new URL(req.url ?? '/', 'https://kubelet')
  const fail = (code: number, msg: string) => {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end(msg)
  }
  if (url.pathname === '/healthz') return fail(200, 'ok')
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname)
  if (!m || req.method !== 'GET') return fail(404, '404 page not found\n')
  const [ns, podName, container] = m.slice(1).map(decodeURIComponent)
  const rec = byName.get(`${ns}/${podName}`)
  if (!rec) return fail(404, `pod "${podName}" in namespace "${ns}" not found`)
  if (!rec.containers.some((c) => c.name === container)) return fail(400, `container "${container}" in pod "${podName}" is not valid`)
  const query = parseLogQuery(url.searchParams, requestNs)
  const { current, previous: prev } = currentAndPrevious(rec)
  const att = query.previous ? prev : current
  if (!att) {
    if (query.previous) return fail(400, `previous terminated container "${container}" in pod "${podName}" not found`)
    const reason = rec.stage === 'stuck' ? (rec.sc.stuck ?? 'ContainerCreating') : 'ContainerCreating'
    return fail(400, `container "${container}" in pod "${podName}" is waiting to start: ${waitingLogMessage(reason)}`)
  }
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
  serveLog(
    res,
    new LogReader(query),
    () => containerLog(rec, container!, att),
    () => rec.removed,
    nowNs,
    requestNs
  )
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const certFile = process.env.KJW_KUBELET_CERT ?? path.join(STATE, 'pki', 'kubelet.crt')
  const keyFile = process.env.KJW_KUBELET_KEY ?? path.join(STATE, 'pki', 'kubelet.key')
  const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, serveLogs)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(PORT, '127.0.0.1', () => resolve())
  })
  say(`kubelet endpoint on https://127.0.0.1:${PORT}; API ${cluster!.server}; ${CONCURRENCY} writes in flight at most`)

  let delay = 500
  for (;;) {
    try {
      await ensureNode()
      break
    } catch (err) {
      say(`registering node ${NODE_NAME}: ${describe(err)}; retrying in ${delay} ms`)
      await sleep(delay)
      delay = Math.min(delay * 2, 5000)
    }
  }
  say(`node ${NODE_NAME} registered`)
  setInterval(() => {
    core.patchNodeStatus({ name: NODE_NAME, body: nodeStatus(false) }, mergePatch).catch((err) => say(`node heartbeat: ${describe(err)}`))
  }, 60_000).unref()

  const rv = await listUntilItWorks()
  say(`listed pods at resourceVersion ${rv}: ${pods.size} on this node or unscheduled`)
  fs.writeFileSync(path.join(STATE, 'kubelet-sim.ready'), `${process.pid}\n`)

  let lastWrites = 0
  setInterval(() => {
    if (writesTotal === lastWrites && limiter.queue.length === 0) return
    say(
      `pods ${pods.size}, status writes ${writesTotal} (+${((writesTotal - lastWrites) / 10).toFixed(1)}/s), in flight ${limiter.active}, queued ${limiter.queue.length}, errors ${errorsTotal}`
    )
    lastWrites = writesTotal
  }, 10_000).unref()

  await watchForever(rv)
}

function shutdown(signal: string): void {
  flushWrites()
  say(`${signal}: exiting`)
  process.exit(0)
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('unhandledRejection', (err) => say(`unhandled rejection: ${describe(err)}`))

main().catch((err) => {
  flushWrites()
  say(`fatal: ${describe(err)}`)
  process.exit(1)
})
