// Where the cluster credentials come from, in order: the 'kubeconfig' input,
// KUBECONFIG or ~/.kube/config on the runner, the in-cluster service account.
// Never localhost:8080. Every secret is masked before anything is logged, and
// the input's kubeconfig stays in memory: no file is written. Credentials that
// change during a long wait are fetched again (see RefreshingAuthentication).
import * as fs from 'node:fs'
import type { RequestOptions } from 'node:https'
import * as path from 'node:path'
import { KubeConfig, type User } from './kube/kubeconfig.js'
import { load as loadYaml } from 'js-yaml'
import { InputError, type Settings } from './inputs.js'
import type { Authentication } from './kube/http.js'

export type CredentialSource = 'input' | '--kubeconfig' | 'KUBECONFIG' | '~/.kube/config' | 'in-cluster'

export interface Credentials {
  /** The kubeconfig as loaded (auth.kc is the one requests use). */
  kc: KubeConfig
  /** What each request authenticates with; refreshed after a 401. */
  auth: Authentication
  source: CredentialSource
  /** The context's namespace, or the service account's, else "default" */
  namespace: string
  server: string
  context: string
}

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CredentialsError'
  }
}

export interface Env {
  env: NodeJS.ProcessEnv
  /** Registers a secret with the runner so that it is masked in logs. */
  mask: (secret: string) => void
  /** Prefix of the service account mount (tests); '' on a real runner pod. */
  rootPrefix?: string
  /** A kubeconfig file named on a command line (kubectl's --kubeconfig): it alone, KUBECONFIG and ~/.kube/config unread. */
  kubeconfigFile?: string
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

/**
 * A token file is read again when its token is older than this (client-go:
 * a minute): the kubelet rotates a service account's token, and a kubeconfig's
 * tokenFile may be rewritten by another process.
 */
export const TOKEN_FILE_MAX_AGE_MS = 60_000

/** Masks a value, and each line of it: the runner matches masks line by line. */
function maskValue(mask: (s: string) => void, raw: unknown): void {
  // YAML turns an unquoted 12345678 into a number: still a secret.
  const value = typeof raw === 'number' || typeof raw === 'bigint' ? String(raw) : raw
  if (typeof value !== 'string' || value.trim().length < 4) return
  mask(value)
  const lines = value.split(/\r?\n/).map((l) => l.trim())
  if (lines.length > 1) for (const l of lines) if (l.length >= 8 && !/^-----(BEGIN|END) /.test(l)) mask(l)
}

/**
 * The kubeconfig input as typed: base64 (the runner masks secrets.*, but not
 * a value pasted in) is masked whole and line by line, as the runner matches
 * masks one line at a time; YAML's secrets are masked one by one when it is read.
 */
export function maskKubeconfigInput(raw: string, mask: (s: string) => void): void {
  const text = raw.trim()
  if (!text || text.includes(':')) return
  maskValue(mask, text)
  const compact = text.replace(/\s+/g, '')
  if (compact !== text) maskValue(mask, compact)
}

/** Tokens, passwords, client keys, auth-provider secrets, exec env values. */
export function maskUserSecrets(users: User[], mask: (s: string) => void): void {
  for (const u of users) {
    maskValue(mask, u.token)
    maskValue(mask, u.password)
    if (u.keyData) {
      maskValue(mask, u.keyData)
      maskValue(mask, Buffer.from(u.keyData, 'base64').toString('utf8'))
    }
    const cfg = (u.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {}
    for (const [k, v] of Object.entries(cfg)) if (/token|secret|password/i.test(k)) maskValue(mask, v)
    const exec = u.exec as { env?: { name: string; value: string }[] } | undefined
    for (const e of exec?.env ?? []) maskValue(mask, e.value)
  }
}

/** Parse errors name the problem but never quote the text: it holds secrets. */
function parseProblem(err: unknown): string {
  const e = err as { name?: string; mark?: { line?: number }; message?: string }
  if (e?.name === 'YAMLException') return `it is not valid YAML (line ${(e.mark?.line ?? 0) + 1})`
  const first = (e?.message ?? String(err)).split('\n')[0]
  return first.length < 120 && !first.includes(':') ? first : 'it is not a valid kubeconfig'
}

function loadText(kc: KubeConfig, text: string, where: string, inputError: boolean): void {
  try {
    kc.loadFromString(text)
  } catch (err) {
    const msg = `${where} could not be read: ${parseProblem(err)}`
    throw inputError ? new InputError(msg) : new CredentialsError(msg)
  }
  if (!kc.getClusters().length) {
    const msg = `${where} has no clusters: is it a kubeconfig?`
    throw inputError ? new InputError(msg) : new CredentialsError(msg)
  }
}

/** Secret-looking fields found by their key, even in text that does not parse. */
const SECRET_FIELD = /^\s*-?\s*(token|password|client-key-data|client-secret|id-token|refresh-token|access-token)\s*:\s*["']?([^\s"']+)/gm

/**
 * Users' token files by user name: client-go's `tokenFile`, and `token-file`,
 * which client-node reads once at load. client-node keeps neither path, so
 * they are read from the YAML here; relative paths are from `dir`.
 */
function tokenFiles(text: string, dir: string): Map<string, string> {
  const files = new Map<string, string>()
  let doc: unknown
  try {
    doc = loadYaml(text)
  } catch {
    return files
  }
  const users = (doc as { users?: unknown } | null)?.users
  if (!Array.isArray(users)) return files
  for (const u of users as { name?: unknown; user?: Record<string, unknown> }[]) {
    const file = u?.user?.tokenFile ?? u?.user?.['token-file']
    if (typeof u?.name === 'string' && typeof file === 'string' && file.trim() && !files.has(u.name))
      files.set(u.name, path.resolve(dir, file.trim()))
  }
  return files
}

function fromInput(text: string, mask: (s: string) => void, files: Map<string, string>): KubeConfig {
  for (const m of text.matchAll(SECRET_FIELD)) maskValue(mask, m[2])
  const kc = new KubeConfig()
  loadText(kc, text, "Input 'kubeconfig'", true)
  maskUserSecrets(kc.getUsers(), mask)
  for (const [user, file] of tokenFiles(text, process.cwd())) files.set(user, file)
  return kc
}

function fromFiles(files: string[], label: string, mask: (s: string) => void, tokenFilesOut: Map<string, string>): KubeConfig {
  const kc = new KubeConfig()
  const merged: KubeConfig[] = []
  files.forEach((file) => {
    const one = new KubeConfig()
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (err) {
      throw new CredentialsError(`${label} names ${file}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`)
    }
    loadText(one, text, `${label} file ${file}`, false)
    one.makePathsAbsolute(path.dirname(file))
    maskUserSecrets(one.getUsers(), mask)
    for (const [user, f] of tokenFiles(text, path.dirname(file))) if (!tokenFilesOut.has(user)) tokenFilesOut.set(user, f)
    merged.push(one)
  })
  // As kubectl: the first file to name an entry or set current-context wins.
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>()
    for (const list of lists) for (const e of list) if (!seen.has(e.name)) seen.set(e.name, e)
    return [...seen.values()]
  }
  kc.loadFromOptions({
    clusters: firstByName(merged.map((m) => m.getClusters())),
    users: firstByName(merged.map((m) => m.getUsers())),
    contexts: firstByName(merged.map((m) => m.getContexts())),
    currentContext: merged.map((m) => m.getCurrentContext()).find(Boolean)
  })
  return kc
}

export function loadCredentials(settings: Pick<Settings, 'kubeconfig' | 'context'>, env: Env): Credentials {
  const registered = new Set<string>()
  const e: Env = { ...env, mask: (s) => !registered.has(s) && (registered.add(s), env.mask(s)) }
  let kc: KubeConfig
  let source: CredentialSource
  let namespace: string | undefined
  const saDir = (e.rootPrefix ?? '') + SERVICE_ACCOUNT_DIR
  const home = e.env.HOME
  const homeConfig = home ? path.join(home, '.kube', 'config') : undefined
  const tokenFileOf = new Map<string, string>()
  let tokenFile: string | undefined

  if (settings.kubeconfig) {
    // Its secrets are masked one by one below; masking every line would hide
    // harmless words ("apiVersion: v1") in every later log of the job.
    kc = fromInput(settings.kubeconfig, e.mask, tokenFileOf)
    source = 'input'
  } else if (e.kubeconfigFile) {
    kc = fromFiles([e.kubeconfigFile], '--kubeconfig', e.mask, tokenFileOf)
    source = '--kubeconfig'
  } else if (e.env.KUBECONFIG?.trim()) {
    const files = e.env.KUBECONFIG.split(path.delimiter).filter(Boolean)
    const existing = files.filter((f) => fs.existsSync(f))
    if (!existing.length) {
      throw new CredentialsError(
        `KUBECONFIG is set to ${e.env.KUBECONFIG}, but no such file exists: set the 'kubeconfig' input or fix the earlier step that writes it`
      )
    }
    kc = fromFiles(existing, 'KUBECONFIG', e.mask, tokenFileOf)
    source = 'KUBECONFIG'
  } else if (homeConfig && fs.existsSync(homeConfig)) {
    kc = fromFiles([homeConfig], '~/.kube/config', e.mask, tokenFileOf)
    source = '~/.kube/config'
  } else if (e.env.KUBERNETES_SERVICE_HOST && fs.existsSync(path.join(saDir, 'token'))) {
    const inCluster = new KubeConfig()
    inCluster.loadFromCluster(e.rootPrefix || undefined)
    // The token file is read by RefreshingAuthentication, not by client-node's FileAuth: one reader, one age rule.
    kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: inCluster.getClusters(),
      users: inCluster.getUsers().map((u) => ({ name: u.name })),
      contexts: inCluster.getContexts(),
      currentContext: inCluster.getCurrentContext()
    })
    tokenFile = path.join(saDir, 'token')
    namespace = fs.existsSync(path.join(saDir, 'namespace')) ? fs.readFileSync(path.join(saDir, 'namespace'), 'utf8').trim() : undefined
    source = 'in-cluster'
  } else {
    throw new CredentialsError(
      "no cluster credentials: set the 'kubeconfig' input (e.g. kubeconfig: ${{ secrets.KUBECONFIG }}), or write KUBECONFIG or ~/.kube/config in an earlier step, or run the runner as a pod with a service account"
    )
  }

