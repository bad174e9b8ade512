import { describe, expect, it } from 'vitest'
import { formProblems } from './task-form.ts'

describe('task form', () => {
  const ok = { kind: 'mandelbrot', size: 384, tile: 64, k: 1, primesTo: 10_000_000 } as const

  it('takes the defaults', () => {
    expect(formProblems(ok)).toEqual({})
    expect(formProblems({ ...ok, kind: 'primes' })).toEqual({})
  })

  it('puts one human message on each bad field, the page\'s names in it', () => {
    // the page's bug: an emptied Size field reached the job as null ("width must be a u32, got null")
    expect(formProblems({ ...ok, size: null })).toEqual({ size: 'Size is empty: enter a whole number from 16 to 4,096 px' })
    expect(formProblems({ ...ok, size: 99_999, tile: 0, k: 12 })).toEqual({
      size: 'Size must be a whole number from 16 to 4,096 px, not 99,999',
      tile: 'Tile must be a whole number from 8 to 512 px, not 0',
      k: 'Redundancy k must be a whole number from 1 to 9, not 12'
    })
    // fields of the other task do not count
    expect(formProblems({ ...ok, primesTo: null })).toEqual({})
    expect(formProblems({ ...ok, kind: 'primes', size: null, primesTo: null }).primesTo).toMatch(/^N is empty/)
  })
})
