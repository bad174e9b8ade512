import { TypedEventEmitter } from 'main-event'

export interface BanListInit {
  /** How long a ban lasts, in ms. @default 600_000 (10 min) */
  duration?: number
  /** Most bans remembered; the oldest go first. @default 10_000 */
  maxEntries?: number
  now?: () => number
}

export interface Ban {
  peer: string
  reason: string
  until: number
}

export interface BanListEvents {
  'peer:banned': CustomEvent<Ban>
}

/**
 * Peers refused for a while after sending invalid proofs, garbage or
 * exceeding limits. Shared by the connection gater (refuses their
 * connections) and the session layer (which adds to it).
 */
export class BanList extends TypedEventEmitter<BanListEvents> {
  private readonly bans = new Map<string, Ban>()
  private readonly duration: number
  private readonly maxEntries: number
  private readonly now: () => number

  constructor (init: BanListInit = {}) {
    super()
    this.duration = init.duration ?? 600_000
    this.maxEntries = init.maxEntries ?? 10_000
    this.now = init.now ?? Date.now
  }

  ban (peer: string, reason: string, duration = this.duration): Ban {
    const ban = { peer, reason, until: this.now() + duration }
    this.bans.delete(peer)
    this.bans.set(peer, ban)
    if (this.bans.size > this.maxEntries) {
      const oldest = this.bans.keys().next().value
      if (oldest != null) this.bans.delete(oldest)
    }
    this.safeDispatchEvent('peer:banned', { detail: ban })
    return ban
  }

  isBanned (peer: string): boolean {
    const ban = this.bans.get(peer)
    if (ban == null) return false
    if (ban.until > this.now()) return true
    this.bans.delete(peer)
    return false
  }

  unban (peer: string): void {
    this.bans.delete(peer)
  }

  list (): Ban[] {
    return [...this.bans.values()].filter(b => this.isBanned(b.peer))
  }
}
