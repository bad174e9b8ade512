import { describe, expect, it } from 'vitest'
import { Backoff } from './backoff.ts'

describe('Backoff', () => {
  it('grows by the factor up to the cap, without jitter', () => {
    const b = new Backoff({ initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0 })
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000])
    expect(b.attempts).toBe(6)
  })

  it('reset starts over', () => {
    const b = new Backoff({ initialDelay: 100, jitter: 0 })
    b.next(); b.next()
    b.reset()
    expect(b.next()).toBe(100)
  })

  it('jitter spreads delays below the base, never above', () => {
    const low = new Backoff({ initialDelay: 1000, jitter: 0.5, random: () => 1 })
    const high = new Backoff({ initialDelay: 1000, jitter: 0.5, random: () => 0 })
    expect(low.next()).toBe(500)
    expect(high.next()).toBe(1000)
    const real = new Backoff({ initialDelay: 1000, maxDelay: 1000, jitter: 0.3 })
    const samples = Array.from({ length: 200 }, () => real.next())
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(700)
    expect(Math.max(...samples)).toBeLessThanOrEqual(1000)
    expect(new Set(samples).size).toBeGreaterThan(20)
  })

  it('refuses nonsense settings', () => {
    expect(() => new Backoff({ initialDelay: 0 })).toThrow(RangeError)
    expect(() => new Backoff({ initialDelay: 10, maxDelay: 5 })).toThrow(RangeError)
    expect(() => new Backoff({ factor: 0.5 })).toThrow(RangeError)
  })
})
