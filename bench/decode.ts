// Decode versus our own work, per pod watch event (issue 20, item 2): a
// recorded pod watch stream (raw bytes, as the API server sent them) goes
// through each stage of our path on its own, best of several rounds:
//   stream  src/kube/watch.ts as it runs: chunks read, split into lines, JSON.parse'd
//   parse   JSON.parse of each line alone (what any watcher pays: the floor's work)
//   convert src/observe/convert.ts podInfo, on the parsed objects
//   reduce  src/observe/state.ts applyAll, a batch per 16 KB chunk, as observe.ts batches
//   decide  src/decide/verdict.ts decide, once per batch (a phase: Succeeded target)
// Record a stream (see bench/README.md, "Decode versus our work"), then:
//   node --expose-gc --import tsx bench/decode.ts FILE [rounds]   (node_modules/.bin first on PATH)
import * as fs from 'node:fs'
import { Readable } from 'node:stream'
import { decide } from '../src/decide/verdict.js'
import type { KubeHttp } from '../src/kube/http.js'
import { watchStream } from '../src/kube/watch.js'
import type { JobInfo, PodInfo } from '../src/model.js'
import { podInfo } from '../src/observe/convert.js'
import { applyAll, initialState, snapshotOf, type ObserveEvent } from '../src/observe/state.js'

if (process.argv[2] === 'record') await record(process.argv.slice(3))
const file = process.argv[2]
const rounds = Number(process.argv[3] ?? 5)
if (!file) {
  console.error('usage: tsx bench/decode.ts WATCH_LINES_FILE [rounds]')
  console.error('       KUBECONFIG=FILE tsx bench/decode.ts record NAMESPACE LABEL_SELECTOR OUT_FILE SECONDS')
  process.exit(2)
}

/** A pod watch stream written byte for byte as the API server sends it (the token read from a kubeconfig as bench/baselines/floor-watch.ts reads it). */
async function record([namespace, selector, out, seconds]: string[]): Promise<never> {
  const http2 = await import('node:http2')
  const config = fs.readFileSync(process.env.KUBECONFIG ?? '', 'utf8')
  const field = (name: string) => new RegExp(`${name}:\\s*(\\S+)`).exec(config)?.[1] ?? ''
  const session = http2.connect(field('server'), { ca: Buffer.from(field('certificate-authority-data'), 'base64') })
  const req = session.request({
    ':path': `/api/v1/namespaces/${namespace}/pods?watch=1&labelSelector=${encodeURIComponent(selector)}`,
    authorization: `Bearer ${field('token')}`,
    accept: 'application/json'
  })
  req.pipe(fs.createWriteStream(out))
  await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000))
  req.close()
  session.close()
  process.exit(0)
}
const bytes = fs.readFileSync(file)
const CHUNK = 16 * 1024 // an HTTP/2 DATA frame
const chunks: Uint8Array[] = []
for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK))
const lines = bytes.toString('utf8').split('\n').filter(Boolean)

/** A KubeHttp that answers the watch with the recorded bytes. */
const http = {
  server: 'https://recorded',
  send: async () => ({
    httpStatusCode: 200,
    headers: {},
    body: {
      text: async () => '',
      binary: async () => Buffer.alloc(0),
      // watch.ts reads the Node stream: the recorded chunks, one per read
      readable: () => Readable.from(chunks, { objectMode: false })
    }
  })
} as unknown as KubeHttp

async function best(what: string, run: () => Promise<void> | void): Promise<number> {
  let ms = Infinity
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    await run()
    ms = Math.min(ms, performance.now() - t0)
  }
  console.error(`${what}: ${ms.toFixed(0)} ms`)
  return ms
}

let parsedCount = 0
const stream = await best('stream (read, split, JSON.parse)', async () => {
  parsedCount = 0
  const end = await watchStream(http, '/p', {}, 'watch pods', () => parsedCount++, {
    idleTimeoutMs: 60_000,
    signal: new AbortController().signal
  })
  if (end.kind !== 'closed' || parsedCount !== lines.length) throw new Error(`stream: ${end.kind}, ${parsedCount} events`)
})
const parse = await best('parse (JSON.parse alone)', () => {
  for (const l of lines) JSON.parse(l)
})
const objects = lines.map((l) => JSON.parse(l) as { type: string; object: any })
let pods: PodInfo[] = []
const convert = await best('convert (podInfo)', () => {
  pods = objects.map((e) => podInfo(e.object))
})

