import { describe, expect, it } from 'vitest'
import { HashRate } from './hash-rate.ts'

function memoryStorage (): Pick<Storage, 'getItem' | 'setItem'> & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => { data.set(k, v) } }
}

/** A solver that hashes at `slow` H/s for its first `warmMs`, then at `fast` H/s, reporting every 100 ms. */
function reports (slow: number, fast: number, warmMs: number, untilMs: number): Array<{ hashes: number, elapsedMs: number }> {
  const out = []
  let hashes = 0
  for (let t = 100; t <= untilMs; t += 100) {
    hashes += (t <= warmMs ? slow : fast) / 10
    out.push({ hashes, elapsedMs: t })
  }
  return out
}

describe('HashRate', () => {
  it('follows the rate after warm-up, where an average from the start lags far behind', () => {
    const rate = new HashRate(memoryStorage())
    rate.begin()
    // the first half second runs at a tenth of the speed, as a waking pool does
    const samples = reports(2e6, 20e6, 500, 1_500)
    for (const s of samples) rate.sample(s)
    const last = samples[samples.length - 1]!
    const fromStart = last.hashes / (last.elapsedMs / 1000)
    // 22 bits: about 0.2 s at 20 MH/s
    expect(rate.expectedMs(22)).toBeLessThan(2 ** 22 / 18e6 * 1000)
    expect(rate.expectedMs(22)).toBeGreaterThan(2 ** 22 / 22e6 * 1000)
    expect(2 ** 22 / fromStart * 1000).toBeGreaterThan(rate.expectedMs(22) * 1.3)
  })

  it('remembers the steady rate for the next solve, even one reloaded into a new page', () => {
    const storage = memoryStorage()
    const first = new HashRate(storage)
    expect(first.rate).toBe(0)
    expect(first.expectedMs(22)).toBe(0)
    first.begin()
    for (const s of reports(20e6, 20e6, 0, 500)) first.sample(s)
    first.end()
    const next = new HashRate(storage)
    expect(next.rate).toBeCloseTo(20e6, -5)
    // the slow start of the next solve does not drag the estimate down
    next.begin()
    next.sample({ hashes: 1e5, elapsedMs: 100 })
    expect(next.rate).toBeCloseTo(20e6, -5)
    next.sample({ hashes: 2.1e6, elapsedMs: 200 })
    expect(next.rate).toBeCloseTo(20e6, -5)
  })

  it('ignores windows too short or empty to mean anything, and storage that throws', () => {
    const rate = new HashRate({ getItem: () => { throw new Error('blocked') }, setItem: () => { throw new Error('full') } })
    rate.begin()
    rate.sample({ hashes: 1e6, elapsedMs: 100 })
    expect(rate.rate).toBe(0)
    rate.sample({ hashes: 1e6 + 10, elapsedMs: 101 })
    expect(rate.rate).toBe(0)
    rate.sample({ hashes: 3e6, elapsedMs: 200 })
    expect(rate.rate).toBe(2e7)
    rate.sample({ hashes: 3e6, elapsedMs: 300 })
    expect(rate.rate).toBe(2e7)
    expect(() => { rate.end() }).not.toThrow()
  })
})
