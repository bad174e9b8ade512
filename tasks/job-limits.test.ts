import { describe, expect, it } from 'vitest'
import { mandelbrotJob, primesJob } from './demo-jobs.ts'
import { InvalidJobError, mandelbrotProblems, primesProblems } from './job-limits.ts'

describe('demo job limits', () => {
  it('names every bad Mandelbrot field in words, with the caller\'s labels', () => {
    expect(mandelbrotProblems({ width: 384, height: 384, tile: 64, maxIter: 256 })).toEqual([])
    // an emptied number input reads as null in the page, a typo as NaN on the CLI
    const problems = mandelbrotProblems({ width: null, height: Number('abc'), tile: 3.5, maxIter: 0 }, { width: 'Size' })
    expect(problems.map(p => p.field)).toEqual(['width', 'height', 'tile', 'maxIter'])
    expect(problems[0]?.message).toBe('Size is empty: enter a whole number from 16 to 4,096 px')
    expect(problems[2]?.message).toBe('Tile must be a whole number from 8 to 512 px, not 3.5')
    expect(mandelbrotProblems({ width: 99_999, height: 99_999 })[0]?.message).toContain('from 16 to 4,096 px, not 99,999')
  })

  it('refuses a split into too many subtasks', () => {
    const [p] = mandelbrotProblems({ width: 4096, height: 4096, tile: 8 })
    expect(p).toMatchObject({ field: 'tile' })
    expect(p?.message).toContain('262,144 subtasks')
  })

  it('checks prime ranges and their split', () => {
    expect(primesProblems({ to: 10_000_000, parts: 20 })).toEqual([])
    expect(primesProblems({ to: '' }).map(p => p.message)).toEqual(['N is empty: enter a whole number from 1 to 281,474,976,710,656'])
    expect(primesProblems({ from: 10, to: 5 })).toEqual([{ field: 'from', message: 'From must not be above N' }])
    expect(primesProblems({ to: 100, parts: 0 })[0]?.field).toBe('parts')
  })

  it('the job builders throw InvalidJobError before allocating the picture', () => {
    // 99999² RGBA would be 40 GB: the check must come first
    let thrown: unknown
    try { mandelbrotJob({ width: 99_999, height: 99_999 }) } catch (err) { thrown = err }
    expect(thrown).toBeInstanceOf(InvalidJobError)
    expect((thrown as InvalidJobError).problems.map(p => p.field)).toEqual(['width', 'height'])
    expect(() => primesJob({ from: 0, to: -1 })).toThrow(InvalidJobError)
    expect(mandelbrotJob({ width: 64, height: 32, tile: 32 }).inputs).toHaveLength(2)
  })
})
