import { describe, expect, it } from 'vitest'
import { memorySink } from './sources.ts'

describe('memory sink', () => {
  it('allocates when the first bytes arrive, not when it is made', async () => {
    // a terabyte: made eagerly this would throw (or take the machine's memory)
    expect(() => memorySink(2 ** 40)).not.toThrow()
    const sink = memorySink(8)
    expect(sink.bytes()).toHaveLength(0)
    sink.region?.(0, 4).set([1, 2, 3, 4])
    await sink.write(0, sink.region?.(0, 4) ?? new Uint8Array(0))
    await sink.write(4, new Uint8Array([5, 6, 7, 8]))
    expect([...sink.bytes()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })
})
