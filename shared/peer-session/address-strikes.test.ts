import { describe, expect, it } from 'vitest'
import { AddressStrikes } from './address-strikes.ts'

describe('AddressStrikes', () => {
  it('raises an address\'s price a bit per few strikes, bans only a flood, and forgets as the window slides', () => {
    let now = 0
    const strikes = new AddressStrikes({ ban: 50, perBit: 10, maxBits: 3, window: 60_000, now: () => now })
    for (let i = 0; i < 9; i++) expect(strikes.strike('10.0.0.1')).toBe(false)
    expect(strikes.penalty('10.0.0.1')).toBe(0)
    strikes.strike('10.0.0.1', 2)
    expect(strikes.penalty('10.0.0.1')).toBe(1)
    for (let i = 0; i < 30; i++) strikes.strike('10.0.0.1')
    expect(strikes.penalty('10.0.0.1')).toBe(3)
    expect(strikes.penalty('10.0.0.2')).toBe(0)
    expect(strikes.penalty(undefined)).toBe(0)
    now += 60_001
    expect(strikes.penalty('10.0.0.1')).toBe(0)
    let banned = false
    for (let i = 0; i < 51 && !banned; i++) banned = strikes.strike('10.0.0.1')
    expect(banned).toBe(true)
    // the count starts again after a ban
    expect(strikes.penalty('10.0.0.1')).toBe(0)
  })
})
