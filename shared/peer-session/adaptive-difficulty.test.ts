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
