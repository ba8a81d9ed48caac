// API failures as KubeError values: the Status message when the server sent
// one, whether to retry, how long to wait, and network/TLS faults told apart.
import { describe, expect, test } from '@jest/globals'
import { httpError, KubeError, networkError, parseStatus, retryAfterMs } from '../src/kube/errors.js'

const SERVER = 'https://10.0.0.1:6443'

/** A metav1.Status body as the API server sends it. */
function status(code: number, reason: string, message: string, details?: object): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code
  })
}

describe('httpError', () => {
  test('403 Forbidden: the Status message, not transient', () => {
    const body = status(
      403,
      'Forbidden',
      'pods is forbidden: User "system:serviceaccount:ci:runner" cannot watch resource "pods" in API group "" in the namespace "ci"',
      { kind: 'pods' }
    )
    const e = httpError(403, body, { 'content-type': 'application/json' }, 'watch pods')
    expect(e).toBeInstanceOf(KubeError)
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('KubeError')
    expect(e.message).toBe(
      'watch pods: pods is forbidden: User "system:serviceaccount:ci:runner" cannot watch resource "pods" in API group "" in the namespace "ci"'
    )
    expect(e).toMatchObject({ code: 403, reason: 'Forbidden', transient: false, unreachable: false, retryAfterMs: undefined })
  })

  test('404 NotFound', () => {
    const e = httpError(
      404,
      status(404, 'NotFound', 'jobs.batch "build" not found', { name: 'build', group: 'batch', kind: 'jobs' }),
      {},
      'get job ci/build'
    )
    expect(e.message).toBe('get job ci/build: jobs.batch "build" not found')
    expect(e).toMatchObject({ code: 404, reason: 'NotFound', transient: false })
  })

  test('410 Expired (a watch from a compacted resourceVersion)', () => {
    const e = httpError(410, status(410, 'Expired', 'too old resource version: 1234 (5678)'), {}, 'watch jobs')
    expect(e.message).toBe('watch jobs: too old resource version: 1234 (5678)')
    expect(e).toMatchObject({ code: 410, reason: 'Expired', transient: false })
  })

  test('429 with Retry-After in seconds', () => {
    const body = status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 3 })
    const e = httpError(429, body, { 'retry-after': '3' }, 'list pods')
    expect(e.message).toBe('list pods: Too many requests, please try again later.')
    expect(e).toMatchObject({ code: 429, reason: 'TooManyRequests', transient: true, retryAfterMs: 3_000 })
  })

  test('429 with Retry-After as an HTTP date', () => {
    const at = new Date(Date.now() + 20_000).toUTCString() // whole seconds
    const e = httpError(429, status(429, 'TooManyRequests', 'slow down'), { 'retry-after': at }, 'list pods')
    expect(e.transient).toBe(true)
    expect(e.retryAfterMs).toBeGreaterThan(18_000)
    expect(e.retryAfterMs).toBeLessThanOrEqual(20_000)
  })

  test('429 with a Retry-After date in the past: 0', () => {
    const e = httpError(429, undefined, { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }, 'list pods')
    expect(e.retryAfterMs).toBe(0)
  })

  test('429 without a body: the HTTP status', () => {
    const e = httpError(429, '', {}, 'list pods')
    expect(e.message).toMatch(/^list pods: HTTP 429/)
    expect(e).toMatchObject({ code: 429, reason: undefined, transient: true, retryAfterMs: undefined })
  })

  test('500 InternalError', () => {
    const e = httpError(500, status(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out'), {}, 'list pods')
    expect(e.message).toBe('list pods: Internal error occurred: etcdserver: request timed out')
    expect(e).toMatchObject({ code: 500, reason: 'InternalError', transient: true })
  })

  test('503 ServiceUnavailable with Retry-After', () => {
    const e = httpError(
      503,
      status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'),
      { 'retry-after': '1' },
      'get job ci/build'
    )
    expect(e.message).toBe('get job ci/build: the server is currently unable to handle the request')
    expect(e).toMatchObject({ code: 503, reason: 'ServiceUnavailable', transient: true, retryAfterMs: 1_000 })
  })

  test.each([502, 504])('%d is transient', (code) => {
    expect(httpError(code, '<html>Bad Gateway</html>', {}, 'x').transient).toBe(true)
  })

  test.each([400, 401, 403, 404, 409, 410, 422, 501])('%d is not transient', (code) => {
    expect(httpError(code, undefined, {}, 'x').transient).toBe(false)
  })

  test('a Status without a reason: the message and the HTTP status', () => {
    const e = httpError(500, JSON.stringify({ kind: 'Status', status: 'Failure', message: 'something broke', code: 500 }), {}, 'list pods')
    expect(e.message).toBe('list pods: something broke (HTTP 500)')
    expect(e.reason).toBeUndefined()
  })

  test('a body that is not JSON (a proxy page) is not repeated', () => {
    const html = '<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>'
    const e = httpError(502, html, { 'content-type': 'text/html' }, 'list pods')
    expect(e.message).toMatch(/^list pods: HTTP 502/)
    expect(e.message).not.toContain('<html>')
    expect(e.message).not.toContain('nginx')
    expect(e).toMatchObject({ code: 502, reason: undefined, transient: true })
  })

  test('JSON that is not a Status is not used', () => {
    const e = httpError(500, JSON.stringify({ kind: 'Pod', metadata: { name: 'x' } }), {}, 'list pods')
    expect(e.message).toMatch(/^list pods: HTTP 500/)
    expect(e.reason).toBeUndefined()
  })

  test('a non-JSON body says "HTTP 500" once', () => {
    expect(httpError(500, 'oops', {}, 'list pods').message).toBe('list pods: HTTP 500')
  })

  test('401 with a text body: what to do about the credentials', () => {
    const e = httpError(401, 'Unauthorized', { 'content-type': 'text/plain' }, 'list pods')
    expect(e.message).toBe(
      'list pods: the API server rejected the credentials (401 Unauthorized): the token or certificate is wrong or expired'
    )
    expect(e).toMatchObject({ code: 401, reason: 'Unauthorized', transient: false, unreachable: false })
  })

  test('401 with a Status body: the same message, the Status reason', () => {
    const e = httpError(401, status(401, 'Unauthorized', 'Unauthorized'), {}, 'get job ci/build')
    expect(e.message).toBe(
      'get job ci/build: the API server rejected the credentials (401 Unauthorized): the token or certificate is wrong or expired'
    )
    expect(e.reason).toBe('Unauthorized')
  })

  test('messages are one line', () => {
    for (const e of [
      httpError(403, status(403, 'Forbidden', 'x'), {}, 'a'),
      httpError(500, 'line1\nline2', {}, 'b'),
      httpError(401, undefined, {}, 'c')
    ]) {
      expect(e.message).not.toMatch(/\n/)
    }
  })
})

