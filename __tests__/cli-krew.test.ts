// The krew manifest of `kubectl job-wait`: parsed, its structure as krew
// requires it (name, bin, descriptions, homepage, the version of
// package.json, each platform's selector, uri and sha256); the committed
// template is refused as a release until the release step fills the sha256,
// and the release step's output is accepted.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { load } from 'js-yaml'
import { MANIFEST, krewProblems, withSha256 } from '../scripts/krew-manifest.js'

const text = fs.readFileSync(MANIFEST, 'utf8')
const version = (JSON.parse(fs.readFileSync(path.join(path.dirname(MANIFEST), '..', '..', 'package.json'), 'utf8')) as { version: string })
  .version
const SHA = 'a'.repeat(64)

describe('the committed manifest', () => {
  test('parses, and has what krew needs but the sha256', () => {
    expect(krewProblems(text, version, { release: false })).toEqual([])
    const doc = load(text) as {
      metadata: { name: string }
      spec: { version: string; platforms: { bin: string; selector: unknown; uri: string }[] }
    }
    expect(doc.metadata.name).toBe('job-wait')
    expect(doc.spec.version).toBe(`v${version}`)
    expect(doc.spec.platforms).toHaveLength(1)
    expect(doc.spec.platforms[0]).toMatchObject({
      bin: 'kubectl-job_wait',
      selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
      uri: expect.stringMatching(
        new RegExp(`/releases/download/v${version.replaceAll('.', '\\.')}/kubectl-job_wait-linux-amd64\\.tar\\.gz$`)
      )
    })
  })

  test('is not a release: its sha256 is a placeholder, and the release check says so', () => {
    expect(krewProblems(text, version, { release: true })).toEqual(['spec.platforms[0].sha256 is not 64 lower-case hex digits'])
  })

  test('filled with a sha256, it is a release', () => {
    expect(krewProblems(withSha256(text, SHA), version, { release: true })).toEqual([])
    expect(() => withSha256(text, 'FILLED')).toThrow(/not a sha256/)
  })
})

describe('what the checks refuse', () => {
  const broken = (from: string | RegExp, to: string) => krewProblems(withSha256(text, SHA).replace(from, to), version, { release: true })
  test.each([
    ['another name', /name: job-wait/, 'name: job_wait', 'metadata.name is "job_wait", not job-wait'],
    ['a version not package.json’s', /version: v[\d.]+/, 'version: v9.9.9', 'spec.version is "v9.9.9", not v'],
    ['a version without v', /version: v([\d.]+)/, 'version: $1', 'spec.version is not semver with a "v"'],
    ['an http homepage', /homepage: https:/, 'homepage: http:', 'spec.homepage is not an https URL'],
    ['a long short description', /shortDescription: .*/, `shortDescription: ${'x'.repeat(51)}`, 'longer than 50 characters'],
    ['another binary', /bin: kubectl-job_wait/, 'bin: kube-job-wait', 'spec.platforms[0].bin is kube-job-wait, not kubectl-job_wait'],
    ['no os label', /os: linux/, 'oss: linux', 'spec.platforms[0].selector has no matchLabels.os'],
    ['a uri of another release', /download\/v[\d.]+\//, 'download/v0.0.1/', 'spec.platforms[0].uri is not the v'],
    ['a uri that is not an archive', /\.tar\.gz$/m, '.exe', 'spec.platforms[0].uri is not an https URL of a .tar.gz or .zip'],
    ['upper-case hex', /sha256: .*/, `sha256: ${'A'.repeat(64)}`, 'sha256 is not 64 lower-case hex digits'],
    ['another kind', /kind: Plugin/, 'kind: Index', 'kind is not Plugin'],
    ['not YAML', /apiVersion/, '\t: [', 'not YAML']
  ])('%s', (_, from, to, problem) => {
    expect(broken(from, to).join('\n')).toContain(problem)
  })
})

test('the release step: node scripts/krew-manifest.ts ARCHIVE prints the manifest with the archive’s sha256', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'krew-'))
  try {
    const archive = path.join(dir, 'kubectl-job_wait-linux-amd64.tar.gz')
    fs.writeFileSync(archive, 'not really an archive, but bytes to hash')
    const out = execFileSync(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', path.join(path.dirname(MANIFEST), '..', '..', 'scripts', 'krew-manifest.ts'), archive],
      {
        encoding: 'utf8'
      }
    )
    expect(out).toMatch(/sha256: [0-9a-f]{64}\n/)
    expect(krewProblems(out, version, { release: true })).toEqual([])
    const sha = /sha256: ([0-9a-f]{64})/.exec(out)![1]
    const expected = execFileSync(
      process.execPath,
      [
        '-e',
        `process.stdout.write(require('crypto').createHash('sha256').update(require('fs').readFileSync(${JSON.stringify(archive)})).digest('hex'))`
      ],
      {
        encoding: 'utf8'
      }
    )
    expect(sha).toBe(expected)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