const owner = objects[0].object.metadata.ownerReferences[0]
const job: JobInfo = {
  name: owner.name,
  namespace: objects[0].object.metadata.namespace,
  uid: owner.uid,
  suspend: false,
  active: 0,
  ready: 0,
  succeeded: 0,
  failed: 0,
  terminating: 0,
  conditions: [],
  completions: new Set(pods.map((p) => p.uid)).size,
  parallelism: new Set(pods.map((p) => p.uid)).size
}
// One batch per chunk: the events whose line ends in that chunk.
const lineEnds: number[] = []
{
  let end = 0
  for (const l of lines) lineEnds.push((end += Buffer.byteLength(l) + 1))
}
const batches: ObserveEvent[][] = []
{
  let at = 0
  let k = 0
  for (const c of chunks) {
    at += c.length
    const batch: ObserveEvent[] = []
    for (; k < lines.length && lineEnds[k] <= at; k++) {
      const kind = objects[k].type as 'ADDED' | 'MODIFIED' | 'DELETED'
      batch.push({ type: 'pod-event', uids: [job.uid], kind, pod: pods[k], observedAt: '2026-12-05T00:00:00.000Z' })
    }
    if (batch.length) batches.push(batch)
  }
}

const start = applyAll(initialState(job.namespace, [job.name]), [
  { type: 'jobs-listed', jobs: [job] },
  { type: 'pods-listed', uids: [job.uid], pods: [], observedAt: '2026-12-05T00:00:00.000Z' }
])
const reduce = await best(`reduce (applyAll, ${batches.length} batches)`, () => {
  let s = start
  for (const b of batches) s = applyAll(s, b)
})
const target = { kind: 'phase', phase: 'Succeeded', match: 'at-least' } as const
const states = [start]
for (const b of batches) states.push(applyAll(states.at(-1)!, b))
const decided = await best('decide (once per batch)', () => {
  for (const s of states) decide(snapshotOf(s, job.name), target, { podErrorGraceMs: 60_000 }, Date.parse('2026-12-05T00:00:00Z'))
})

// What the state keeps per pod: each pod's last event converted afresh, held, and the heap compared
// (with node --expose-gc): the lines are held on both sides, what podInfo keeps of their parse is counted.
let keptPerPod: number | undefined
const gc = (globalThis as { gc?: () => void }).gc
if (gc) {
  const last = new Map<string, string>()
  objects.forEach((e, k) => last.set(e.object.metadata.uid, lines[k]))
  gc()
  const h0 = process.memoryUsage().heapUsed
  const fresh = [...last.values()].map((l) => podInfo(JSON.parse(l).object))
  const held = applyAll(start, [{ type: 'pods-listed', uids: [job.uid], pods: fresh, observedAt: '2026-12-05T00:00:00.000Z' }])
  gc()
  keptPerPod = (process.memoryUsage().heapUsed - h0) / last.size
  if (held.jobs.size !== 1) throw new Error('state')
}

const ours = stream - parse + convert + reduce + decided
const total = stream + convert + reduce + decided
const pct = (x: number) => `${((100 * x) / total).toFixed(0)} %`
const us = (x: number) => `${((1000 * x) / lines.length).toFixed(1)} µs`
console.log(`${lines.length} events, ${(bytes.length / 1e6).toFixed(1)} MB, ${pods.length ? new Set(pods.map((p) => p.uid)).size : 0} pods`)
console.log('| stage | ms | per event | share |')
console.log('|---|---|---|---|')
console.log(`| JSON.parse (the floor's work) | ${parse.toFixed(0)} | ${us(parse)} | ${pct(parse)} |`)
console.log(
  `| reading and splitting the stream (watch.ts, less JSON.parse) | ${(stream - parse).toFixed(0)} | ${us(stream - parse)} | ${pct(stream - parse)} |`
)
console.log(`| podInfo (convert.ts) | ${convert.toFixed(0)} | ${us(convert)} | ${pct(convert)} |`)
console.log(`| reducer (state.ts) | ${reduce.toFixed(0)} | ${us(reduce)} | ${pct(reduce)} |`)
console.log(`| decide, once per batch | ${decided.toFixed(0)} | ${us(decided)} | ${pct(decided)} |`)
console.log(`| ours in all (all but JSON.parse) | ${ours.toFixed(0)} | ${us(ours)} | ${pct(ours)} |`)
if (keptPerPod !== undefined) console.log(`\nheap kept per pod in the state: ${(keptPerPod / 1024).toFixed(2)} KiB`)
