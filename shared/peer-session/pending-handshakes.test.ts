import { describe, expect, it } from 'vitest'
import { PendingHandshakes } from './pending-handshakes.ts'
import type { PendingHandshake } from './pending-handshakes.ts'

function entry (address: string | undefined, startedAt: number, overdueAt?: number): PendingHandshake {
  return { peer: `p${startedAt}-${address ?? ''}`, address, startedAt, overdueAt, controller: new AbortController() }
}

describe('PendingHandshakes', () => {
  it('gives up only overdue handshakes for a newcomer, the busiest address\'s first; with none overdue the newcomer waits', () => {
    const table = new PendingHandshakes({ max: 4, maxPerAddress: 3, helloGrace: 1_000 })
    // two solving in time from 10.0.0.1, one silent since t=0 from 10.0.0.2, one overdue solver from 10.0.0.3
    const solving = [entry('10.0.0.1', 0, 10_000), entry('10.0.0.1', 100, 10_000)]
    const silent = entry('10.0.0.2', 0)
    const late = entry('10.0.0.3', 0, 500)
    for (const e of [...solving, silent, late]) expect(table.admit(e, 200)).toMatchObject({ admitted: true })
    expect(table.size).toBe(4)
    // at t=600 only the solver past its time is overdue (the silent one has until t=1000)
    expect(table.admit(entry('10.0.0.9', 600), 600)).toEqual({ admitted: true, evicted: late })
    // at t=900 nothing is overdue: the newcomer is turned away, nobody in time is cut short
    expect(table.admit(entry('10.0.0.8', 900), 900)).toEqual({ admitted: false })
    // at t=1500 the silent one is
    expect(table.admit(entry('10.0.0.8', 1500), 1500)).toEqual({ admitted: true, evicted: silent })
    expect(table.size).toBe(4)
  })

  it('holds one address to its share: only its own overdue handshake makes room', () => {
    const table = new PendingHandshakes({ max: 100, maxPerAddress: 2, helloGrace: 1_000 })
    const first = entry('10.0.0.9', 0)
    table.admit(first, 0)
    table.admit(entry('10.0.0.9', 10, 60_000), 10)
    expect(table.admit(entry('10.0.0.9', 500), 500)).toEqual({ admitted: false })
    expect(table.admit(entry('10.0.0.9', 2_000), 2_000)).toEqual({ admitted: true, evicted: first })
    expect(table.countFor('10.0.0.9')).toBe(2)
    table.remove(first) // already gone: a no-op
    expect(table.size).toBe(2)
  })
})