  const contexts = kc.getContexts().map((c) => c.name)
  if (settings.context) {
    if (!contexts.includes(settings.context)) {
      throw new InputError(
        `Input 'context' has an invalid value '${settings.context}': the kubeconfig (${source}) has ${contexts.length ? `the contexts ${contexts.join(', ')}` : 'no contexts'}`
      )
    }
    kc.setCurrentContext(settings.context)
  } else if (source !== 'in-cluster' && !kc.getCurrentContext()) {
    if (contexts.length === 1) kc.setCurrentContext(contexts[0])
    else
      throw new CredentialsError(
        `the kubeconfig (${source}) sets no current-context: set the 'context' input to one of: ${contexts.join(', ') || '(none)'}`
      )
  }
  const context = kc.getCurrentContext()
  const ctx = kc.getContextObject(context)
  if (source !== 'in-cluster' && !ctx)
    throw new CredentialsError(`the kubeconfig (${source}) has current-context '${context}', but no context of that name`)
  const cluster = kc.getCurrentCluster()
  if (!cluster)
    throw new CredentialsError(`the kubeconfig (${source}) context '${context}' names cluster '${ctx?.cluster}', which it does not define`)
  if (!/^https?:\/\/[^/]+/.test(cluster.server ?? '')) {
    throw new CredentialsError(
      `the kubeconfig (${source}) cluster '${cluster.name}' has no valid server URL (got '${cluster.server ?? ''}')`
    )
  }
  if (ctx?.user && !kc.getCurrentUser()) {
    throw new CredentialsError(`the kubeconfig (${source}) context '${context}' names user '${ctx.user}', which it does not define`)
  }
  const user = kc.getCurrentUser()
  if (user && tokenFileOf.has(user.name)) tokenFile = tokenFileOf.get(user.name)
  const auth = new RefreshingAuthentication(kc, source, e.mask, tokenFile)
  // The token is read now: a missing file is said before the wait starts, and the token is masked.
  if (tokenFile) auth.tokenFromFile()
  return { kc, auth, source, namespace: namespace ?? ctx?.namespace ?? 'default', server: cluster.server, context }
}

