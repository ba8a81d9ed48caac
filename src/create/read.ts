// The manifest input as text: inline YAML, or a file or a glob of files
// relative to the workspace. Each bad input is one line naming it.
import { glob, readFile } from 'node:fs/promises'
import * as path from 'node:path'
import { ok, refused, type Result, type Source } from './manifest.js'

/** YAML written in the workflow has a line break, a "key:" or a JSON brace; a path or a glob has none of them. */
export function isInline(input: string): boolean {
  const text = input.trim()
  return /\n/.test(text) || /^[\w.-]+\s*:(\s|$)/.test(text) || text.startsWith('{')
}

const hasGlob = (p: string): boolean => /[*?[\]{}]/.test(p)

/** The sources of the manifest input: itself when inline, else the files it names, sorted. */
export async function readManifest(input: string, workspace: string): Promise<Result<Source[]>> {
  if (isInline(input)) return ok([{ text: input }])
  const pattern = input.trim()
  const root = path.resolve(workspace)
  let files: string[]
  if (hasGlob(pattern)) {
    files = []
    for await (const f of glob(pattern, { cwd: root })) files.push(f)
    files.sort()
    if (!files.length) return refused(`Input 'manifest' ('${pattern}') matches no file in the workspace ${root}`)
  } else {
    files = [pattern]
  }
  const sources: Source[] = []
  for (const f of files) {
    const full = path.resolve(root, f)
    const shown = path.relative(root, full) || f
    try {
      sources.push({ file: shown, text: await readFile(full, 'utf8') })
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a file' : (e.message ?? String(e))
      return refused(`Input 'manifest': cannot read ${shown} in the workspace ${root}: ${why}`)
    }
  }
  return ok(sources)
}
