import { RateLimiter } from '@libp2p/utils'
import { AddressStrikes } from './address-strikes.ts'
import type { RefusalCounters } from './refusals.ts'

export interface RateLimit {
  /** Streams allowed per `duration`. */
  points: number
  /** Window in seconds. */
  duration: number
}

export interface SessionGateInit {
  /** Streams per peer across all gated protocols. @default 100 per second */
  perPeer?: RateLimit
  /** Tighter limits for single protocols, per peer. */
  perProtocol?: Record<string, RateLimit>
  /** Refusals that earn a peer a ban within `strikeWindow`. @default 20 */
  strikes?: number
  /** @default 60 (seconds) */
  strikeWindow?: number
  /**
   * Refusals from one network address (all its peer IDs together) within
   * `strikeWindow` that get the address banned; peer IDs are free,
   * addresses are not. Fewer strikes already raise the difficulty that
   * address is asked (see AddressStrikes). @default 200
   */
  addressStrikes?: number
  /** Strikes of an address per extra bit of difficulty it is asked. @default 10 */
  strikesPerBit?: number
}

/** What a peer's ban adds to its address's strikes. */
const BAN_STRIKES = 2

/**
 * Per-peer and per-protocol stream rate limits, and strike counting: a peer
 * that keeps getting refused is handed to the ban list.
 */
export class SessionGate {
  private readonly perPeer: RateLimiter
  private readonly perProtocol = new Map<string, RateLimiter>()
  private readonly strikes: RateLimiter
  private readonly addressStrikes: AddressStrikes

  constructor (
    init: SessionGateInit,
    private readonly counters: RefusalCounters,
    private readonly onBan: (peer: string, reason: string) => void,
    private readonly onBanAddress: (address: string, reason: string) => void = () => {}
  ) {
    const perPeer = init.perPeer ?? { points: 100, duration: 1 }
    this.perPeer = new RateLimiter({ points: perPeer.points, duration: perPeer.duration, keyPrefix: 'peer' })
    for (const [protocol, limit] of Object.entries(init.perProtocol ?? {})) {
      this.perProtocol.set(protocol, new RateLimiter({ points: limit.points, duration: limit.duration, keyPrefix: protocol }))
    }
    this.strikes = new RateLimiter({ points: init.strikes ?? 20, duration: init.strikeWindow ?? 60, keyPrefix: 'strike' })
    this.addressStrikes = new AddressStrikes({ ban: init.addressStrikes, perBit: init.strikesPerBit, window: (init.strikeWindow ?? 60) * 1000 })
  }

  /** True if `peer` may open another `protocol` stream now. */
  allow (peer: string, protocol: string, address?: string): boolean {
    let limit = 'streams per peer'
    try {
      this.perPeer.consume(peer)
      limit = protocol
      this.perProtocol.get(protocol)?.consume(peer)
      return true
    } catch {
      this.counters.add('rate-limited')
      this.strike(peer, `rate limits exceeded (${limit})`, address)
      return false
    }
  }

  /** Counts one refusal against `peer` and its address; too many in the window bans them. */
  strike (peer: string, reason: string, address?: string): void {
    this.strikeAddress(address, reason)
    try {
      this.strikes.consume(peer)
    } catch {
      this.strikes.delete(peer)
      this.onBan(peer, reason)
    }
  }

  /** A banned peer weighs on its address: many banned IDs from one place ban the place. */
  banned (address: string | undefined, reason: string): void {
    this.strikeAddress(address, reason, BAN_STRIKES)
  }

  /** Extra difficulty bits asked of `address`, for its recent refusals. */
  penalty (address: string | undefined): number {
    return this.addressStrikes.penalty(address)
  }

  private strikeAddress (address: string | undefined, reason: string, points = 1): void {
    if (address != null && this.addressStrikes.strike(address, points)) this.onBanAddress(address, reason)
  }
}