const SOURCE_TEXT: Record<CredentialSource, string> = {
  input: "the 'kubeconfig' input",
  '--kubeconfig': 'the --kubeconfig file',
  KUBECONFIG: 'the KUBECONFIG file',
  '~/.kube/config': '~/.kube/config',
  'in-cluster': 'the in-cluster service account'
}

/** The exec plugin of a user, as client-node finds it. */
function execOf(user: User | null): { command?: string } | undefined {
  const provider = user?.authProvider as { name?: string; config?: { exec?: { command?: string } } } | undefined
  return (user?.exec as { command?: string } | undefined) ?? provider?.config?.exec ?? (provider?.name === 'exec' ? {} : undefined)
}

/**
 * The kubeconfig's credentials, as client-node applies them, plus what it
 * does not do: a token file read again at least every TOKEN_FILE_MAX_AGE_MS
 * and on a 401; an exec plugin run again on a 401 (client-node only runs it
 * again when its credential says it has expired). Every token obtained
 * during the wait is masked before any request carries it.
 */
export class RefreshingAuthentication implements Authentication {
  private file?: { path: string; token?: string; readAt: number }
  /** Why the last refresh got nothing fresh, for the 401 message. */
  private problem?: { unchanged: true } | { failed: string }

  constructor(
    public kc: KubeConfig,
    private readonly source: CredentialSource,
    private readonly mask: (s: string) => void,
    tokenFile?: string
  ) {
    if (tokenFile) this.file = { path: tokenFile, readAt: 0 }
  }

