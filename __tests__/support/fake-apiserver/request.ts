// What a request asks for (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go,
// for the paths this server knows), the RBAC-style refusal of it, and how a
// whole answer is written.

import type { ServerResponse } from 'node:http'
import { q, qualifiedResource, RESOURCES, statusObject, type ResourceDef } from './resources.js'
import type { KubeObject, RequestRecord } from './types.js'

export interface Route {
  def?: ResourceDef
  version?: boolean
  namespace: string
  name?: string
  subresource?: string
  watchPrefix: boolean
}

export function parseRoute(pathname: string): Route | undefined {
  if (pathname === '/version' || pathname === '/version/') return { version: true, namespace: '', watchPrefix: false }
  let segs: string[]
  try {
    segs = pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent)
  } catch {
    return undefined
  }
  let i: number
  let group: '' | 'batch' | 'kueue.x-k8s.io'
  if (segs[0] === 'api' && segs[1] === 'v1') {
    group = ''
    i = 2
  } else if (segs[0] === 'apis' && segs[1] === 'batch' && segs[2] === 'v1') {
    group = 'batch'
    i = 3
  } else if (segs[0] === 'apis' && segs[1] === 'kueue.x-k8s.io' && segs[2] === 'v1beta1') {
    group = 'kueue.x-k8s.io'
    i = 3
  } else return undefined
  let watchPrefix = false
  if (segs[i] === 'watch') {
    watchPrefix = true
    i++
  }
  let namespace = ''
  const rest = segs.slice(i)
  if (rest[0] === 'namespaces' && rest.length <= 2) {
    if (group !== '') return { namespace: '', watchPrefix }
    // /api/v1/namespaces[/NAME]: the namespace is its own name.
    return { def: RESOURCES.namespaces, namespace: rest[1] ?? '', name: rest[1], watchPrefix }
  }
  let parts = rest
  if (rest[0] === 'namespaces') {
    namespace = rest[1]
    parts = rest.slice(2)
  }
  const [resource, name, subresource, ...extra] = parts
  const def = (Object.values(RESOURCES) as ResourceDef[]).find((d) => d.resource === resource && d.group === group && d.namespaced)
  if (!def || extra.length > 0) return { namespace, watchPrefix }
  if (subresource !== undefined && !(def.resource === 'pods' && subresource === 'log')) return { namespace, watchPrefix }
  if (watchPrefix && subresource) return { namespace, watchPrefix }
  return { def, namespace, name, subresource, watchPrefix }
}

/** responsewriters.Forbidden + apierrors.NewForbidden. */
export function forbiddenStatus(user: string, verb: string, route: Route): KubeObject {
  const def = route.def!
  const resource = def.resource + (route.subresource ? `/${route.subresource}` : '')
  const where = route.namespace ? `in the namespace ${q(route.namespace)}` : 'at the cluster scope'
  const reason = `User ${q(user)} cannot ${verb} resource ${q(resource)} in API group ${q(def.group)} ${where}`
  const qualified = qualifiedResource(def)
  const message = route.name ? `${qualified} ${q(route.name)} is forbidden: ${reason}` : `${qualified} is forbidden: ${reason}`
  return statusObject(403, 'Forbidden', message, { name: route.name, group: def.group, kind: def.resource })
}

/** Writes a whole response (not a watch stream) and records its status on the request. */
export function send(
  res: ServerResponse,
  rec: RequestRecord,
  code: number,
  body: KubeObject | string,
  headers: Record<string, string> = {}
): void {
  if (res.headersSent || res.destroyed) return
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
  res.writeHead(code, { 'Content-Type': type, ...headers, 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
  rec.status = code
}
