// A Job's pods as the reducer keeps them: an immutable table in the order the
// pods were first seen, where a new version shares all but one path with the
// old (a 32-way trie over each pod's slot), so that one pod event costs the
// same for a Job of 100 pods as for one of 10,000, and every snapshot handed
// out stays as it was. Each node counts its pods by class (phase, whether
// terminating, whether a timed rule may apply), so the verdict reads counts
// and the few pods it names without going over every pod.
import { STUCK_REASONS, type PodIndex, type PodInfo, type PodPhase, type Snapshot } from './model.js'

const PHASES: readonly PodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']
/** Classes 0-9: the phase, +5 when the pod is being deleted or gone before it finished. */
const TERMINATING = PHASES.length
const CLASSES = 2 * PHASES.length
/** The class bit of pods a timed rule may apply to (stuck, scaling up, held by a sidecar). */
export const WATCHED = 1 << CLASSES

/** The pod's phase class bit: what whether it reached a target phase depends on (decide/verdict.ts reached()). */
export function phaseClass(p: Pick<PodInfo, 'phase' | 'deletionTimestamp' | 'deleted'>): number {
  const i = Math.max(0, PHASES.indexOf(p.phase))
  const terminating = (p.deletionTimestamp !== undefined || p.deleted === true) && p.phase !== 'Succeeded' && p.phase !== 'Failed'
  return 1 << (i + (terminating ? TERMINATING : 0))
}

/** A representative pod of each phase class, for computing which classes a rule over pods counts. */
export const CLASS_PODS: readonly { bit: number; pod: Pick<PodInfo, 'phase' | 'deletionTimestamp' | 'deleted'> }[] = PHASES.flatMap(
  (phase, i) => [
    { bit: 1 << i, pod: { phase } },
    { bit: 1 << (i + TERMINATING), pod: { phase, deleted: true } }
  ]
)

/**
 * Whether a timed rule may apply: a superset of what decide/explain.ts
 * stuckSince, scalingUp and heldBySidecar accept, which the verdict narrows.
 */
function watched(p: PodInfo): boolean {
  if (p.deleted) return false
  if (p.unschedulable) return true
  if (p.phase === 'Succeeded' || p.phase === 'Failed') return false
  return p.containers.some((c) => (c.state === 'waiting' && STUCK_REASONS.has(c.reason ?? '')) || (!c.init && c.state === 'terminated'))
}

/** Every phase class. */
export const ALL_PHASES = WATCHED - 1

/** The class bits of a pod: its phase class, and WATCHED when a timed rule may apply. */
export const podBits = (p: PodInfo): number => phaseClass(p) | (watched(p) ? WATCHED : 0)
const bitsOf = podBits

/** Pods given as a list (a snapshot built by hand) counted the same way, by going over them. */
export function listIndex(pods: readonly PodInfo[]): PodIndex {
  const index: PodIndex = {
    size: pods.length,
    count: (classes) => pods.reduce((n, p) => (bitsOf(p) & classes ? n + 1 : n), 0),
    pick: (classes, limit = Infinity) => {
      const out: PodInfo[] = []
      for (const p of pods) {
        if (out.length >= limit) break
        if (bitsOf(p) & classes) out.push(p)
      }
      return out
    },
    changedSince: (older) => (older === index ? [] : pods)
  }
  return index
}

const indexes = new WeakMap<Snapshot, PodIndex>()
/** The reducer's counts of the snapshot's pods; a snapshot made by hand is counted once. */
export function podsOf(s: Snapshot): PodIndex {
  if (s.podIndex) return s.podIndex
  let index = indexes.get(s)
  if (!index) indexes.set(s, (index = listIndex(s.pods)))
  return index
}

/** The class bits of the pods of these phases that are not being deleted. */
export const phasesClasses = (...phases: PodPhase[]): number => phases.reduce((c, p) => c | (1 << PHASES.indexOf(p)), 0)

const SHIFT = 5
const WIDTH = 1 << SHIFT
const MASK = WIDTH - 1
const COUNTS = CLASSES + 1

interface Node {
  /** pods below, by class bit index */
  readonly counts: Int32Array
  /** Nodes above the leaves; pods at the leaves */
  readonly children: readonly (Node | PodInfo | undefined)[]
}

const EMPTY_NODE: Node = { counts: new Int32Array(COUNTS), children: [] }

function add(counts: Int32Array, bits: number, by: number): void {
  for (let i = 0; i < COUNTS; i++) if (bits & (1 << i)) counts[i] += by
}

function any(counts: Int32Array, classes: number): boolean {
  for (let i = 0; i < COUNTS; i++) if (classes & (1 << i) && counts[i] > 0) return true
  return false
}

/** uid → slot, shared by every version of a table: slots are only ever added, and a version sees the slots below its size. */
interface Slots {
  readonly of: Map<string, number>
}

export class PodTable implements ReadonlyMap<string, PodInfo>, PodIndex {
  static readonly EMPTY = new PodTable(EMPTY_NODE, 0, 0, { of: new Map() })

  /** Counts of copies made, for tests that show an event copies a path, not the table. */
  static copies = { nodes: 0, slotMaps: 0 }

