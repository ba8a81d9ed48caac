// Answers a request the way kube-apiserver's handler chain does: request
// info, authentication, the fault rules (where API Priority and Fairness
// sits), authorization, then GET, LIST, WATCH (watch.ts) or pods/log.

import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Faults } from './faults.js'
import { forbiddenStatus, parseRoute, send, type Route } from './request.js'
import { notFoundStatus, parseBool, parseRv, q, statusObject, tooLargeStatus, type ResourceDef } from './resources.js'
import { fieldSelectorName, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js'
import type { ApiState } from './state.js'
import type { KubeObject, RequestRecord, VersionInfo } from './types.js'
import type { Users } from './users.js'
import type { Watches } from './watch.js'

/** The writes this server takes (POST and DELETE of jobs), made by the control plane's helpers. */
export interface Writes {
  /** Creates the Job (generateName, defaults, labels) or, with dryRun, returns what would be created. */
  createJob(namespace: string, job: KubeObject, dryRun: boolean): KubeObject
  deleteJob(namespace: string, name: string, opts: { propagationPolicy?: 'Background' | 'Orphan' | 'Foreground' }): KubeObject
}

export class Router {
  /** The test's say on a create, before it is stored: a Status to refuse it with (an admission webhook, a quota), or undefined. */
  admit?: (job: KubeObject, dryRun: boolean) => KubeObject | undefined
  /** Kueue's CRD is installed: its Workloads are served (else 404, as for any group the server does not know) */
  kueue = false

  private nextId = 1
  private readonly pfFlowSchema = randomUUID()
  private readonly pfPriorityLevel = randomUUID()

  constructor(
    private readonly state: ApiState,
    private readonly users: Users,
    private readonly faults: Faults,
    private readonly watches: Watches,
    private readonly versionInfo: VersionInfo,
    /** The request log: every request is appended when it arrives. */
    private readonly requests: RequestRecord[],
    /** Called when a request was authenticated or answered (the test's waiters check again). */
    private readonly notify: () => void,
    private readonly writes?: Writes
  ) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const query: Record<string, string> = {}
    for (const [k, v] of url.searchParams) query[k] = v
    const rec: RequestRecord = {
      id: this.nextId++,
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      watch: false,
      time: Date.now()
    }
    this.requests.push(rec)
    const auditId = randomUUID()

    // Authentication
    const userName = this.users.authenticate(req.headers.authorization)
    const headers = this.commonHeaders(auditId, userName !== undefined)

    // Request info (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go)
    const parsed = parseRoute(url.pathname)
    const route = parsed?.def?.group === 'kueue.x-k8s.io' && !this.kueue ? { namespace: '', watchPrefix: false } : parsed
    let verb: string | undefined
    if (route?.version) verb = 'get'
    else if (route?.def && rec.method === 'POST') verb = route.name ? undefined : 'create'
    else if (route?.def && rec.method === 'DELETE') verb = route.name ? 'delete' : 'deletecollection'
    else if (route?.def) {
      if (route.watchPrefix || (!route.name && parseBool(query.watch))) verb = 'watch'
      else if (route.name) verb = 'get'
      else verb = 'list'
      if (!route.name && verb !== 'get') {
        const nameSel = fieldSelectorName(query.fieldSelector)
        if (nameSel) route.name = nameSel
      }
    }
    rec.verb = verb
    rec.resource = route?.version
      ? 'version'
      : route?.def
        ? route.def.resource + (route.subresource ? `/${route.subresource}` : '')
        : undefined
    rec.namespace = route?.def ? route.namespace : undefined
    rec.name = route?.name
    rec.watch = verb === 'watch'
    rec.user = userName

    if (!userName) {
      this.send(res, rec, 401, statusObject(401, 'Unauthorized', 'Unauthorized'), headers)
      return
    }
    this.notify()

    // Fault rules (after authentication, like API Priority and Fairness)
    if (this.faults.intercept(rec, res, route, userName, headers)) return

    if (!route || (!route.version && !route.def)) {
      this.send(res, rec, 404, statusObject(404, 'NotFound', 'the server could not find the requested resource', {}), headers)
      return
    }
    const writable = route.def?.resource === 'jobs' && !route.subresource && this.writes && (verb === 'create' || verb === 'delete')
    if (rec.method !== 'GET' && !writable) {
      this.send(
        res,
        rec,
        405,
        statusObject(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}),
        headers
      )
      return
    }
    if (route.version) {
      this.send(res, rec, 200, this.versionInfo, headers)
      return
    }

    // Authorization
    const def = route.def!
    if (!this.users.allowed(userName, verb!, rec.resource!, route.namespace)) {
      this.send(res, rec, 403, forbiddenStatus(userName, verb!, route), headers)
      return
    }

    if (writable) {
      this.handleWrite(req, res, rec, route, query, headers)
      return
    }
    try {
      if (route.subresource === 'log') this.handleLog(res, rec, route, query, headers)
      else if (verb === 'get') this.handleGet(res, rec, def, route, headers)
      else if (verb === 'list') this.handleList(res, rec, def, route, query, headers)
      else this.watches.serve(req, res, rec, def, route, query, headers)
    } catch (e) {
      if (e instanceof SelectorError) {
        this.send(res, rec, 400, statusObject(400, 'BadRequest', e.message), headers)
      } else {
        this.send(
          res,
          rec,
          500,
          statusObject(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`, {
            causes: [{ message: (e as Error).message }]
          }),
          headers
        )
      }
    }
  }

  /** POST and DELETE of jobs: the body read, then the Job created (or tried, dryRun=All) or deleted. */
  private handleWrite(
    req: IncomingMessage,
    res: ServerResponse,
    rec: RequestRecord,
    route: Route,
    query: Record<string, string>,
    headers: Record<string, string>
  ): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: KubeObject
      try {
        const text = Buffer.concat(chunks).toString('utf8')
        body = text ? (JSON.parse(text) as KubeObject) : {}
      } catch (e) {
        this.send(
          res,
          rec,
          400,
          statusObject(400, 'BadRequest', `the body of the request was in an unknown format: ${(e as Error).message}`),
          headers
        )
        return
      }
      rec.body = body
      const ns = route.namespace
      if (rec.verb === 'delete') {
        const existing = this.state.objects.get(this.state.key('jobs', ns, route.name!))
        if (!existing) return this.send(res, rec, 404, notFoundStatus('jobs', route.name!), headers)
        const uid = body.preconditions?.uid
        if (uid && uid !== existing.metadata.uid) {
          const message = `Operation cannot be fulfilled on jobs.batch ${q(route.name!)}: Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.metadata.uid}`
          return this.send(
            res,
            rec,
            409,
            statusObject(409, 'Conflict', message, { name: route.name, group: 'batch', kind: 'jobs' }),
            headers
          )
        }
        const gone = this.writes!.deleteJob(ns, route.name!, { propagationPolicy: body.propagationPolicy })
        return this.send(res, rec, 200, gone, headers)
      }
      const dryRun = query.dryRun === 'All'
      const meta = body.metadata ?? {}
      if (meta.namespace && meta.namespace !== ns) {
        const message = 'the namespace of the provided object does not match the namespace sent on the request'
        return this.send(res, rec, 400, statusObject(400, 'BadRequest', message), headers)
      }
      if (body.kind !== 'Job' || body.apiVersion !== 'batch/v1') {
        return this.send(res, rec, 400, statusObject(400, 'BadRequest', `expected kind Job, apiVersion batch/v1`), headers)
      }
      if (meta.name && this.state.objects.has(this.state.key('jobs', ns, meta.name))) {
        const message = `jobs.batch ${q(meta.name)} already exists`
        return this.send(
          res,
          rec,
          409,
          statusObject(409, 'AlreadyExists', message, { name: meta.name, group: 'batch', kind: 'jobs' }),
          headers
        )
      }
      const refusal = this.admit?.(body, dryRun)
      if (refusal) return this.send(res, rec, refusal.code ?? 422, refusal, headers)
      const made = this.writes!.createJob(ns, body, dryRun)
      this.send(res, rec, 201, made, headers)
    })
  }

  private commonHeaders(auditId: string, authenticated: boolean): Record<string, string> {
    // Date by the server's clock (the `now` option), as a client reads the skew from it
    const h: Record<string, string> = { 'Audit-Id': auditId, 'Cache-Control': 'no-cache, private', Date: this.state.now().toUTCString() }
    if (authenticated) {
      h['X-Kubernetes-Pf-Flowschema-Uid'] = this.pfFlowSchema
      h['X-Kubernetes-Pf-Prioritylevel-Uid'] = this.pfPriorityLevel
    }
    return h
  }

  private send(
    res: ServerResponse,
    rec: RequestRecord,
    code: number,
    body: KubeObject | string,
    headers: Record<string, string> = {}
  ): void {
    send(res, rec, code, body, headers)
    this.notify()
  }

  private handleGet(res: ServerResponse, rec: RequestRecord, def: ResourceDef, route: Route, headers: Record<string, string>): void {
    const ns = def.namespaced ? route.namespace : ''
    const o = this.state.objects.get(this.state.key(def.resource, ns, route.name!))
    if (!o) this.send(res, rec, 404, notFoundStatus(def.resource, route.name!), headers)
    else this.send(res, rec, 200, o, headers)
  }

  private handleList(
    res: ServerResponse,
    rec: RequestRecord,
    def: ResourceDef,
    route: Route,
    query: Record<string, string>,
    headers: Record<string, string>
  ): void {
    const labels = parseLabelSelector(query.labelSelector)
    const fields = parseFieldSelector(query.fieldSelector, def.resource)
    const rvParam = query.resourceVersion ?? ''
    if (rvParam !== '' && rvParam !== '0') {
      const n = parseRv(rvParam)
      if (n === undefined) {
        this.send(res, rec, 400, statusObject(400, 'BadRequest', `invalid resource version: ${rvParam}`), headers)
        return
      }
      if (n > this.state.rv) {
        this.send(res, rec, 504, tooLargeStatus(n, this.state.rv), headers)
        return
      }
      if (query.resourceVersionMatch === 'Exact' && n < this.state.compactedRv) {
        this.send(res, rec, 410, statusObject(410, 'Expired', 'The resourceVersion for the provided list is too old.'), headers)
        return
      }
    }
    const all = this.state.select(def, def.namespaced ? route.namespace : '', labels, fields)
    const page = this.listPage(all, query)
    if ('expired' in page) {
      this.send(res, rec, 410, page.expired, headers)
      return
    }
    const items = page.items.map((o) => {
      const { kind: _k, apiVersion: _a, ...rest } = o
      return rest
    })
    const metadata: KubeObject = { resourceVersion: String(page.rv) }
    if (page.continue) metadata.continue = page.continue
    this.send(res, rec, 200, { kind: def.listKind, apiVersion: def.apiVersion, metadata, items }, headers)
  }

  /**
   * limit/continue as the API server pages a LIST: the token names the
   * resourceVersion of the first page and the last key sent, and is refused
   * with 410 Expired once compact() has passed that resourceVersion. Later
   * pages are cut from the current state (no snapshot is kept).
   */
  private listPage(
    all: KubeObject[],
    query: Record<string, string>
  ): { items: KubeObject[]; rv: number; continue?: string } | { expired: KubeObject } {
    const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`
    let rv = this.state.rv
    let items = all
    if (query.continue) {
      const token = JSON.parse(Buffer.from(query.continue, 'base64url').toString()) as { rv: number; start: string }
      if (token.rv < this.state.compactedRv) {
        const message =
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
        return { expired: statusObject(410, 'Expired', message) }
      }
      rv = token.rv
      items = all.filter((o) => key(o) > token.start)
    }
    const limit = Number(query.limit)
    if (!(limit > 0) || items.length <= limit) return { items, rv }
    items = items.slice(0, limit)
    const next = Buffer.from(JSON.stringify({ rv, start: key(items[limit - 1]) })).toString('base64url')
    return { items, rv, continue: next }
  }

  private handleLog(
    res: ServerResponse,
    rec: RequestRecord,
    route: Route,
    query: Record<string, string>,
    headers: Record<string, string>
  ): void {
    const pod = this.state.objects.get(this.state.key('pods', route.namespace, route.name!))
    if (!pod) {
      this.send(res, rec, 404, notFoundStatus('pods', route.name!), headers)
      return
    }
    const bad = (msg: string): void => this.send(res, rec, 400, statusObject(400, 'BadRequest', msg), headers)
    const name: string = pod.metadata.name
    const spec = pod.spec ?? {}
    const all: string[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].map(
      (c: KubeObject) => c.name
    )
    // validateContainer (pkg/registry/core/pod/strategy.go)
    let container = query.container ?? ''
    if (container === '') {
      const containers = spec.containers ?? []
      if (containers.length === 1) container = containers[0].name
      else if (containers.length === 0) return bad(`a container name must be specified for pod ${name}`)
      else return bad(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`)
    } else if (!all.includes(container)) {
      return bad(`container ${container} is not valid for pod ${name}`)
    }
    // A pod not bound to a node has no log location: 200 and an empty body.
    const plain = { ...headers }
    if (!spec.nodeName) {
      this.send(res, rec, 200, '', plain)
      return
    }
    // Kubelet's validateContainerLogStatus (pkg/kubelet/kubelet_pods.go), relayed as 400 BadRequest.
    const previous = parseBool(query.previous)
    const st = pod.status ?? {}
    const cs: KubeObject | undefined = [
      ...(st.containerStatuses ?? []),
      ...(st.initContainerStatuses ?? []),
      ...(st.ephemeralContainerStatuses ?? [])
    ].find((s: KubeObject) => s.name === container)
    if (!cs) return bad(`container ${q(container)} in pod ${q(name)} is not available`)
    const last = cs.lastState?.terminated
    const { waiting, running, terminated } = cs.state ?? {}
    if (previous) {
      if (!last || !last.containerID) return bad(`previous terminated container ${q(container)} in pod ${q(name)} not found`)
    } else if (running) {
      // ok
    } else if (terminated) {
      if (!terminated.containerID && !(last && last.containerID)) return bad(`container ${q(container)} in pod ${q(name)} is terminated`)
    } else if (last) {
      if (!last.containerID) return bad(`container ${q(container)} in pod ${q(name)} is terminated`)
    } else if (waiting) {
      const reason: string = waiting.reason ?? ''
      if (reason === 'ErrImagePull') return bad(`container ${q(container)} in pod ${q(name)} is waiting to start: image can't be pulled`)
      if (reason === 'ImagePullBackOff') {
        return bad(`container ${q(container)} in pod ${q(name)} is waiting to start: trying and failing to pull image`)
      }
      return bad(`container ${q(container)} in pod ${q(name)} is waiting to start: ${reason}`)
    } else {
      return bad(`container ${q(container)} in pod ${q(name)} is waiting to start - no logs yet`)
    }
    const entry = this.state.logs.get(this.state.logKey(route.namespace, name, container, previous))
    let text = entry?.text ?? ''
    if (parseBool(query.timestamps) && text) {
      const t = entry!.time
      text = text.replace(/^(?=.)/gm, `${t} `)
    }
    if (query.tailLines !== undefined) {
      const n = Number(query.tailLines)
      if (Number.isInteger(n) && n >= 0) {
        const endsNl = text.endsWith('\n')
        const lines = (endsNl ? text.slice(0, -1) : text).split('\n')
        text = n === 0 || text === '' ? '' : lines.slice(-n).join('\n') + (endsNl ? '\n' : '')
      }
    }
    if (query.limitBytes !== undefined) {
      const n = Number(query.limitBytes)
      if (Number.isInteger(n) && n > 0) text = Buffer.from(text).subarray(0, n).toString()
    }
    this.send(res, rec, 200, text, plain)
  }
}
