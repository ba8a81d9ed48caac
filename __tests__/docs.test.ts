// README is the user's page and docs/ holds the detail (issue 18): the README
// stays under 25 KB, and no relative link of README.md or docs/*.md points to
// a file or heading that is not there (scripts/check-links.mjs).
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { load } from 'js-yaml'

const root = path.resolve(import.meta.dirname, '..')
const script = path.join(root, 'scripts/check-links.mjs')

function checkLinks(dir: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' })
  return { status: r.status, stderr: r.stderr }
}

test('README.md stays a user’s page: under 25 KB', () => {
  expect(fs.statSync(path.join(root, 'README.md')).size).toBeLessThan(25_000)
})

test('every relative link of README.md and docs/*.md resolves, file and #anchor', () => {
  const r = checkLinks(root)
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
})

/** The first column of the table under `## heading` in a markdown file: `name` rows. */
function tableNames(file: string, heading: string): string[] {
  const text = '\n' + fs.readFileSync(path.join(root, file), 'utf8')
  const start = text.indexOf(`\n${heading}\n`)
  expect(start).toBeGreaterThanOrEqual(0)
  const section = text.slice(start + heading.length + 2).split(/\n## /)[0]
  return [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1])
}

test('the README’s Inputs and Outputs tables, and docs/inputs.md, name every input and output of action.yml', () => {
  const action = load(fs.readFileSync(path.join(root, 'action.yml'), 'utf8')) as {
    inputs: Record<string, unknown>
    outputs: Record<string, unknown>
  }
  const inputs = Object.keys(action.inputs).sort()
  expect(tableNames('README.md', '## Inputs').sort()).toEqual(inputs)
  expect(tableNames('docs/inputs.md', '# Inputs').sort()).toEqual(inputs)
  expect(tableNames('README.md', '## Outputs').sort()).toEqual(Object.keys(action.outputs).sort())
})

describe('scripts/check-links.mjs', () => {
  const write = (dir: string, files: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
      fs.writeFileSync(path.join(dir, name), text)
    }
  }

  test('names a missing file, a missing heading, and leaves code, URLs and good links alone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kjw-links-'))
    try {
      write(dir, {
        'README.md': [
          '# Tool',
          '## How it decides',
          'See [rules](docs/rules.md#the-clocks), [design](docs/design.md), [here](#how-it-decides),',
          '[gone](docs/gone.md), [stale](docs/rules.md#no-such-part), [web](https://example.com/x.md).',
          '`[code](docs/in-code.md)`',
          '```md',
          '[fenced](docs/in-fence.md)',
          '## Not a heading',
          '```',
          '[not a heading](#not-a-heading)'
        ].join('\n'),
        'docs/rules.md': '# Rules\n\n## The clocks\n\n[back](../README.md#how-it-decides) [up](../src/)\n',
        'docs/design.md': '# Design\n\n## `src/` and why: one (stage)\n## Repeat\n## Repeat\n[a](#src-and-why-one-stage) [b](#repeat-1)\n'
      })
      fs.mkdirSync(path.join(dir, 'src'))
      const r = checkLinks(dir)
      expect(r.status).toBe(1)
      expect(r.stderr.trim().split('\n')).toEqual([
        'README.md:4: docs/gone.md: no such file',
        'README.md:4: docs/rules.md#no-such-part: no heading #no-such-part in docs/rules.md',
        'README.md:10: #not-a-heading: no heading #not-a-heading in README.md'
      ])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
