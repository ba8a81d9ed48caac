// Credentials on the real API server (RBAC, static tokens, client
// certificates): the kubeconfig input as YAML and as base64, a token and a
// client certificate, KUBECONFIG instead of the input, exactly the Role the
// README asks for, a Role without watch (polling), and no rights at all.
// Every run is also checked for leaked secrets (support/action.ts).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { assertNoSecrets, expectResult, kubeconfigSecrets, runAction, type Creds } from './support/action.js'
import { NS, RESTRICTED, cleanup, createJob, kubeconfigText, podPhases, uniqueName, until } from './support/cluster.js'

afterAll(cleanup)

describe('the secret scan every run goes through', () => {
  test('finds the token, the client key and its PEM lines, and fails a run that shows one', () => {
    const admin = kubeconfigSecrets(kubeconfigText('admin'))
    expect(admin.map((s) => s.what)).toEqual(['user kjw-admin token'])
    expect(admin[0].value).toMatch(/^[0-9a-f]{48}$/)
    const cert = kubeconfigSecrets(kubeconfigText('cert'))
    expect(cert.map((s) => s.what)).toEqual(
      expect.arrayContaining(['user kjw-cert-admin client-key-data', 'user kjw-cert-admin client key (PEM line)'])
    )
    const run = { code: 0, signal: null, stderr: '', outputs: {}, summary: '', ms: 0, lines: [] }
    const token = admin[0].value
    expect(() => assertNoSecrets({ ...run, stdout: `::add-mask::${token}\nall fine\n` }, admin)).not.toThrow()
    expect(() => assertNoSecrets({ ...run, stdout: `::add-mask::${token}\n`, summary: `token ${token}` }, admin)).toThrow(
      /token in job summary/
    )
    expect(() => assertNoSecrets({ ...run, stdout: `::add-mask::${token}\n`, outputs: { message: `x${token}x` } }, admin)).toThrow(
      /output message/
    )
    expect(() => assertNoSecrets({ ...run, stdout: 'never masked\n' }, admin)).toThrow(/not masked/)
    const pemLine = cert.find((s) => s.what.endsWith('(PEM line)'))!.value
    const masks = cert.map((s) => `::add-mask::${s.value}`).join('\n')
    expect(() => assertNoSecrets({ ...run, stdout: masks, stderr: `key: ${pemLine}` }, cert)).toThrow(/PEM line\) in stderr/)
  })
})

describe('the kubeconfig input and KUBECONFIG', () => {
  let name: string
  beforeAll(async () => {
    name = uniqueName('creds')
    await createJob({ name, sim: { 'run-ms': '-1' } })
    await until(`job ${name}'s pod Running`, async () => Object.values(await podPhases(name)).includes('Running'))
  })

  const cases: [string, Creds, string][] = [
    ['input as YAML, token (admin)', { user: 'admin', as: 'yaml' }, 'input'],
    ['input as base64, token (admin)', { user: 'admin', as: 'base64' }, 'input'],
    ['input as YAML, client certificate (cert)', { user: 'cert', as: 'yaml' }, 'input'],
    ['input as base64, client certificate (cert)', { user: 'cert', as: 'base64' }, 'input'],
    ['KUBECONFIG, no input, token (admin)', { user: 'admin', via: 'KUBECONFIG' }, 'KUBECONFIG'],
    ['KUBECONFIG, no input, client certificate (cert)', { user: 'cert', via: 'KUBECONFIG' }, 'KUBECONFIG']
  ]
  test.each(cases)('%s', async (_, creds, source) => {
    const run = await runAction({ inputs: { job: name, namespace: NS, phase: 'Running', timeout: '30s' }, creds })
    expectResult(run, 'met')
    expect(run.message).toBe('1 of 1 pod Running')
    expect(run.count).toBe(1)
    expect(Object.values(run.phases)).toEqual(['Running'])
    expect(run.job).toMatchObject({ name, namespace: NS, active: 1 })
    expect(run.stdout).toContain(`credentials: ${source}, server https://127.0.0.1:`)
    expect(run.summary).toContain(`job \`${NS}/${name}\`: met`)
  })
})

