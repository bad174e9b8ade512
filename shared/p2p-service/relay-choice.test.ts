import { describe, expect, it } from 'vitest'
import { planRelays } from './relay-choice.ts'
import type { RelaySlot } from './relay-choice.ts'

const init = { maxRelays: 2, overloaded: 0.9 }
const slot = (key: string, rank: number, extra: Partial<RelaySlot> = {}): RelaySlot => ({ key, rank, active: true, healthy: true, ...extra })

describe('planRelays', () => {
  it('fills empty slots with the best candidates', () => {
    expect(planRelays([slot('a', 10)], [{ key: 'b', rank: 50 }, { key: 'c', rank: 20 }, { key: 'a', rank: 10 }], init)).toEqual({ activate: ['c'], deactivate: [] })
  })

  it('replaces a relay that is down without giving up on it until enough others run', () => {
    const slots = [slot('a', 10), slot('b', 20, { healthy: false })]
    expect(planRelays(slots, [{ key: 'c', rank: 30 }], init)).toEqual({ activate: ['c'], deactivate: [] })
    // once the replacement runs, the dead one is let go
    expect(planRelays([...slots, slot('c', 30)], [], init)).toEqual({ activate: [], deactivate: ['b'] })
  })

  it('moves away from an overloaded relay once an alternative runs', () => {
    const slots = [slot('a', 10), slot('b', 5, { load: 0.95 })]
    expect(planRelays(slots, [{ key: 'c', rank: 40, load: 0.2 }, { key: 'd', rank: 1, load: 0.99 }], init)).toEqual({ activate: ['c'], deactivate: [] })
    expect(planRelays([...slots, slot('c', 40, { load: 0.2 })], [], init)).toEqual({ activate: [], deactivate: ['b'] })
  })

  it('keeps the best when there are too many, and stays put when nothing better is known', () => {
    expect(planRelays([slot('a', 30), slot('b', 10), slot('c', 20)], [], init)).toEqual({ activate: [], deactivate: ['a'] })
    expect(planRelays([slot('a', 10), slot('b', 20)], [{ key: 'c', rank: 1 }], init)).toEqual({ activate: [], deactivate: [] })
  })

  it('keeps trying everything when nothing is healthy', () => {
    const slots = [slot('a', 10, { healthy: false }), slot('b', 20, { healthy: false })]
    expect(planRelays(slots, [{ key: 'c', rank: 5 }, { key: 'd', rank: 6 }, { key: 'e', rank: 7 }], init)).toEqual({ activate: ['c', 'd'], deactivate: [] })
  })
})
