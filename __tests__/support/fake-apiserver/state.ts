// The one place the objects live: a map keyed like etcd, one global
// resourceVersion that every change bumps, and the history of changes that
// watches replay from a resourceVersion (up to the compaction point). It
// knows nothing of HTTP; whoever watches registers onCommit.

import { clone, mergePatch, q, qualifiedResource, RESOURCES, type ResourceDef } from './resources.js'
import { fieldsMatch, labelsMatch, type FieldRequirement, type LabelRequirement } from './selectors.js'
import type { KubeObject, ResourceName, WatchEventType } from './types.js'

export interface HistoryEntry {
  rv: number
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  resource: ResourceName
  namespace: string
  /** The object after the change; for DELETED, the last state with the deletion's resourceVersion. */
  object: KubeObject
  /** The object before the change (MODIFIED, DELETED). */
  prev?: KubeObject
}

export class ApiState {
  readonly objects = new Map<string, KubeObject>()
  readonly history: HistoryEntry[] = []
  /** Container logs by logKey(). */
  readonly logs = new Map<string, { text: string; time: string }>()
  /** The current global resourceVersion. */
  rv: number
  /** The compaction point: watches from an older resourceVersion get 410. */
  compactedRv = 0
  readonly now: () => Date
  /** Called after each change is stored (the watches fan it out). */
  onCommit?: (entry: HistoryEntry) => void

  constructor(opts: { initialResourceVersion?: number; now?: () => Date } = {}) {
    this.rv = opts.initialResourceVersion ?? 1000
    this.now = opts.now ?? (() => new Date())
  }

  get(resource: ResourceName, namespace: string, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(resource, namespace, name))
    return o ? clone(o) : undefined
  }

  /** Objects of a resource in a namespace ('' = all), sorted by namespace/name. */
  list(resource: ResourceName, namespace = ''): KubeObject[] {
    return this.select(RESOURCES[resource], namespace, [], []).map(clone)
  }

  /** Moves the compaction point to `rv` (default: the current resourceVersion). */
  compact(rv?: number | string): void {
    this.compactedRv = rv === undefined ? this.rv : Number(rv)
  }

  key(resource: ResourceName, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`
  }

  logKey(ns: string, pod: string, container: string, previous: boolean): string {
    return `${ns}/${pod}/${container}/${previous ? 'previous' : 'current'}`
  }

  timestamp(d: Date = this.now(), nanos = false): string {
    const iso = d.toISOString()
    return nanos ? iso.replace(/\.(\d{3})Z$/, '.$1000000Z') : iso.replace(/\.\d{3}Z$/, 'Z')
  }
  mustGet(resource: ResourceName, namespace: string, name: string): KubeObject {
    const o = this.objects.get(this.key(resource, namespace, name))
    if (!o) throw new Error(`${qualifiedResource(RESOURCES[resource])} ${q(name)} not found`)
    return clone(o)
  }

  patch(resource: ResourceName, namespace: string, name: string, patch: KubeObject): KubeObject {
    const prev = this.mustGet(resource, namespace, name)
    const next = mergePatch(prev, patch) as KubeObject
    next.metadata.name = prev.metadata.name
    next.metadata.namespace = prev.metadata.namespace
    next.metadata.uid = prev.metadata.uid
    if (resource === 'jobs' && JSON.stringify(next.spec) !== JSON.stringify(prev.spec)) {
      next.metadata.generation = (prev.metadata.generation ?? 1) + 1
    }
    return this.commit('MODIFIED', resource, namespace, next, prev)
  }

  remove(resource: ResourceName, namespace: string, name: string): KubeObject {
    const prev = this.mustGet(resource, namespace, name)
    this.objects.delete(this.key(resource, namespace, name))
    return this.commit('DELETED', resource, namespace, clone(prev), prev)
  }

  /** Bumps the resourceVersion, stores the change, records and fans out the watch event. */
  commit(
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    resource: ResourceName,
    namespace: string,
    obj: KubeObject,
    prev?: KubeObject
  ): KubeObject {
    this.rv++
    obj.metadata.resourceVersion = String(this.rv)
    const stored = clone(obj)
    if (type !== 'DELETED') this.objects.set(this.key(resource, namespace, obj.metadata.name), stored)
    const entry: HistoryEntry = { rv: this.rv, type, resource, namespace, object: clone(stored), prev: prev && clone(prev) }
    this.history.push(entry)
    this.onCommit?.(entry)
    return clone(stored)
  }

  objectMatches(def: ResourceDef, labels: LabelRequirement[], fields: FieldRequirement[], o: KubeObject): boolean {
    return labelsMatch(labels, o.metadata?.labels) && fieldsMatch(fields, def.fields(o))
  }

  /** The cacher's event conversion: selector-aware ADDED/MODIFIED/DELETED. */
  toWatchEvent(
    w: { def: ResourceDef; labels: LabelRequirement[]; fields: FieldRequirement[] },
    e: HistoryEntry
  ): { type: WatchEventType; object: KubeObject } | undefined {
    const cur = e.type !== 'DELETED' && this.objectMatches(w.def, w.labels, w.fields, e.object)
    const old = e.prev !== undefined && this.objectMatches(w.def, w.labels, w.fields, e.prev)
    if (cur && !old) return { type: 'ADDED', object: e.object }
    if (cur && old) return { type: 'MODIFIED', object: e.object }
    if (!cur && old) {
      const o = clone(e.prev!)
      o.metadata.resourceVersion = String(e.rv)
      return { type: 'DELETED', object: o }
    }
    return undefined
  }

  select(def: ResourceDef, namespace: string, labels: LabelRequirement[], fields: FieldRequirement[]): KubeObject[] {
    const out: KubeObject[] = []
    const prefix = `${def.resource}/${def.namespaced ? namespace : ''}/`
    for (const [k, o] of this.objects) {
      if (def.namespaced && namespace === '' ? !k.startsWith(`${def.resource}/`) : !k.startsWith(prefix)) continue
      if (this.objectMatches(def, labels, fields, o)) out.push(o)
    }
    // etcd returns keys in byte order: namespace, then name.
    const sortKey = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`
    return out.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0))
  }
}
