export interface PendingHandshakesInit {
  /** Most inbound handshakes in progress. @default 32 */
  max?: number
  /** Most from one network address (see AddressKeys). @default 8 */
  maxPerAddress?: number
}

/** One inbound handshake waiting for its Hello or its solution. */
export interface PendingHandshake {
  peer: string
  /** The remote's address key; undefined when it has none (relayed, exempt). */
  address?: string
  startedAt: number
  /** Aborted with the reason when the handshake is evicted. */
  controller: AbortController
}

/**
 * Inbound handshakes in progress. A full table never locks newcomers out:
 * the oldest handshake of the busiest address makes room (a stranger
 * holding slots without solving loses them, an honest dialer solves in
 * well under a second and is rarely the oldest), and one address never
 * holds more than its share.
 */
export class PendingHandshakes {
  private readonly max: number
  private readonly maxPerAddress: number
  private readonly entries = new Set<PendingHandshake>()
  private readonly byGroup = new Map<string, PendingHandshake[]>()

  constructor (init: PendingHandshakesInit = {}) {
    this.max = Math.max(init.max ?? 32, 1)
    this.maxPerAddress = Math.max(init.maxPerAddress ?? 8, 1)
  }

  get size (): number {
    return this.entries.size
  }

  countFor (address: string): number {
    return this.byGroup.get(address)?.length ?? 0
  }

  /**
   * Takes a new handshake in; returns the one it displaced, if any (the
   * caller aborts it). Handshakes without an address are grouped by peer.
   */
  add (entry: PendingHandshake): PendingHandshake | undefined {
    const group = groupOf(entry)
    let victim: PendingHandshake | undefined
    if (entry.address != null && this.countFor(entry.address) >= this.maxPerAddress) {
      victim = this.byGroup.get(group)?.[0]
    } else if (this.entries.size >= this.max) {
      victim = this.busiest()?.[0]
    }
    if (victim != null) this.remove(victim)
    this.entries.add(entry)
    const list = this.byGroup.get(group) ?? []
    list.push(entry)
    this.byGroup.set(group, list)
    return victim
  }

  remove (entry: PendingHandshake): void {
    if (!this.entries.delete(entry)) return
    const group = groupOf(entry)
    const list = (this.byGroup.get(group) ?? []).filter(e => e !== entry)
    if (list.length === 0) this.byGroup.delete(group)
    else this.byGroup.set(group, list)
  }

  private busiest (): PendingHandshake[] | undefined {
    let best: PendingHandshake[] | undefined
    for (const list of this.byGroup.values()) {
      const first = list[0]
      if (first == null) continue
      // ties go to the group whose oldest entry is oldest
      if (best == null || list.length > best.length || (list.length === best.length && first.startedAt < (best[0]?.startedAt ?? Infinity))) best = list
    }
    return best
  }
}

function groupOf (entry: PendingHandshake): string {
  return entry.address ?? `peer:${entry.peer}`
}
