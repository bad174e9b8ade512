import { describe, expect, it } from 'vitest'
import { PendingHandshakes } from './pending-handshakes.ts'
import type { PendingHandshake } from './pending-handshakes.ts'

let clock = 0
function entry (address: string | undefined, peer = `p${clock}`): PendingHandshake {
  return { peer, address, startedAt: clock++, controller: new AbortController() }
}

describe('PendingHandshakes', () => {
  it('never refuses a newcomer: a full table gives up the oldest handshake of its busiest address', () => {
    const table = new PendingHandshakes({ max: 4, maxPerAddress: 3 })
    const a1 = entry('10.0.0.1')
    expect(table.add(a1)).toBeUndefined()
    table.add(entry('10.0.0.1'))
    const b1 = entry('10.0.0.2')
    table.add(b1)
    table.add(entry(undefined, 'relayed'))
    expect(table.size).toBe(4)
    // full: 10.0.0.1 holds the most, its oldest goes
    expect(table.add(entry('10.0.0.3'))).toBe(a1)
    expect(table.size).toBe(4)
    // ties go to the group whose oldest entry is oldest
    expect(table.add(entry('10.0.0.4'))?.address).toBe('10.0.0.1')
  })

  it('holds one address to its share: its own oldest makes room', () => {
    const table = new PendingHandshakes({ max: 100, maxPerAddress: 2 })
    const first = entry('10.0.0.9')
    table.add(first)
    table.add(entry('10.0.0.9'))
    expect(table.add(entry('10.0.0.9'))).toBe(first)
    expect(table.countFor('10.0.0.9')).toBe(2)
    table.remove(first) // already gone: a no-op
    expect(table.size).toBe(2)
  })
})
