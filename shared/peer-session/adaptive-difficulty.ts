export interface AdaptiveDifficultyInit {
  /** Difficulty (leading zero bits) when quiet. @default 20 */
  base?: number
  /** Never ask for more than this. @default 28 */
  max?: number
  /** Handshakes per second considered normal; each doubling above adds a bit. @default 2 */
  normalRate?: number
  /** Window over which the handshake rate is measured, in ms. @default 10_000 */
  window?: number
  /**
   * Attempts one network address may add to the rate within a window: a
   * handful of machines must not be able to raise everyone's price.
   * @default 10
   */
  maxPerAddress?: number
  /** Clock, replaceable in tests. */
  now?: () => number
}

/** Most addresses tracked at once; the quietest are forgotten first. */
const MAX_SOURCES = 65_536
/** Attempts without an address (relayed, exempt) share one uncapped bucket. */
const UNKEYED = ''

/**
 * The difficulty a listener asks of dialers: the base when quiet, one more bit
 * for each doubling of the handshake rate above normal, and up to two more as
 * the node fills up; it falls back as the rate window slides. Capped. Only
 * handshakes that got as far as a valid Hello count, and each address counts
 * for at most its share.
 */
export class AdaptiveDifficulty {
  readonly base: number
  readonly max: number
  private readonly normalRate: number
  private readonly window: number
  private readonly maxPerAddress: number
  private readonly now: () => number
  /** Times of the newest attempts per address, oldest first. */
  private readonly sources = new Map<string, number[]>()
  private load = 0

  constructor (init: AdaptiveDifficultyInit = {}) {
    this.base = init.base ?? 20
    this.max = Math.max(init.max ?? 28, this.base)
    this.normalRate = init.normalRate ?? 2
    this.window = init.window ?? 10_000
    this.maxPerAddress = Math.max(init.maxPerAddress ?? 10, 1)
    this.now = init.now ?? Date.now
    if (!Number.isInteger(this.base) || this.base < 0 || this.max > 64) throw new RangeError('difficulty must be an integer in 0..64')
  }

  /** Counts one handshake attempt (that sent a valid Hello) from `address`. */
  recordAttempt (address?: string): void {
    const key = address ?? UNKEYED
    const times = this.sources.get(key) ?? []
    times.push(this.now())
    const cap = key === UNKEYED ? 100_000 : this.maxPerAddress
    // only the window's count matters, and never more than the address's share
    if (times.length > cap) times.splice(0, times.length - cap)
    // re-inserted: the map stays ordered by last attempt, quietest first
    this.sources.delete(key)
    this.sources.set(key, times)
    if (this.sources.size > MAX_SOURCES) {
      const quietest = this.sources.keys().next().value
      if (quietest != null) this.sources.delete(quietest)
    }
  }

  /** Fraction of capacity in use (sessions / max sessions), 0..1. */
  setLoad (load: number): void {
    this.load = Math.min(Math.max(load, 0), 1)
  }

  /** Counted handshake attempts per second over the window. */
  get rate (): number {
    const cutoff = this.now() - this.window
    let count = 0
    for (const [key, times] of this.sources) {
      let drop = 0
      while (drop < times.length && (times[drop] ?? 0) < cutoff) drop++
      if (drop > 0) times.splice(0, drop)
      if (times.length === 0) this.sources.delete(key)
      count += times.length
    }
    return count / (this.window / 1000)
  }

  get current (): number {
    const rate = this.rate
    const fromRate = rate > this.normalRate ? Math.ceil(Math.log2(rate / this.normalRate)) : 0
    const fromLoad = this.load >= 0.9 ? 2 : this.load >= 0.7 ? 1 : 0
    return Math.min(this.base + fromRate + fromLoad, this.max)
  }
}