describe('restricted credentials (namespace from the kubeconfig context)', () => {
  test('role.kubeconfig, exactly the documented Role: met in kjw-restricted', async () => {
    const name = uniqueName('role')
    await createJob({ name, namespace: RESTRICTED, parallelism: 2, completions: 2, sim: { 'run-ms': '800' } })
    const run = await runAction({ inputs: { job: name, condition: 'Complete', timeout: '30s' }, creds: { user: 'role' } })
    expectResult(run, 'met')
    expect(run.message).toMatch(
      new RegExp(`^job ${RESTRICTED}/${name} completed \\((SuccessCriteriaMet|Complete)\\): 0 active, \\d of 2 succeeded, 0 failed$`)
    )
    expect(run.count).toBe(0)
    expect(Object.values(run.phases)).toEqual(['Succeeded', 'Succeeded'])
    expect(run.job).toMatchObject({ name, namespace: RESTRICTED, failed: 0 })
    expect(run.stdout).toContain(`of job ${RESTRICTED}/${name} `)
    expect(run.stdout).not.toMatch(/forbidden/i)
  })

  test('role.kubeconfig on a failing Job: the Role is enough for its logs and events in the summary', async () => {
    const name = uniqueName('rolefail')
    await createJob({
      name,
      namespace: RESTRICTED,
      sim: { 'exit-code': '3', 'run-ms': '300', log: 'loading config\npanic: role-e2e-marker' }
    })
    const run = await runAction({ inputs: { job: name, condition: 'Complete', timeout: '30s' }, creds: { user: 'role' } })
    expectResult(run, 'failed')
    expect(run.message).toMatch(new RegExp(`^job ${RESTRICTED}/${name} failed: BackoffLimitExceeded`))
    expect(run.summary).toContain('panic: role-e2e-marker')
    expect(run.stdout).not.toMatch(/forbidden/i)
  })

  test('nowatch.kubeconfig (no watch verb): falls back to polling, with a warning, and is met', async () => {
    const name = uniqueName('nowatch')
    // Pending for 3 s: the first LIST cannot already decide, the polls must
    await createJob({ name, namespace: RESTRICTED, sim: { 'run-ms': '-1', 'start-ms': '3000' } })
    const run = await runAction({
      inputs: { job: name, phase: 'Running', timeout: '30s', 'poll-interval': '1s' },
      creds: { user: 'nowatch' }
    })
    expectResult(run, 'met')
    expect(run.message).toBe('1 of 1 pod Running')
    expect(run.count).toBe(1)
    expect(Object.values(run.phases)).toEqual(['Running'])
    expect(run.job).toMatchObject({ name, namespace: RESTRICTED, active: 1 })
    const warning = run.lines.find((l) => l.line.startsWith('::warning') && /polling/.test(l.line))
    expect(warning?.line).toMatch(/watch/)
    expect(run.lines.find((l) => l.line.includes('0 of 1 pod Running'))).toBeDefined()
    expect(run.summary).toContain('poll mode')
  })

  test('norights.kubeconfig: result error naming the verb and the resource', async () => {
    const name = uniqueName('norights')
    await createJob({ name, namespace: RESTRICTED, sim: { 'run-ms': '-1' } })
    const run = await runAction({ inputs: { job: name, phase: 'Running', timeout: '30s' }, creds: { user: 'norights' } })
    expectResult(run, 'error')
    expect(run.message).toContain('cannot list resource "jobs"')
    expect(run.message).toContain('kjw-norights')
    expect(run.message).toContain(RESTRICTED)
    expect(run.count).toBe(0)
    expect(run.phases).toEqual({})
    expect(run.pods).toEqual([])
    expect(run.job).toBeNull()
    expect(run.elapsed).toBeLessThan(5)
    expect(run.stdout).toContain(`::error::${run.message}`)
  })
})
