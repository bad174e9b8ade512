import { describe, expect, it } from 'vitest'
import { BanList } from './ban-list.ts'

describe('BanList', () => {
  it('bans until expiry and announces it', () => {
    let now = 1000
    const bans = new BanList({ duration: 500, now: () => now })
    const seen: string[] = []
    bans.addEventListener('peer:banned', (e) => { seen.push(e.detail.reason) })
    bans.ban('p', 'invalid proof')
    expect(bans.isBanned('p')).toBe(true)
    expect(bans.isBanned('q')).toBe(false)
    expect(seen).toEqual(['invalid proof'])
    now += 501
    expect(bans.isBanned('p')).toBe(false)
    expect(bans.list()).toEqual([])
  })

  it('stays bounded', () => {
    const bans = new BanList({ maxEntries: 3 })
    for (const p of ['a', 'b', 'c', 'd']) bans.ban(p, 'x')
    expect(bans.isBanned('a')).toBe(false)
    expect(bans.list().map(b => b.peer)).toEqual(['b', 'c', 'd'])
  })
})
