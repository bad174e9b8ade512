export interface PendingHandshakesInit {
  /** Most inbound handshakes in progress. @default 32 */
  max?: number
  /** Most from one network address (see AddressKeys). @default 8 */
  maxPerAddress?: number
  /** A dialer that has not said Hello this long after opening its stream is overdue, ms. @default 1_000 */
  helloGrace?: number
}

/** One inbound handshake waiting for its Hello or its solution. */
export interface PendingHandshake {
  peer: string
  /** The remote's address key; undefined when it has none (relayed, exempt). */
  address?: string
  startedAt: number
  /** Set once the challenge is out: from then on the handshake is overdue. */
  overdueAt?: number
  /** Aborted with the reason when the handshake is evicted. */
  controller: AbortController
}

export type Admission = { admitted: true, evicted?: PendingHandshake } | { admitted: false }

/**
 * Inbound handshakes in progress. A full table (or an address at its share)
 * makes room by giving up a handshake that is overdue — no Hello within a
 * second, or no solution within a few mean solve times of a modest solver —
 * from the address holding the most; a stranger holding slots without
 * solving loses them soon. Handshakes still in time are never cut short: if
 * none is overdue, the newcomer is turned away to come back later (a
 * reconnecting crowd after a restart is paced, not churned).
 */
export class PendingHandshakes {
  private max: number
  private maxPerAddress: number
  private readonly helloGrace: number
  private readonly byGroup = new Map<string, PendingHandshake[]>()
  private count = 0

  constructor (init: PendingHandshakesInit = {}) {
    this.max = Math.max(init.max ?? 32, 1)
    this.maxPerAddress = Math.max(init.maxPerAddress ?? 8, 1)
    this.helloGrace = init.helloGrace ?? 1_000
  }

  get size (): number {
    return this.count
  }

  /** New caps for handshakes admitted from now on; those in progress finish. */
  setLimits (limits: Pick<PendingHandshakesInit, 'max' | 'maxPerAddress'>): void {
    this.max = Math.max(limits.max ?? this.max, 1)
    this.maxPerAddress = Math.max(limits.maxPerAddress ?? this.maxPerAddress, 1)
  }

  countFor (address: string): number {
    return this.byGroup.get(address)?.length ?? 0
  }

  /** Takes a new handshake in, giving up an overdue one if there is no room; the caller aborts the one evicted. */
  admit (entry: PendingHandshake, now = Date.now()): Admission {
    let evicted: PendingHandshake | undefined
    if (entry.address != null && this.countFor(entry.address) >= this.maxPerAddress) {
      evicted = this.overdue(this.byGroup.get(entry.address) ?? [], now)
      if (evicted == null) return { admitted: false }
    } else if (this.count >= this.max) {
      evicted = this.mostOverdue(now)
      if (evicted == null) return { admitted: false }
    }
    if (evicted != null) this.remove(evicted)
    const group = groupOf(entry)
    const list = this.byGroup.get(group) ?? []
    list.push(entry)
    this.byGroup.set(group, list)
    this.count++
    return { admitted: true, evicted }
  }

  remove (entry: PendingHandshake): void {
    const group = groupOf(entry)
    const list = this.byGroup.get(group)
    if (list == null || !list.includes(entry)) return
    const rest = list.filter(e => e !== entry)
    if (rest.length === 0) this.byGroup.delete(group)
    else this.byGroup.set(group, rest)
    this.count--
  }

  /** How late an entry is (ms past its grace), or negative while it is in time. */
  private lateness (e: PendingHandshake, now: number): number {
    return e.overdueAt == null ? now - e.startedAt - this.helloGrace : now - e.overdueAt
  }

  /** The latest overdue entry of `list`, if any. */
  private overdue (list: PendingHandshake[], now: number): PendingHandshake | undefined {
    let best: PendingHandshake | undefined
    for (const e of list) {
      if (this.lateness(e, now) >= 0 && (best == null || this.lateness(e, now) > this.lateness(best, now))) best = e
    }
    return best
  }

  /** An overdue entry of the group holding the most (the latest one there). */
  private mostOverdue (now: number): PendingHandshake | undefined {
    const groups = [...this.byGroup.values()].sort((a, b) => b.length - a.length)
    for (const list of groups) {
      const e = this.overdue(list, now)
      if (e != null) return e
    }
    return undefined
  }
}

function groupOf (entry: PendingHandshake): string {
  return entry.address ?? `peer:${entry.peer}`
}