  private constructor(
    private readonly root: Node,
    private readonly shift: number,
    readonly size: number,
    private readonly slots: Slots
  ) {}

  static of(pods: Iterable<PodInfo>): PodTable {
    let t = PodTable.EMPTY
    for (const p of pods) t = t.set(p.uid, p)
    return t
  }

  private slot(uid: string): number | undefined {
    const i = this.slots.of.get(uid)
    return i !== undefined && i < this.size ? i : undefined
  }

  get(uid: string): PodInfo | undefined {
    const i = this.slot(uid)
    if (i === undefined) return undefined
    let node = this.root
    for (let shift = this.shift; shift > 0; shift -= SHIFT) node = node.children[(i >>> shift) & MASK] as Node
    return node.children[i & MASK] as PodInfo
  }

  has(uid: string): boolean {
    return this.slot(uid) !== undefined
  }

  /** A new table with the pod set; this one is unchanged. */
  set(uid: string, pod: PodInfo): PodTable {
    let slot = this.slot(uid)
    let slots = this.slots
    let size = this.size
    if (slot === undefined) {
      // Another version grew from this one already: this one takes its own copy of the slots it sees.
      if (slots.of.size !== size) {
        PodTable.copies.slotMaps++
        slots = { of: new Map([...slots.of].filter(([, i]) => i < size)) }
      }
      slot = size++
      slots.of.set(uid, slot)
    }
    let root = this.root
    let shift = this.shift
    if (slot >>> shift >= WIDTH) {
      const counts = root.counts.slice()
      root = { counts, children: [root] }
      shift += SHIFT
    }
    const before = slot < this.size ? this.get(uid) : undefined
    const delta = { minus: before ? bitsOf(before) : 0, plus: bitsOf(pod) }
    return new PodTable(setIn(root, shift, slot, pod, delta), shift, size, slots)
  }

  /** How many pods are in any of these classes (bits of phaseClass, WATCHED). */
  count(classes: number): number {
    let n = 0
    for (let i = 0; i < COUNTS; i++) if (classes & (1 << i)) n += this.root.counts[i]
    return n
  }

  /** The first pods (in the order first seen) in any of these classes, at most limit of them; only their paths are read. */
  pick(classes: number, limit = Infinity): PodInfo[] {
    const out: PodInfo[] = []
    const walk = (node: Node, shift: number): void => {
      for (const child of node.children) {
        if (out.length >= limit) return
        if (!child) continue
        if (shift === 0) {
          if (bitsOf(child as PodInfo) & classes) out.push(child as PodInfo)
        } else if (any((child as Node).counts, classes)) walk(child as Node, shift - SHIFT)
      }
    }
    if (limit > 0 && any(this.root.counts, classes)) walk(this.root, this.shift)
    return out
  }

  /**
   * The pods set since older, when this table grew from it: only the paths
   * that differ are read (a pod that is the same object in the same place is
   * the same pod, unchanged). Every pod when older is none, or another table.
   */
  *changedSince(older: PodIndex | undefined): Generator<PodInfo> {
    if (older === this) return
    if (!(older instanceof PodTable) || older.shift > this.shift) {
      yield* this.values()
      return
    }
    // The table grew a level at a time, each new root holding the last one first.
    let old = older.root
    for (let shift = older.shift; shift < this.shift; shift += SHIFT) old = { counts: old.counts, children: [old] }
    function* walk(node: Node, before: Node | undefined, shift: number): Generator<PodInfo> {
      if (node === before) return
      for (let i = 0; i < node.children.length; i++) {
        const child = node.children[i]
        if (!child) continue
        const was = before?.children[i]
        if (shift === 0) {
          if (child !== was) yield child as PodInfo
        } else yield* walk(child as Node, was as Node | undefined, shift - SHIFT)
      }
    }
    yield* walk(this.root, old, this.shift)
  }

  *values(): MapIterator<PodInfo> {
    function* walk(node: Node, shift: number): Generator<PodInfo> {
      for (const child of node.children) {
        if (!child) continue
        if (shift === 0) yield child as PodInfo
        else yield* walk(child as Node, shift - SHIFT)
      }
    }
    yield* walk(this.root, this.shift)
  }

  *keys(): MapIterator<string> {
    for (const p of this.values()) yield p.uid
  }

  *entries(): MapIterator<[string, PodInfo]> {
    for (const p of this.values()) yield [p.uid, p]
  }

  [Symbol.iterator](): MapIterator<[string, PodInfo]> {
    return this.entries()
  }

  forEach(fn: (value: PodInfo, key: string, map: ReadonlyMap<string, PodInfo>) => void, thisArg?: unknown): void {
    for (const p of this.values()) fn.call(thisArg, p, p.uid, this)
  }
}

function setIn(node: Node, shift: number, slot: number, pod: PodInfo, delta: { minus: number; plus: number }): Node {
  PodTable.copies.nodes++
  const counts = node.counts.slice()
  add(counts, delta.minus, -1)
  add(counts, delta.plus, 1)
  const children = node.children.slice()
  const i = (slot >>> shift) & MASK
  children[i] = shift === 0 ? pod : setIn((children[i] as Node | undefined) ?? EMPTY_NODE, shift - SHIFT, slot, pod, delta)
  return { counts, children }
}
