// Checks every relative link of README.md and docs/*.md (run by __tests__/docs.test.ts):
// the file or folder it names must exist and its #anchor must be a heading of
// the markdown file it points to, as GitHub makes anchors. Sections move
// between README and docs/; a link left behind fails here, not for a reader.
// Usage: node scripts/check-links.mjs [ROOT]; exit 1 and one line per broken
// link, else 0.
import fs from 'node:fs'
import path from 'node:path'

/** Lines outside fenced code blocks (a fence closes on a line of at least its backticks). */
export function prose(text) {
  const out = []
  let fence = ''
  for (const line of text.split('\n')) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line)
    if (m) {
      if (!fence) fence = m[1]
      else if (m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) fence = ''
      out.push('')
      continue
    }
    out.push(fence ? '' : line)
  }
  return out
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
export function anchors(text) {
  const seen = new Map()
  const result = new Set()
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!m) continue
    const base = m[1]
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    result.add(n === 0 ? base : `${base}-${n}`)
  }
  return result
}

/** Relative link targets of a markdown text, inline code left out. */
export function links(text) {
  const found = []
  prose(text).forEach((line, i) => {
    const bare = line.replace(/`[^`]*`/g, '')
    for (const m of bare.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue
      found.push({ line: i + 1, target })
    }
  })
  return found
}

export function check(root) {
  const files = ['README.md']
  const docs = path.join(root, 'docs')
  if (fs.existsSync(docs)) {
    for (const f of fs.readdirSync(docs).sort()) if (f.endsWith('.md')) files.push(`docs/${f}`)
  }
  const broken = []
  for (const file of files) {
    const abs = path.join(root, file)
    const text = fs.readFileSync(abs, 'utf8')
    for (const { line, target } of links(text)) {
      const [rawPath, anchor] = target.split('#', 2)
      const filePath = decodeURI(rawPath)
      const dest = filePath ? path.resolve(path.dirname(abs), filePath) : abs
      if (!fs.existsSync(dest)) {
        broken.push(`${file}:${line}: ${target}: no such file`)
        continue
      }
      if (anchor === undefined || anchor === '') continue
      if (!dest.endsWith('.md') || fs.statSync(dest).isDirectory()) continue
      if (!anchors(fs.readFileSync(dest, 'utf8')).has(decodeURIComponent(anchor))) {
        broken.push(`${file}:${line}: ${target}: no heading #${anchor} in ${path.relative(root, dest)}`)
      }
    }
  }
  return broken
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'))
  const broken = check(root)
  for (const b of broken) console.error(b)
  process.exit(broken.length ? 1 : 0)
}
