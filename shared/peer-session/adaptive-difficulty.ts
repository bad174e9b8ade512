export interface AdaptiveDifficultyInit {
  /** Difficulty (leading zero bits) when quiet. @default 20 */
  base?: number
  /** Never ask for more than this. @default 28 */
  max?: number
  /** Handshakes per second considered normal; each doubling above adds a bit. @default 2 */
  normalRate?: number
  /** Window over which the handshake rate is measured, in ms. @default 10_000 */
  window?: number
  /** Clock, replaceable in tests. */
  now?: () => number
}

/**
 * The difficulty a listener asks of dialers: the base when quiet, one more bit
 * for each doubling of the handshake rate above normal, and up to two more as
 * the node fills up; it falls back as the rate window slides. Capped.
 */
export class AdaptiveDifficulty {
  readonly base: number
  readonly max: number
  private readonly normalRate: number
  private readonly window: number
  private readonly now: () => number
  private readonly attempts: number[] = []
  private load = 0

  constructor (init: AdaptiveDifficultyInit = {}) {
    this.base = init.base ?? 20
    this.max = Math.max(init.max ?? 28, this.base)
    this.normalRate = init.normalRate ?? 2
    this.window = init.window ?? 10_000
    this.now = init.now ?? Date.now
    if (!Number.isInteger(this.base) || this.base < 0 || this.max > 64) throw new RangeError('difficulty must be an integer in 0..64')
  }

  /** Counts one handshake attempt (honest or not) toward the rate. */
  recordAttempt (): void {
    this.attempts.push(this.now())
    this.prune()
    // bound memory under a flood: the rate only needs the window's count
    if (this.attempts.length > 100_000) this.attempts.splice(0, this.attempts.length - 100_000)
  }

  /** Fraction of capacity in use (sessions / max sessions), 0..1. */
  setLoad (load: number): void {
    this.load = Math.min(Math.max(load, 0), 1)
  }

  /** Handshake attempts per second over the window. */
  get rate (): number {
    this.prune()
    return this.attempts.length / (this.window / 1000)
  }

  get current (): number {
    const rate = this.rate
    const fromRate = rate > this.normalRate ? Math.ceil(Math.log2(rate / this.normalRate)) : 0
    const fromLoad = this.load >= 0.9 ? 2 : this.load >= 0.7 ? 1 : 0
    return Math.min(this.base + fromRate + fromLoad, this.max)
  }

  private prune (): void {
    const cutoff = this.now() - this.window
    let drop = 0
    while (drop < this.attempts.length && (this.attempts[drop] ?? 0) < cutoff) drop++
    if (drop > 0) this.attempts.splice(0, drop)
  }
}
