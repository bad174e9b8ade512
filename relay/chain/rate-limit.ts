export interface RateLimitInit {
  /** Tokens added per second. */
  perSecond: number
  /** The most a key may save up (and spend at once). */
  burst: number
  /** Keys remembered; beyond, the longest idle are forgotten (they would be full again). @default 10000 */
  maxKeys?: number
}

/** A token bucket per key (a client's network address): `take` spends, or says how long to wait. */
export class RateLimit {
  private readonly init: RateLimitInit
  private readonly buckets = new Map<string, { tokens: number, at: number }>()

  constructor (init: RateLimitInit) {
    this.init = init
  }

  /** Spends `cost` from `key`'s bucket; 0 when allowed, else the ms until it would be (nothing is spent then). */
  take (key: string, cost = 1, now = Date.now()): number {
    const { perSecond, burst } = this.init
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now }
    this.buckets.delete(key)
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perSecond / 1000)
    bucket.at = now
    this.buckets.set(key, bucket)
    this.trim()
    if (cost > bucket.tokens) return Math.ceil((Math.min(cost, burst) - bucket.tokens) * 1000 / perSecond)
    bucket.tokens -= cost
    return 0
  }

  private trim (): void {
    const max = this.init.maxKeys ?? 10_000
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= max) return
      this.buckets.delete(key)
    }
  }
}