  async apply(opts: RequestOptions): Promise<void> {
    await this.kc.applyToHTTPSOptions(opts)
    // client-go: a token file wins over a token written in the kubeconfig.
    const headers = (opts.headers ??= {}) as Record<string, unknown>
    if (this.file) headers.Authorization = `Bearer ${this.tokenFromFile()}`
    const bearer = /^Bearer\s+(\S+)/i.exec(String(headers.Authorization ?? ''))
    if (bearer) maskValue(this.mask, bearer[1])
    if (opts.key) maskValue(this.mask, opts.key.toString())
  }

  /** The token file's token, read again when older than TOKEN_FILE_MAX_AGE_MS (or when `force`). */
  tokenFromFile(force = false): string {
    const f = this.file
    if (!f) throw new Error('no token file')
    if (force || f.token === undefined || Date.now() - f.readAt >= TOKEN_FILE_MAX_AGE_MS) {
      let token: string
      try {
        token = fs.readFileSync(f.path, 'utf8').trim()
      } catch (err) {
        // Until a 401, a token read before is kept: the kubelet swaps the file by a rename, never leaving it absent for long.
        if (f.token !== undefined && !force) return f.token
        throw new CredentialsError(
          `the token file ${f.path} (${SOURCE_TEXT[this.source]}) cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`
        )
      }
      if (!token) throw new CredentialsError(`the token file ${f.path} (${SOURCE_TEXT[this.source]}) is empty`)
      maskValue(this.mask, token)
      f.token = token
      f.readAt = Date.now()
    }
    return f.token
  }

  async refresh(): Promise<boolean> {
    this.problem = undefined
    if (this.file) {
      const before = this.file.token
      try {
        const token = this.tokenFromFile(true)
        if (token !== before) return true
        this.problem = { unchanged: true }
      } catch (err) {
        this.problem = { failed: (err as Error).message }
      }
      return false
    }
    if (execOf(this.kc.getCurrentUser())) {
      // A new KubeConfig has no cached exec credential: applying it runs the plugin again.
      const fresh = new KubeConfig()
      fresh.loadFromOptions({
        clusters: this.kc.getClusters(),
        users: this.kc.getUsers(),
        contexts: this.kc.getContexts(),
        currentContext: this.kc.getCurrentContext()
      })
      try {
        await fresh.applyToHTTPSOptions({})
      } catch (err) {
        this.problem = { failed: ((err as Error).message ?? String(err)).split('\n')[0].trim() || 'it failed' }
        return false
      }
      this.kc = fresh
      return true
    }
    return false
  }

  unauthorized(): string {
    const user = this.kc.getCurrentUser()
    const who = `user '${user?.name ?? ''}' of ${SOURCE_TEXT[this.source]}`
    if (this.file) {
      const file =
        this.source === 'in-cluster' ? `the service account token ${this.file.path}` : `the token file ${this.file.path} (${who})`
      if (this.problem && 'unchanged' in this.problem)
        return `${file} still holds the refused token: check that what writes it keeps it current (for a service account, the kubelet's projected token)`
      if (this.problem) return this.problem.failed
      return `${file} was read again and its new token was refused too: check that the identity it names still exists and may use the cluster`
    }
    const exec = execOf(user)
    if (exec) {
      const plugin = `the exec plugin ${exec.command ? `'${exec.command}' ` : ''}of ${who}`
      if (this.problem && 'failed' in this.problem)
        return `${plugin} was run again for fresh credentials and failed: ${this.problem.failed}`
      return `${plugin} was run again and its fresh credentials were refused too: check that the identity it logs in as may still use the cluster`
    }
    if (user?.token)
      return `the token of ${who} is wrong or expired, and a token written in a kubeconfig cannot be refreshed: give a current one, or use a tokenFile or an exec plugin (e.g. aws eks get-token) that fetches fresh tokens`
    if (user?.certData || user?.certFile)
      return `the client certificate of ${who} is not accepted: it may have expired, or the cluster's CA may not have signed it`
    if (user?.username) return `the username and password of ${who} are not accepted`
    return `${who} carries no credentials the API server accepts: give it a token, a client certificate or an exec plugin`
  }
}
