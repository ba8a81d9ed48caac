// Where the cluster credentials come from, in order: the 'kubeconfig' input,
// KUBECONFIG or ~/.kube/config on the runner, the in-cluster service account.
// Never localhost:8080. Every secret is masked before anything is logged, and
// the input's kubeconfig stays in memory: no file is written.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { KubeConfig } from '@kubernetes/client-node/dist/config.js'
import type { User } from '@kubernetes/client-node/dist/config_types.js'
import { InputError, type Settings } from './inputs.js'

export type CredentialSource = 'input' | 'KUBECONFIG' | '~/.kube/config' | 'in-cluster'

export interface Credentials {
  kc: KubeConfig
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
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

/** Masks a value, and each line of it: the runner matches masks line by line. */
function maskValue(mask: (s: string) => void, raw: unknown): void {
  // YAML turns an unquoted 12345678 into a number: still a secret.
  const value = typeof raw === 'number' || typeof raw === 'bigint' ? String(raw) : raw
  if (typeof value !== 'string' || value.trim().length < 4) return
  mask(value)
  const lines = value.split(/\r?\n/).map((l) => l.trim())
  if (lines.length > 1) for (const l of lines) if (l.length >= 8 && !/^-----(BEGIN|END) /.test(l)) mask(l)
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

function fromInput(text: string, mask: (s: string) => void): KubeConfig {
  for (const m of text.matchAll(SECRET_FIELD)) maskValue(mask, m[2])
  const kc = new KubeConfig()
  loadText(kc, text, "Input 'kubeconfig'", true)
  maskUserSecrets(kc.getUsers(), mask)
  return kc
}

function fromFiles(files: string[], label: string, mask: (s: string) => void): KubeConfig {
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

  if (settings.kubeconfig) {
    // Its secrets are masked one by one below; masking every line would hide
    // harmless words ("apiVersion: v1") in every later log of the job.
    kc = fromInput(settings.kubeconfig, e.mask)
    source = 'input'
  } else if (e.env.KUBECONFIG?.trim()) {
    const files = e.env.KUBECONFIG.split(path.delimiter).filter(Boolean)
    const existing = files.filter((f) => fs.existsSync(f))
    if (!existing.length) {
      throw new CredentialsError(
        `KUBECONFIG is set to ${e.env.KUBECONFIG}, but no such file exists: set the 'kubeconfig' input or fix the earlier step that writes it`
      )
    }
    kc = fromFiles(existing, 'KUBECONFIG', e.mask)
    source = 'KUBECONFIG'
  } else if (homeConfig && fs.existsSync(homeConfig)) {
    kc = fromFiles([homeConfig], '~/.kube/config', e.mask)
    source = '~/.kube/config'
  } else if (e.env.KUBERNETES_SERVICE_HOST && fs.existsSync(path.join(saDir, 'token'))) {
    kc = new KubeConfig()
    kc.loadFromCluster(e.rootPrefix || undefined)
    maskValue(e.mask, fs.readFileSync(path.join(saDir, 'token'), 'utf8'))
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
  return { kc, source, namespace: namespace ?? ctx?.namespace ?? 'default', server: cluster.server, context }
}
