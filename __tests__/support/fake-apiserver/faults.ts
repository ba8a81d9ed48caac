// Request-level fault rules: canned answers (429, 5xx, 403, …) and requests
// accepted and never answered. They apply after authentication and before
// authorization, as API Priority and Fairness does. Faults of open watch
// streams are in watch.ts.

import type { ServerResponse } from 'node:http'
import { forbiddenStatus, send, type Route } from './request.js'
import { notFoundStatus, q, statusObject, type StatusDetails } from './resources.js'
import type { CannedResponse, KubeObject, RequestMatcher, RequestRecord } from './types.js'

interface FaultRule {
  match: RequestMatcher
  remaining: number
  responses?: CannedResponse[]
}

export function matches(m: RequestMatcher, r: RequestRecord): boolean {
  if (typeof m === 'function') return m(r)
  if (m.method !== undefined && m.method.toUpperCase() !== r.method) return false
  if (m.path !== undefined) {
    if (typeof m.path === 'string' ? m.path !== r.path : !m.path.test(r.path)) return false
  }
  if (m.verb !== undefined && m.verb !== r.verb) return false
  if (m.resource !== undefined && m.resource !== r.resource) return false
  if (m.namespace !== undefined && m.namespace !== r.namespace) return false
  if (m.name !== undefined && m.name !== r.name) return false
  if (m.user !== undefined && m.user !== r.user) return false
  if (m.watch !== undefined && m.watch !== r.watch) return false
  if (m.status !== undefined && m.status !== r.status) return false
  return true
}

export class Faults {
  private readonly cannedRules: FaultRule[] = []
  private readonly hangRules: FaultRule[] = []
  private readonly hung = new Set<ServerResponse>()

  /** `notify`: called after a canned answer is sent (the test's waiters check again). */
  constructor(private readonly notify: () => void) {}

  /**
   * Answers the next matching requests with these responses, one each, in
   * order (after authentication, before authorization, as API Priority and
   * Fairness does). Default bodies: 429 plain text "Too many requests, please
   * try again later." with Retry-After: 1; 500 InternalError; 503
   * ServiceUnavailable; 504 Timeout; 403 the RBAC message; 401 Unauthorized;
   * 404 NotFound; 410 Expired; others a generic Status.
   */
  nextResponses(match: RequestMatcher, responses: CannedResponse[]): void {
    this.cannedRules.push({ match, remaining: responses.length, responses: [...responses] })
  }

  /**
   * Accepts matching requests and never answers them (until stop() or the
   * client gives up). Returns a function that lifts the rule.
   */
  hang(match: RequestMatcher, opts: { times?: number } = {}): () => void {
    const rule: FaultRule = { match, remaining: opts.times ?? Infinity }
    this.hangRules.push(rule)
    return () => {
      const i = this.hangRules.indexOf(rule)
      if (i >= 0) this.hangRules.splice(i, 1)
    }
  }

  /** Drops the canned answers and the hangs. */
  clear(): void {
    this.cannedRules.length = 0
    this.hangRules.length = 0
  }

  /** Forgets the hung requests (the server is stopping and destroys their sockets). */
  stop(): void {
    this.hung.clear()
  }

  /** Applies the first rule that matches the request; false when none does (answer it normally). */
  intercept(rec: RequestRecord, res: ServerResponse, route: Route | undefined, user: string, headers: Record<string, string>): boolean {
    const hangRule = this.hangRules.find((r) => r.remaining > 0 && matches(r.match, rec))
    if (hangRule) {
      hangRule.remaining--
      rec.fault = 'hang'
      this.hung.add(res)
      res.on('close', () => this.hung.delete(res))
      return true
    }
    const canned = this.cannedRules.find((r) => r.remaining > 0 && matches(r.match, rec))
    if (canned) {
      canned.remaining--
      const resp = canned.responses!.shift()!
      if (canned.remaining === 0) this.cannedRules.splice(this.cannedRules.indexOf(canned), 1)
      rec.fault = 'canned'
      const answer = (): void => this.answer(res, rec, route, user, resp, headers)
      if (resp.delayMs) setTimeout(answer, resp.delayMs).unref()
      else answer()
      return true
    }
    return false
  }

  private answer(
    res: ServerResponse,
    rec: RequestRecord,
    route: Route | undefined,
    user: string,
    resp: CannedResponse,
    baseHeaders: Record<string, string>
  ): void {
    const headers: Record<string, string> = { ...baseHeaders, ...resp.headers }
    const retryAfter = resp.retryAfter ?? (resp.status === 429 && resp.body === undefined ? 1 : undefined)
    if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter)
    let body: KubeObject | string
    if (resp.body !== undefined) body = resp.body
    else {
      const details: StatusDetails | undefined = retryAfter ? { retryAfterSeconds: retryAfter } : undefined
      switch (resp.status) {
        case 429:
          // filters/maxinflight.go and APF answer with http.Error (plain text).
          body = resp.message ?? 'Too many requests, please try again later.\n'
          if (resp.reason) body = statusObject(429, resp.reason, resp.message ?? 'Too many requests, please try again later.', details)
          break
        case 403:
          body =
            route?.def && rec.verb
              ? forbiddenStatus(user, rec.verb, route)
              : statusObject(403, 'Forbidden', resp.message ?? `forbidden: User ${q(user)} cannot get path ${q(rec.path)}`)
          break
        case 401:
          body = statusObject(401, 'Unauthorized', 'Unauthorized')
          break
        case 404:
          body =
            route?.def && route.name
              ? notFoundStatus(route.def.resource, route.name)
              : statusObject(404, 'NotFound', 'the server could not find the requested resource', {})
          break
        case 410:
          body = statusObject(410, resp.reason ?? 'Expired', resp.message ?? 'The resourceVersion for the provided list is too old.')
          break
        case 500:
          body = statusObject(
            500,
            resp.reason ?? 'InternalError',
            resp.message ?? 'Internal error occurred: injected by the fake apiserver',
            {
              causes: [{ message: 'injected by the fake apiserver' }]
            }
          )
          break
        case 503:
          body = statusObject(
            503,
            resp.reason ?? 'ServiceUnavailable',
            resp.message ?? 'the server is currently unable to handle the request',
            details
          )
          break
        case 504:
          body = statusObject(
            504,
            resp.reason ?? 'Timeout',
            resp.message ?? 'Timeout: request did not complete within requested timeout - context deadline exceeded',
            details
          )
          break
        default:
          body = statusObject(resp.status, resp.reason ?? 'Unknown', resp.message ?? `injected ${resp.status}`, details)
      }
    }
    send(res, rec, resp.status, body, headers)
    this.notify()
  }
}
