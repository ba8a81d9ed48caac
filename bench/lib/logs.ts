// Reading the cluster's two append-only logs from a remembered offset: the
// API server's audit log (one JSON line per request stage) and the kubelet
// simulator's sim-writes.jsonl (one line per pod status write, flushed every
// 100 ms). Only the part written since the offset is read, so the files can
// grow to hundreds of MB during the scale runs without slowing anything.
import * as fs from 'node:fs'
import { parseMicroTime, sleep } from './util.ts'

function readFrom(file: string, offset: number): { text: string; end: number } {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch {
    return { text: '', end: offset }
  }
  try {
    const size = fs.fstatSync(fd).size
    if (size <= offset) return { text: '', end: size }
    const buf = Buffer.alloc(size - offset)
    let got = 0
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, offset + got)
      if (n === 0) break
      got += n
    }
    const text = buf.subarray(0, got).toString('utf8')
    // only whole lines: a line being appended right now is read next time
    const lastNl = text.lastIndexOf('\n')
    return { text: lastNl < 0 ? '' : text.slice(0, lastNl + 1), end: offset + Buffer.byteLength(text.slice(0, lastNl + 1)) }
  } finally {
    fs.closeSync(fd)
  }
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

// ---------------------------------------------------------------- audit log

export interface AuditEvent {
  auditID: string
  stage: string
  verb: string
  uri: string
  user: string
  userAgent: string
  sourceIp: string
  /** epoch ms (µs precision) the server received the request */
  received: number
  /** epoch ms of this stage */
  at: number
  resource?: string
  subresource?: string
  name?: string
  namespace?: string
  code?: number
}

export function readAudit(file: string, offset: number): AuditEvent[] {
  const { text } = readFrom(file, offset)
  const out: AuditEvent[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    let a: any
    try {
      a = JSON.parse(line)
    } catch {
      continue
    }
    out.push({
      auditID: a.auditID,
      stage: a.stage,
      verb: a.verb,
      uri: a.requestURI,
      user: a.user?.username ?? '',
      userAgent: a.userAgent ?? '',
      sourceIp: a.sourceIPs?.[0] ?? '',
      received: parseMicroTime(a.requestReceivedTimestamp),
      at: parseMicroTime(a.stageTimestamp),
      resource: a.objectRef?.resource,
      subresource: a.objectRef?.subresource,
      name: a.objectRef?.name,
      namespace: a.objectRef?.namespace,
      code: a.responseStatus?.code
    })
  }
  return out
}

/** A client: by user and User-Agent prefix, or by the source address of its proxy. */
export type Identity = { user: string; ua: string } | { sourceIp: string }

function matches(e: AuditEvent, who: Identity): boolean {
  if ('sourceIp' in who) return e.sourceIp === who.sourceIp
  return e.user === who.user && e.userAgent.startsWith(who.ua)
}

export interface RequestSummary {
  count: number
  /** "list pods": 1, "watch jobs": 1, ... */
  byKind: Record<string, number>
  firstReceived?: number
}

/** The requests one client made in a time window, one per auditID. */
export function requestsOf(events: AuditEvent[], who: Identity, from: number, to: number): RequestSummary {
  const seen = new Map<string, AuditEvent>()
  for (const e of events) {
    if (!matches(e, who)) continue
    if (!(e.received >= from - 5 && e.received <= to + 5)) continue
    if (!seen.has(e.auditID)) seen.set(e.auditID, e)
  }
  const byKind: Record<string, number> = {}
  let firstReceived: number | undefined
  for (const e of seen.values()) {
    const k = `${e.verb} ${e.resource ?? e.uri.split('?')[0]}${e.subresource ? `/${e.subresource}` : ''}`
    byKind[k] = (byKind[k] ?? 0) + 1
    if (firstReceived === undefined || e.received < firstReceived) firstReceived = e.received
  }
  return { count: seen.size, byKind, firstReceived }
}

// ---------------------------------------------------------------- simulator writes

export interface SimWrite {
  t: number
  ns: string
  pod: string
  job: string | null
  phase: string
  reason: string
}

export function readSimWrites(file: string, offset: number): SimWrite[] {
  const { text } = readFrom(file, offset)
  const out: SimWrite[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    try {
      out.push(JSON.parse(line) as SimWrite)
    } catch {
      // a torn line: ignore
    }
  }
  return out
}

/**
 * The simulator's writes for a Job, waiting (the log is flushed every 100 ms)
 * until `done` says they are all there or `timeoutMs` passes.
 */
export async function simWritesFor(
  file: string,
  offset: number,
  ns: string,
  job: string,
  done: (w: SimWrite[]) => boolean,
  timeoutMs = 5000
): Promise<SimWrite[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const w = readSimWrites(file, offset).filter((x) => x.ns === ns && x.job === job)
    if (done(w) || Date.now() > deadline) return w
    await sleep(150)
  }
}