describe('parseStatus and retryAfterMs', () => {
  test('parseStatus', () => {
    expect(parseStatus(status(404, 'NotFound', 'gone'))).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'gone', code: 404 })
    expect(parseStatus('{"message":"no kind"}')).toEqual({ message: 'no kind' })
    expect(parseStatus(undefined)).toBeUndefined()
    expect(parseStatus('')).toBeUndefined()
    expect(parseStatus('not json')).toBeUndefined()
    expect(parseStatus('{"kind":"Pod"}')).toBeUndefined()
    expect(parseStatus('42')).toBeUndefined()
    expect(parseStatus('null')).toBeFalsy()
  })

  test.each([
    ['0', 0],
    ['1', 1_000],
    ['120', 120_000],
    ['1.5', 1_500],
    ['-5', 0]
  ])('Retry-After %j is %d ms', (v, ms) => {
    expect(retryAfterMs(v)).toBe(ms)
  })

  test('Retry-After that is neither a number nor a date, or absent', () => {
    expect(retryAfterMs('soon')).toBeUndefined()
    expect(retryAfterMs('')).toBeUndefined()
    expect(retryAfterMs(undefined)).toBeUndefined()
  })
})

describe('networkError', () => {
  /** What undici's fetch throws: TypeError('fetch failed') with the socket error as cause. */
  function fetchFailed(code: string, message: string): TypeError {
    const cause = Object.assign(new Error(message), { code })
    return new TypeError('fetch failed', { cause })
  }

  test('ECONNREFUSED: unreachable, transient', () => {
    const e = networkError(fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:6443'), SERVER, 'list pods')
    expect(e).toBeInstanceOf(KubeError)
    expect(e.message).toBe('list pods: cannot reach the API server https://10.0.0.1:6443: connect ECONNREFUSED 10.0.0.1:6443')
    expect(e).toMatchObject({ code: undefined, reason: 'ECONNREFUSED', transient: true, unreachable: true })
  })

  test.each(['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])('%s is unreachable', (code) => {
    const e = networkError(fetchFailed(code, `getaddrinfo ${code} k8s.example.com`), 'https://k8s.example.com', 'get job ci/build')
    expect(e).toMatchObject({ reason: code, transient: true, unreachable: true })
    expect(e.message).toMatch(/^get job ci\/build: cannot reach the API server https:\/\/k8s\.example\.com: /)
  })

  test('ECONNRESET: transient, not unreachable', () => {
    const e = networkError(fetchFailed('ECONNRESET', 'read ECONNRESET'), SERVER, 'watch pods')
    expect(e.message).toBe('watch pods: connection to https://10.0.0.1:6443 failed: read ECONNRESET')
    expect(e).toMatchObject({ reason: 'ECONNRESET', transient: true, unreachable: false })
  })

  test('undici socket errors are transient', () => {
    const e = networkError(fetchFailed('UND_ERR_SOCKET', 'other side closed'), SERVER, 'watch pods')
    expect(e).toMatchObject({ reason: 'UND_ERR_SOCKET', transient: true, unreachable: false })
  })

  test('a "terminated" body stream with no code is transient', () => {
    const e = networkError(new TypeError('terminated'), SERVER, 'watch pods')
    expect(e.message).toBe('watch pods: connection to https://10.0.0.1:6443 failed: terminated')
    expect(e).toMatchObject({ reason: 'ConnectionError', transient: true })
  })

  test.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list: 10.96.0.1"]
  ])('TLS %s: not transient, points at certificate-authority-data', (code, message) => {
    const e = networkError(fetchFailed(code, message), SERVER, 'list pods')
    expect(e.message).toBe(
      `list pods: TLS to https://10.0.0.1:6443 failed: ${message} (${code}); check certificate-authority-data in the kubeconfig`
    )
    expect(e.message).toContain('certificate-authority')
    expect(e).toMatchObject({ reason: code, transient: false, unreachable: false })
  })

  test('TimeoutError (AbortSignal.timeout): transient, "no answer in time"', () => {
    const err = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
    const e = networkError(err, SERVER, 'get job ci/build')
    expect(e.message).toBe('get job ci/build: no answer from https://10.0.0.1:6443 in time')
    expect(e).toMatchObject({ reason: 'Timeout', transient: true, unreachable: false, code: undefined })
  })

  test('a real AbortSignal.timeout() reason is a TimeoutError', async () => {
    const signal = AbortSignal.timeout(1)
    await new Promise((r) => setTimeout(r, 20))
    expect(networkError(signal.reason, SERVER, 'x').reason).toBe('Timeout')
  })

  test('TimeoutError as the cause of a fetch failure', () => {
    const err = new TypeError('fetch failed', { cause: new DOMException('timed out', 'TimeoutError') })
    expect(networkError(err, SERVER, 'x')).toMatchObject({ reason: 'Timeout', transient: true })
  })

  test('a KubeError passes through unchanged', () => {
    const k = new KubeError('already explained', { code: 403, reason: 'Forbidden', transient: false })
    expect(networkError(k, SERVER, 'x')).toBe(k)
  })

  test('anything else: not transient, first line only, code in parentheses', () => {
    const e = networkError(
      Object.assign(new Error('something odd\nwith: details\nAuthorization: Bearer abc'), { code: 'EWEIRD' }),
      SERVER,
      'list pods'
    )
    expect(e.message).toBe('list pods: request to https://10.0.0.1:6443 failed: something odd (EWEIRD)')
    expect(e).toMatchObject({ reason: 'EWEIRD', transient: false, unreachable: false })
    expect(e.message).not.toContain('Bearer')
  })

  test('a thrown string', () => {
    const e = networkError('boom', SERVER, 'list pods')
    expect(e.message).toBe('list pods: request to https://10.0.0.1:6443 failed: boom')
    expect(e.reason).toBeUndefined()
    expect(e.transient).toBe(false)
  })
})
