export interface AddressStrikesInit {
  /** Strikes within the window that ban the address. @default 200 */
  ban?: number
  /** Strikes within the window per extra bit of difficulty asked of the address. @default 10 */
  perBit?: number
  /** Most extra bits. @default 6 */
  maxBits?: number
  /** ms. @default 60_000 */
  window?: number
  now?: () => number
}

/** Addresses tracked at once; the quietest go first. */
const MAX_ADDRESSES = 10_000

/**
 * Refusals counted per network address over a sliding window. Many people
 * can share an address (an office, a carrier NAT), so the answer is
 * graduated: each few strikes add a bit to the difficulty that address is
 * asked (honest neighbours can still pay their way in), and only a flood of
 * them bans it.
 */
export class AddressStrikes {
  private readonly ban: number
  private readonly perBit: number
  private readonly maxBits: number
  private readonly window: number
  private readonly now: () => number
  private readonly times = new Map<string, number[]>()

  constructor (init: AddressStrikesInit = {}) {
    this.ban = init.ban ?? 200
    this.perBit = Math.max(init.perBit ?? 10, 1)
    this.maxBits = init.maxBits ?? 6
    this.window = init.window ?? 60_000
    this.now = init.now ?? Date.now
  }

  /** Counts `points` strikes; true when the address has now earned a ban (its count starts again). */
  strike (address: string, points = 1): boolean {
    const list = this.recent(address)
    const now = this.now()
    for (let i = 0; i < points; i++) list.push(now)
    // re-inserted: the map stays ordered by last strike, quietest first
    this.times.delete(address)
    if (list.length > this.ban) return true
    this.times.set(address, list)
    if (this.times.size > MAX_ADDRESSES) this.times.delete(this.times.keys().next().value as string)
    return false
  }

  /** Extra difficulty bits for `address` now. */
  penalty (address: string | undefined): number {
    if (address == null) return 0
    return Math.min(this.maxBits, Math.floor(this.recent(address).length / this.perBit))
  }

  private recent (address: string): number[] {
    const list = this.times.get(address) ?? []
    const cutoff = this.now() - this.window
    let drop = 0
    while (drop < list.length && (list[drop] ?? 0) < cutoff) drop++
    if (drop > 0) list.splice(0, drop)
    return list
  }
}
