// The krew manifest (plugins/krew/job-wait.yaml): what krew requires of it,
// and the release step that fills in the archive's sha256.
//   npm run -s krew-manifest ARCHIVE > job-wait.yaml
// reads the template, puts in the sha256 of ARCHIVE, and refuses to print a
// manifest that krew would not install (a placeholder sha256 among them).
// The checks follow krew's own validation of a Plugin (pkg/index/validation
// in kubernetes-sigs/krew) for the fields this manifest uses.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { load } from 'js-yaml'

export const MANIFEST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'plugins', 'krew', 'job-wait.yaml')

interface Platform {
  selector?: { matchLabels?: Record<string, unknown>; matchExpressions?: unknown[] }
  uri?: unknown
  sha256?: unknown
  bin?: unknown
  files?: { from?: unknown; to?: unknown }[]
}

interface Plugin {
  apiVersion?: unknown
  kind?: unknown
  metadata?: { name?: unknown }
  spec?: { version?: unknown; homepage?: unknown; shortDescription?: unknown; description?: unknown; platforms?: Platform[] }
}

const str = (v: unknown): v is string => typeof v === 'string' && v.trim() !== ''

/**
 * What is wrong with a manifest, as lines; none: krew installs it. `version`
 * is package.json's: the plugin's version is the same release, with a "v".
 * `release: false` checks all but the sha256, which only the release fills.
 */
export function krewProblems(text: string, version: string, opts: { release: boolean }): string[] {
  const problems: string[] = []
  let doc: Plugin
  try {
    doc = load(text) as Plugin
  } catch (err) {
    return [`not YAML: ${(err as Error).message.split('\n')[0]}`]
  }
  if (doc?.apiVersion !== 'krew.googlecontainertools.github.com/v1alpha2')
    problems.push('apiVersion is not krew.googlecontainertools.github.com/v1alpha2')
  if (doc?.kind !== 'Plugin') problems.push('kind is not Plugin')
  const name = doc?.metadata?.name
  // krew: a plugin name is lower case letters, digits and "-"; it becomes `kubectl job-wait`.
  if (name !== 'job-wait') problems.push(`metadata.name is ${JSON.stringify(name)}, not job-wait`)
  const spec = doc?.spec
  if (!spec) return [...problems, 'no spec']
  if (spec.version !== `v${version}`) problems.push(`spec.version is ${JSON.stringify(spec.version)}, not v${version} (package.json)`)
  if (!str(spec.version) || !/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(spec.version)) problems.push('spec.version is not semver with a "v"')
  if (!str(spec.homepage) || !/^https:\/\/\S+$/.test(spec.homepage)) problems.push('spec.homepage is not an https URL')
  if (!str(spec.shortDescription)) problems.push('spec.shortDescription is empty')
  // krew-index asks for a short description that fits `kubectl krew search`.
  else if (spec.shortDescription.length > 50) problems.push('spec.shortDescription is longer than 50 characters')
  if (!str(spec.description)) problems.push('spec.description is empty')
  const platforms = spec.platforms ?? []
  if (!platforms.length) problems.push('spec.platforms is empty')
  platforms.forEach((p, i) => {
    const at = `spec.platforms[${i}]`
    const labels = p.selector?.matchLabels
    if (!labels || typeof labels !== 'object' || !str(labels.os)) problems.push(`${at}.selector has no matchLabels.os`)
    if (!str(p.uri) || !/^https:\/\/\S+\.(tar\.gz|zip)$/.test(p.uri)) problems.push(`${at}.uri is not an https URL of a .tar.gz or .zip`)
    else if (str(spec.version) && !p.uri.includes(`/${spec.version}/`))
      problems.push(`${at}.uri is not the ${String(spec.version)} release`)
    if (opts.release && (!str(p.sha256) || !/^[0-9a-f]{64}$/.test(p.sha256))) problems.push(`${at}.sha256 is not 64 lower-case hex digits`)
    const windows = labels?.os === 'windows'
    if (!str(p.bin)) problems.push(`${at}.bin is empty`)
    else if (p.bin !== (windows ? 'kubectl-job_wait.exe' : 'kubectl-job_wait')) problems.push(`${at}.bin is ${p.bin}, not kubectl-job_wait`)
    for (const f of p.files ?? []) if (!str(f.from) || !str(f.to)) problems.push(`${at}.files has an entry without from and to`)
  })
  return problems
}

/** The manifest with the sha256 of every platform set; the rest of the text as it is. */
export function withSha256(text: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`)
  return text.replace(/^(\s*sha256:\s*).*$/gm, `$1${sha256}`)
}

function main(archive: string | undefined): void {
  if (!archive) throw new Error('usage: node scripts/krew-manifest.ts ARCHIVE')
  const version = (
    JSON.parse(fs.readFileSync(path.join(path.dirname(MANIFEST), '..', '..', 'package.json'), 'utf8')) as { version: string }
  ).version
  const sha = createHash('sha256').update(fs.readFileSync(archive)).digest('hex')
  const text = withSha256(fs.readFileSync(MANIFEST, 'utf8'), sha)
  const problems = krewProblems(text, version, { release: true })
  if (problems.length) throw new Error(`the manifest would not install:\n${problems.join('\n')}`)
  process.stdout.write(text)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv[2])
