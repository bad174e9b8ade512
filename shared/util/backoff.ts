export interface BackoffInit {
  /** First delay in ms. @default 500 */
  initialDelay?: number
  /** Upper bound for any delay in ms. @default 30_000 */
  maxDelay?: number
  /** Growth per failed attempt. @default 2 */
  factor?: number
  /** Fraction of each delay randomised (0..1) so peers don't retry in lockstep. @default 0.3 */
  jitter?: number
  /** Source of randomness, replaceable in tests. @default Math.random */
  random?: () => number
}

/**
 * Exponential backoff with jitter. `next()` returns the delay before the next
 * attempt; `reset()` after a success.
 */
export class Backoff {
  readonly initialDelay: number
  readonly maxDelay: number
  readonly factor: number
  readonly jitter: number
  private readonly random: () => number
  private attempt = 0

  constructor (init: BackoffInit = {}) {
    this.initialDelay = init.initialDelay ?? 500
    this.maxDelay = init.maxDelay ?? 30_000
    this.factor = init.factor ?? 2
    this.jitter = Math.min(Math.max(init.jitter ?? 0.3, 0), 1)
    this.random = init.random ?? Math.random
    if (!(this.initialDelay > 0) || !(this.maxDelay >= this.initialDelay) || !(this.factor >= 1)) {
      throw new RangeError('Backoff needs 0 < initialDelay <= maxDelay and factor >= 1')
    }
  }

  get attempts (): number {
    return this.attempt
  }

  next (): number {
    const base = Math.min(this.initialDelay * this.factor ** this.attempt, this.maxDelay)
    this.attempt++
    // spread delays over [base * (1 - jitter), base]
    const delay = base * (1 - this.jitter * this.random())
    return Math.round(delay)
  }

  reset (): void {
    this.attempt = 0
  }
}
