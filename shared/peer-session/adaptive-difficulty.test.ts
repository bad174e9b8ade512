import { describe, expect, it } from 'vitest'
import { AdaptiveDifficulty } from './adaptive-difficulty.ts'

describe('AdaptiveDifficulty', () => {
  it('rises with the handshake rate, capped, and falls back when quiet', () => {
    let now = 0
    const d = new AdaptiveDifficulty({ base: 20, max: 24, normalRate: 2, window: 10_000, now: () => now })
    expect(d.current).toBe(20)
    for (let i = 0; i < 40; i++) d.recordAttempt() // 4/s: one doubling over normal
    expect(d.current).toBe(21)
    for (let i = 0; i < 120; i++) d.recordAttempt() // 16/s: three doublings
    expect(d.current).toBe(23)
    for (let i = 0; i < 10_000; i++) d.recordAttempt()
    expect(d.current).toBe(24)
    now += 10_001
    expect(d.rate).toBe(0)
    expect(d.current).toBe(20)
  })

  it('counts each address only up to its share, so a few machines cannot raise the price', () => {
    let now = 0
    const d = new AdaptiveDifficulty({ base: 22, max: 28, normalRate: 5, window: 10_000, maxPerAddress: 10, now: () => now })
    // three attackers at 100 attempts/s each: only 10 per window each count
    for (let i = 0; i < 1_000; i++) {
      for (const ip of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) d.recordAttempt(ip)
    }
    expect(d.rate).toBe(3)
    expect(d.current).toBe(22)
    // many distinct addresses (a real surge) still raise it
    for (let i = 0; i < 200; i++) d.recordAttempt(`10.0.${Math.floor(i / 250)}.${i % 250}`)
    expect(d.rate).toBeCloseTo(23)
    expect(d.current).toBe(25)
    // the window slides: an address's old attempts stop counting
    now += 10_001
    d.recordAttempt('127.0.0.2')
    expect(d.rate).toBeCloseTo(0.1)
    expect(d.current).toBe(22)
  })

  it('adds bits as the node fills up', () => {
    const d = new AdaptiveDifficulty({ base: 10 })
    d.setLoad(0.5)
    expect(d.current).toBe(10)
    d.setLoad(0.75)
    expect(d.current).toBe(11)
    d.setLoad(0.95)
    expect(d.current).toBe(12)
  })
})
