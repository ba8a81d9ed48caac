// The CLI's process: a throw that escapes every handler ends in exit 4
// (error), never Node's 1, which would read as a failed Job.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { expect, test } from '@jest/globals'
import { ROOT } from './support/run-dist.js'

test('an uncaught exception during a wait: one line on stderr and exit 4', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-cli-crash-'))
  try {
    // A server nobody answers on: the wait retries, and the throw below comes meanwhile.
    const kubeconfig = path.join(dir, 'config')
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: c, context: {cluster: c, user: u, namespace: ci}}]',
        'current-context: c'
      ].join('\n')
    )
    const preload = path.join(dir, 'throw.mjs')
    fs.writeFileSync(preload, "setTimeout(() => { throw new Error('boom from a timer') }, 500)\n")
    const r = spawnSync(
      path.join(ROOT, 'node_modules', '.bin', 'tsx'),
      ['--import', preload, path.join(ROOT, 'src', 'cli', 'index.ts'), 'job/build', '--kubeconfig', kubeconfig, '--timeout', '60s'],
      { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: dir } }
    )
    expect(r.stderr).toContain('kube-job-wait failed unexpectedly (a bug: please report it): boom from a timer')
    expect(r.status).toBe(4)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}, 40_000)
