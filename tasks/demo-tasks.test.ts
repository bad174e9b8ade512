import { describe, expect, it } from 'vitest'
import { compileTaskModule, runModule } from '../shared/compute/index.ts'
import { assembleDemoTask, DEMO_TASKS } from './assemble.ts'
import { loadDemoTask } from './load-demo-task.ts'
import { assembleMandelbrot, decodeMandelbrotInput, encodeMandelbrotInput, mandelbrotImage, placeMandelbrotTile, splitMandelbrot } from './mandelbrot/tiles.ts'
import { decodePrimesInput, primesInputs, splitPrimes, sumPrimes } from './primes/ranges.ts'

describe('demo task modules', () => {
  it('assemble and load (built or on the fly)', async () => {
    for (const name of DEMO_TASKS) {
      const task = await loadDemoTask(name)
      expect(task.module).toEqual(await assembleDemoTask(name))
      expect(task.moduleHash).toMatch(/^[0-9a-f]{64}$/)
    }
    await expect(loadDemoTask('nope')).rejects.toMatchObject({ name: 'UnknownDemoTaskError' })
  })
})

describe('mandelbrot tiles', () => {
  it('round-trips the input layout', () => {
    const input = { x0: -2.25, y0: 1.5, step: 1 / 3, left: 7, top: 9, width: 10, height: 11, maxIter: 1234 }
    expect(decodeMandelbrotInput(encodeMandelbrotInput(input))).toEqual(input)
    expect(() => encodeMandelbrotInput({ ...input, width: -1 })).toThrow(RangeError)
  })

  it('covers the image with edge tiles clipped, and reassembles the same bytes as one tile', async () => {
    const image = mandelbrotImage({ width: 50, height: 30, maxIter: 100 })
    const tiles = splitMandelbrot(image, 16)
    expect(tiles).toHaveLength(4 * 2)
    expect(tiles.reduce((n, t) => n + t.width * t.height, 0)).toBe(50 * 30)
    expect(tiles.at(-1)).toMatchObject({ left: 48, top: 16, width: 2, height: 14 })
    const task = await compileTaskModule((await loadDemoTask('mandelbrot')).module)
    const outputs = tiles.map(t => runModule(task, t.input, { memoryPages: 256 }))
    const [whole] = splitMandelbrot(image, 50, 30)
    expect(assembleMandelbrot(image, tiles, outputs)).toEqual(runModule(task, whole!.input, { memoryPages: 256 }))
    expect(() => { placeMandelbrotTile(new Uint8Array(50 * 30 * 4), image, tiles[0]!, new Uint8Array(3)) }).toThrow(/should be/)
  })
})

describe('primes ranges', () => {
  it('splits a range into contiguous parts and sums answers', () => {
    const parts = splitPrimes({ from: 10, to: 2 ** 48 }, 7)
    expect(parts).toHaveLength(7)
    expect(parts[0]!.from).toBe(10)
    expect(parts.at(-1)!.to).toBe(2 ** 48)
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.from).toBe(parts[i - 1]!.to)
    expect(splitPrimes({ from: 0, to: 3 }, 10)).toHaveLength(3)
    expect(primesInputs({ from: 5, to: 9 }, 1).map(decodePrimesInput)).toEqual([{ from: 5, to: 9 }])
    expect(() => splitPrimes({ from: 0, to: 2 ** 48 + 1 }, 1)).toThrow(RangeError)
    expect(sumPrimes([{ count: 2, largest: 5 }, { count: 1, largest: 0 }, { count: 3, largest: 13 }])).toEqual({ count: 6, largest: 13 })
  })
})
