// A page of GitHub-flavoured markdown as GitHub reads it: parsed with
// micromark's GFM into a tree, and checked for what cluster text must never
// make on it (tests of the job summary and the PR comment, unit and e2e).
import type { Nodes, Root } from 'mdast'
import { fromMarkdown } from 'mdast-util-from-markdown'
import { gfmFromMarkdown } from 'mdast-util-gfm'
import { gfm as gfmSyntax } from 'micromark-extension-gfm'

export const parse = (markdown: string): Root => fromMarkdown(markdown, { extensions: [gfmSyntax()], mdastExtensions: [gfmFromMarkdown()] })

export function* walk(node: Nodes, parents: Nodes[] = []): Generator<{ node: Nodes; parents: Nodes[] }> {
  yield { node, parents }
  if ('children' in node) for (const child of node.children) yield* walk(child, [...parents, node])
}

/** The shape of a tree: node types, heading depths, code languages and link targets; no words. */
export function shape(node: Nodes): unknown {
  const out: Record<string, unknown> = { type: node.type }
  if (node.type === 'heading') out.depth = node.depth
  if (node.type === 'code') out.lang = node.lang
  if (node.type === 'link') out.url = node.url
  if (node.type === 'list') out.ordered = node.ordered
  if ('children' in node) {
    const children: unknown[] = []
    for (const child of node.children) {
      // Adjacent text is one run of words, however the parser split it.
      if (child.type === 'text' && (children.at(-1) as { type?: string } | undefined)?.type === 'text') continue
      children.push(shape(child))
    }
    // Rows are sorted (and the longest tables cut) by name and time, which the twin's words do not
    // keep: a table's shape is its header, its rows and their cells; problems() checks what is in them.
    if (node.type === 'table') out.children = [children[0], node.children.length - 1]
    else out.children = children
  }
  return out
}

export const text = (node: Nodes): string =>
  node.type === 'text' || node.type === 'inlineCode' ? node.value : 'children' in node ? node.children.map(text).join('') : ''

const decode = (html: string): string =>
  html.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot);/gi, (_, e: string) =>
    e[0] === '#'
      ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
      : ({ amp: '&', lt: '<', gt: '>', quot: '"' } as Record<string, string>)[e.toLowerCase()]!
  )

/** What GitHub would turn into a notification or a link in rendered text (not in code). */
function liveReference(s: string): string | undefined {
  return /@[A-Za-z0-9_]/.exec(s)?.[0] ?? /#\d/.exec(s)?.[0] ?? /\bGH-\d/i.exec(s)?.[0] ?? undefined
}

const POD_HEADER = ['Pod', 'Index', 'Phase', 'Node', 'Started', 'Duration', 'Restarts', 'Reason']
const AGGREGATE_HEADER = ['Phase', 'Reason', 'Pods']
/** Our own raw HTML: tags and the comment marker; nothing else may be HTML. */
const OWN_TAGS = /<\/?(details|summary|code|sub)>/g
const LABEL = '[A-Za-z0-9 ._\\-[\\]/?]+'
/** The lines of our gantt chart, with labels that only mermaidText makes (two spaces of indent). */
const GANTT_LINE = new RegExp(
  `^(${[
    'gantt',
    ' {2}dateFormat x',
    ' {2}axisFormat %H:%M:%S',
    ` {2}section ${LABEL}`,
    ' {2}Pending :p\\d+, -?\\d+, -?\\d+',
    ` {2}Running( → ${LABEL})? :(crit|done|active), r\\d+, -?\\d+, -?\\d+`
  ].join('|')})$`
)

/** Every check that holds for any render, hostile or not; returns the problems found. */
export function problems(markdown: string | Nodes, runUrl: string | undefined): string[] {
  const found: string[] = []
  const tree = typeof markdown === 'string' ? parse(markdown) : markdown
  for (const { node, parents } of walk(tree)) {
    const inCode = parents.some((p) => p.type === 'inlineCode')
    switch (node.type) {
      case 'table': {
        const header = node.children[0]!.children.map(text)
        const ours = [POD_HEADER.filter((h) => h !== 'Index'), POD_HEADER, AGGREGATE_HEADER].some((h) => h.join() === header.join())
        if (!ours) found.push(`a table not ours: ${header.join(' | ')}`)
        for (const row of node.children) {
          if (row.children.length !== header.length) found.push(`a row of ${row.children.length} cells under ${header.length}`)
          for (const cell of row.children)
            if (cell.children.some((c) => c.type !== 'text'))
              found.push(`a cell that is not plain text: ${cell.children.map((c) => c.type).join()}`)
        }
        break
      }
      case 'heading':
        if (node.depth < 2 || node.depth > 4) found.push(`a heading of depth ${node.depth}: ${text(node)}`)
        break
      case 'link':
        if (node.url !== runUrl || text(node) !== 'run') found.push(`a link: ${node.url}`)
        break
      case 'image':
      case 'imageReference':
      case 'linkReference':
      case 'definition':
      case 'footnoteReference':
      case 'footnoteDefinition':
      case 'delete':
      case 'emphasis':
      case 'thematicBreak':
      case 'break':
        found.push(`a ${node.type}: ${JSON.stringify(text(node)).slice(0, 80)}`)
        break
      case 'code':
        if (node.lang !== 'text' && node.lang !== 'mermaid') found.push(`a code block in ${node.lang}`)
        if (node.lang === 'mermaid')
          for (const line of node.value.split('\n')) if (!GANTT_LINE.test(line)) found.push(`a mermaid line not ours: ${line}`)
        break
      case 'html': {
        const marker = /^<!-- kube-job-wait: ([^<>]*) -->$/.exec(node.value)
        if (marker) {
          if (marker[1]!.includes('-->')) found.push(`a marker comment that ends early: ${node.value}`)
          break
        }
        const rest = node.value.replace(OWN_TAGS, '')
        if (/[<>]/.test(rest)) found.push(`HTML not ours: ${node.value}`)
        const live = liveReference(decode(rest))
        if (live) found.push(`a live reference in HTML: ${live} in ${node.value}`)
        break
      }
      case 'text': {
        const live = inCode ? undefined : liveReference(node.value)
        if (live) found.push(`a live reference: ${live} in ${JSON.stringify(node.value).slice(0, 120)}`)
        break
      }
    }
  }
  return found
}
