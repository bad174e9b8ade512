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
   * Attempts one source (a network, see AddressKeys.wideKeyOf) may add to
   * the rate within a window: a handful of machines must not be able to
   * raise everyone's price. @default 10
   */
  maxPerAddress?: number
  /** Clock, replaceable in tests. */
  now?: () => number
}

/** Attempts counted at once at most; past it the rate is far beyond any cap anyway. */
const MAX_COUNTED = 100_000

/**
 * The difficulty a listener asks of dialers: the base when quiet, one more bit
 * for each doubling of the handshake rate above normal, and up to two more as
 * the node fills up; it falls back as the rate window slides. Capped. Only
 * handshakes that got as far as a valid Hello count, and each source counts
 * for at most its share. Every operation is amortised O(1): the price is
 * asked on every handshake.
 */
export class AdaptiveDifficulty {
  base: number
  max: number
  private readonly normalRate: number
  private readonly window: number
  private readonly maxPerAddress: number
  private readonly now: () => number
  /** Counted attempts per source within the window. */
  private readonly perSource = new Map<string, number>()
  /** Counted attempts, oldest first: [time, source]. */
  private readonly counted: Array<[number, string]> = []
  private head = 0
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

  /**
   * Counts one handshake attempt (that sent a valid Hello) from `source`;
   * attempts without one each count (relayed links are paced by their relay).
   */
  recordAttempt (source?: string): void {
    const now = this.now()
    this.prune(now)
    if (this.counted.length - this.head >= MAX_COUNTED) return
    if (source != null) {
      const n = this.perSource.get(source) ?? 0
      // its share is full: this one waits for an older one to leave the window
      if (n >= this.maxPerAddress) return
      this.perSource.set(source, n + 1)
    }
    this.counted.push([now, source ?? ''])
  }

  /** A new base and cap, for the next price asked. */
  setRange (range: { base: number, max: number }): void {
    if (!Number.isInteger(range.base) || range.base < 0 || range.max > 64) throw new RangeError('difficulty must be an integer in 0..64')
    this.base = range.base
    this.max = Math.max(range.max, range.base)
  }

  /** Fraction of capacity in use (sessions / max sessions), 0..1. */
  setLoad (load: number): void {
    this.load = Math.min(Math.max(load, 0), 1)
  }

  /** Counted handshake attempts per second over the window. */
  get rate (): number {
    this.prune(this.now())
    return (this.counted.length - this.head) / (this.window / 1000)
  }

  get current (): number {
    const rate = this.rate
    const fromRate = rate > this.normalRate ? Math.ceil(Math.log2(rate / this.normalRate)) : 0
    const fromLoad = this.load >= 0.9 ? 2 : this.load >= 0.7 ? 1 : 0
    return Math.min(this.base + fromRate + fromLoad, this.max)
  }

  private prune (now: number): void {
    const cutoff = now - this.window
    while (this.head < this.counted.length && (this.counted[this.head]?.[0] ?? 0) < cutoff) {
      const source = (this.counted[this.head] as [number, string])[1]
      this.head++
      if (source === '') continue
      const n = (this.perSource.get(source) ?? 1) - 1
      if (n <= 0) this.perSource.delete(source)
      else this.perSource.set(source, n)
    }
    // drop what was read once it is most of the array
    if (this.head > 1024 && this.head * 2 > this.counted.length) {
      this.counted.splice(0, this.head)
      this.head = 0
    }
  }
}
