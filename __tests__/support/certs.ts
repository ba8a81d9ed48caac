// X.509 certificates for TLS tests, made in-process with node:crypto (no
// openssl binary needed): a CA, a server certificate for 127.0.0.1 and
// localhost, and client certificates, including expired ones. EC P-256 keys,
// ecdsa-with-SHA256 signatures, DER written by hand (the few ASN.1 types a
// certificate needs).
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'

export interface KeyAndCert {
  /** PEM "CERTIFICATE" */
  cert: string
  /** PEM private key, SEC1 ("EC PRIVATE KEY"), as kubeadm, kind and k3s write it */
  key: string
  keyObject: KeyObject
  /** the subject Name, DER: the issuer of the certificates this one signs */
  subjectDer: Buffer
}

export interface CertOptions {
  /** common name */
  cn: string
  /** organisation: Kubernetes reads it as the group of a client certificate */
  o?: string
  /** signs the certificate; self-signed when absent */
  issuer?: KeyAndCert
  ca?: boolean
  /** subjectAltName entries: IP addresses and DNS names */
  ips?: string[]
  dns?: string[]
  /** extendedKeyUsage: server, client or both */
  usage?: ('server' | 'client')[]
  notBefore?: Date
  notAfter?: Date
}

// --- DER -------------------------------------------------------------------

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), len(body.length), body])
}
const seq = (...c: Buffer[]) => tlv(0x30, ...c)
const set = (...c: Buffer[]) => tlv(0x31, ...c)
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, ...c)
const octets = (b: Buffer) => tlv(0x04, b)
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b)
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]))
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'))

function integer(b: Buffer): Buffer {
  let v = b
  while (v.length > 1 && v[0] === 0 && v[1] < 0x80) v = v.subarray(1)
  if (v[0] >= 0x80) v = Buffer.concat([Buffer.from([0]), v])
  return tlv(0x02, v)
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const out = [arcs[0] * 40 + arcs[1]]
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80)
    out.push(...chunk)
  }
  return tlv(0x06, Buffer.from(out))
}

function time(d: Date): Buffer {
  const iso = d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z') // YYYYMMDDHHMMSSZ
  const y = d.getUTCFullYear()
  return y >= 1950 && y < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso))
}

function name(cn: string, o?: string): Buffer {
  const rdns = []
  if (o) rdns.push(set(seq(oid('2.5.4.10'), utf8(o))))
  rdns.push(set(seq(oid('2.5.4.3'), utf8(cn))))
  return seq(...rdns)
}

const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value))

function pem(label: string, der: Buffer): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'))
const DAY = 86_400_000

/** A certificate and its key. */
export function makeCert(o: CertOptions): KeyAndCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const subject = name(o.cn, o.o)
  const issuerName = o.issuer?.subjectDer ?? subject
  const signer = o.issuer?.keyObject ?? privateKey
  const exts: Buffer[] = []
  if (o.ca) {
    exts.push(ext('2.5.29.19', true, seq(bool(true))))
    exts.push(ext('2.5.29.15', true, bits(Buffer.from([0x06]), 1))) // keyCertSign, cRLSign
  } else {
    exts.push(ext('2.5.29.19', true, seq()))
    exts.push(ext('2.5.29.15', true, bits(Buffer.from([0x80]), 7))) // digitalSignature
    const usages = (o.usage ?? ['server']).map((u) => oid(u === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2'))
    exts.push(ext('2.5.29.37', false, seq(...usages)))
  }
  const san = [
    ...(o.dns ?? []).map((d) => tlv(0x82, Buffer.from(d))),
    ...(o.ips ?? []).map((ip) => tlv(0x87, Buffer.from(ip.split('.').map(Number))))
  ]
  if (san.length) exts.push(ext('2.5.29.17', false, seq(...san)))
  const now = Date.now()
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(randomBytes(16)),
    ECDSA_SHA256,
    issuerName,
    seq(time(o.notBefore ?? new Date(now - DAY)), time(o.notAfter ?? new Date(now + 365 * DAY))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...exts))
  )
  const signature = sign('sha256', tbs, signer)
  const der = seq(tbs, ECDSA_SHA256, bits(signature))
  const key = privateKey.export({ type: 'sec1', format: 'pem' }) as string
  return { cert: pem('CERTIFICATE', der), key, keyObject: createPrivateKey(key), subjectDer: subject }
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64')

/** A kubeconfig whose user is a client certificate, its cluster the server plus the given lines (CA, tls-server-name, proxy-url...). */
export function clientCertKubeconfig(server: string, client: KeyAndCert, cluster: string[] = []): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${server}`,
    ...cluster.map((l) => `    ${l}`),
    'users:',
    '- name: u',
    '  user:',
    `    client-certificate-data: ${b64(client.cert)}`,
    `    client-key-data: ${b64(client.key)}`,
    'contexts:',
    '- name: c',
    '  context: {cluster: c, user: u}',
    'current-context: c',
    ''
  ].join('\n')
}

/** A CA, a server certificate it signed for 127.0.0.1, and client certificates: valid, expired. */
export function testPki() {
  const ca = makeCert({ cn: 'kubernetes-ca', ca: true })
  const otherCa = makeCert({ cn: 'some-other-ca', ca: true })
  const server = makeCert({ cn: 'kube-apiserver', issuer: ca, ips: ['127.0.0.1'], dns: ['localhost'], usage: ['server'] })
  const client = makeCert({ cn: 'ci-user', o: 'ci-group', issuer: ca, usage: ['client'] })
  const expiredClient = makeCert({
    cn: 'ci-user',
    o: 'ci-group',
    issuer: ca,
    usage: ['client'],
    notBefore: new Date(Date.now() - 400 * DAY),
    notAfter: new Date(Date.now() - 35 * DAY)
  })
  return { ca, otherCa, server, client, expiredClient }
}
