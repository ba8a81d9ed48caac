// Label and field selectors, parsed and refused with kube-apiserver's
// messages (k8s.io/apimachinery/pkg/labels and pkg/fields).

import { q, RESOURCES } from './resources.js'
import type { ResourceName } from './types.js'

export interface LabelRequirement {
  key: string
  op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt'
  values: string[]
}

const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const LABEL_KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/

export class SelectorError extends Error {}

function splitTopLevel(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out
}

function checkLabelKey(key: string): void {
  if (!LABEL_KEY_RE.test(key) || key.length > 317) {
    throw new SelectorError(
      `unable to parse requirement: <nil>: Invalid value: ${q(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`
    )
  }
}

function checkLabelValue(key: string, v: string): void {
  if (!LABEL_VALUE_RE.test(v) || v.length > 63) {
    throw new SelectorError(
      `unable to parse requirement: values[0][${key}]: Invalid value: ${q(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`
    )
  }
}

/** Parses a label selector (=, ==, !=, in, notin, exists, !exists, gt, lt). */
export function parseLabelSelector(sel: string | undefined): LabelRequirement[] {
  if (!sel || sel.trim() === '') return []
  const reqs: LabelRequirement[] = []
  for (const raw of splitTopLevel(sel)) {
    const term = raw.trim()
    if (term === '') throw new SelectorError(`found '', expected: !, identifier, or 'end of string'`)
    let m: RegExpMatchArray | null
    if ((m = term.match(/^!\s*([^\s=!<>(),]+)$/))) {
      checkLabelKey(m[1])
      reqs.push({ key: m[1], op: '!', values: [] })
    } else if ((m = term.match(/^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/))) {
      checkLabelKey(m[1])
      const values = m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v, i, all) => !(v === '' && all.length === 1))
      values.forEach((v) => checkLabelValue(m![1], v))
      reqs.push({ key: m[1], op: m[2] as 'in' | 'notin', values })
    } else if ((m = term.match(/^([^\s=!<>(),]+)\s*(==|=|!=|<|>)\s*([^\s=!<>(),]*)$/))) {
      checkLabelKey(m[1])
      const op = m[2] === '==' || m[2] === '=' ? '=' : m[2] === '!=' ? '!=' : m[2] === '<' ? 'lt' : 'gt'
      if (op === 'lt' || op === 'gt') {
        if (!/^-?\d+$/.test(m[3])) {
          throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`)
        }
      } else checkLabelValue(m[1], m[3])
      reqs.push({ key: m[1], op, values: [m[3]] })
    } else if ((m = term.match(/^([^\s=!<>(),]+)$/))) {
      checkLabelKey(m[1])
      reqs.push({ key: m[1], op: 'exists', values: [] })
    } else {
      throw new SelectorError(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`)
    }
  }
  return reqs
}

export function labelsMatch(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key)
    const v = l[r.key]
    switch (r.op) {
      case '=':
        return has && v === r.values[0]
      case '!=':
        return !has || v !== r.values[0]
      case 'in':
        return has && r.values.includes(v)
      case 'notin':
        return !has || !r.values.includes(v)
      case 'exists':
        return has
      case '!':
        return !has
      case 'gt':
        return has && /^-?\d+$/.test(v) && Number(v) > Number(r.values[0])
      case 'lt':
        return has && /^-?\d+$/.test(v) && Number(v) < Number(r.values[0])
    }
    return false
  })
}

export interface FieldRequirement {
  field: string
  op: '=' | '!='
  value: string
}

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[i + 1]
      i++
    } else if (s[i] === sep) {
      out.push(cur)
      cur = ''
    } else cur += s[i]
  }
  out.push(cur)
  return out
}

function unescapeField(s: string): string {
  return s.replace(/\\(.)/g, '$1')
}

/** Parses a field selector (=, ==, !=) and checks the fields against the resource. */
export function parseFieldSelector(sel: string | undefined, resource: ResourceName): FieldRequirement[] {
  if (!sel || sel.trim() === '') return []
  const known = Object.keys(RESOURCES[resource].fields({ metadata: {} }))
  const reqs: FieldRequirement[] = []
  for (const term of splitUnescaped(sel, ',')) {
    const m = term.match(/^([^=!]+?)(!=|==|=)(.*)$/s)
    if (!m) throw new SelectorError(`invalid selector: '${sel}'; can't understand '${term}'`)
    const field = m[1].trim()
    if (!known.includes(field)) throw new SelectorError(`field label not supported: ${field}`)
    reqs.push({ field, op: m[2] === '!=' ? '!=' : '=', value: unescapeField(m[3]) })
  }
  return reqs
}

export function fieldsMatch(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => (r.op === '=' ? fields[r.field] === r.value : fields[r.field] !== r.value))
}

/** The name a `metadata.name=` field selector picks (a LIST or WATCH of one object). */
export function fieldSelectorName(sel: string | undefined): string | undefined {
  if (!sel) return undefined
  for (const term of splitUnescaped(sel, ',')) {
    const m = term.match(/^\s*metadata\.name\s*(==|=)(.*)$/)
    if (m && /^[^/%]+$/.test(m[2]) && m[2] !== '.' && m[2] !== '..') return unescapeField(m[2])
  }
  return undefined
}
