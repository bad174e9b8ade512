/**
 * The demo tasks as jobs a requestor submits: inputs to send, and how to put
 * the verified results together. Isomorphic (page, CLI, tests, bench).
 */
import { assembleMandelbrot, createMandelbrotPixels, mandelbrotImage, placeMandelbrotTile, splitMandelbrot } from './mandelbrot/tiles.ts'
import { decodePrimesOutput, primesInputs, sumPrimes } from './primes/ranges.ts'
import { assertNoProblems, mandelbrotProblems, primesProblems } from './job-limits.ts'
import type { MandelbrotImage, MandelbrotImageInit, MandelbrotTile } from './mandelbrot/tiles.ts'
import type { PrimesRange, PrimesResult } from './primes/ranges.ts'

export interface MandelbrotJobInit extends MandelbrotImageInit {
  /** Tile edge in pixels. @default 64 */
  tile?: number
}

export interface MandelbrotJob {
  image: MandelbrotImage
  tiles: MandelbrotTile[]
  inputs: Uint8Array[]
  /** The picture so far; `place` fills in one tile. */
  pixels: Uint8Array
  place: (subtask: number, output: Uint8Array) => void
  assemble: (outputs: Uint8Array[]) => Uint8Array
}

/** Throws InvalidJobError (every bad field, in words) before a byte of the picture is allocated. */
export function mandelbrotJob (init: MandelbrotJobInit): MandelbrotJob {
  assertNoProblems(mandelbrotProblems({ width: init.width, height: init.height, tile: init.tile ?? 64, maxIter: init.maxIter ?? 256 }))
  const image = mandelbrotImage(init)
  const tiles = splitMandelbrot(image, init.tile ?? 64)
  const pixels = createMandelbrotPixels(image)
  return {
    image,
    tiles,
    inputs: tiles.map(t => t.input),
    pixels,
    place: (subtask, output) => { placeMandelbrotTile(pixels, image, tiles[subtask] as MandelbrotTile, output) },
    assemble: (outputs) => assembleMandelbrot(image, tiles, outputs)
  }
}

export interface PrimesJobInit extends PrimesRange {
  /** Subtasks. @default 20 */
  parts?: number
}

export interface PrimesJob {
  inputs: Uint8Array[]
  combine: (outputs: Uint8Array[]) => PrimesResult
}

/** Throws InvalidJobError for a range or split the primes module does not take. */
export function primesJob (init: PrimesJobInit): PrimesJob {
  assertNoProblems(primesProblems({ from: init.from, to: init.to, parts: init.parts ?? 20 }))
  return {
    inputs: primesInputs({ from: init.from, to: init.to }, init.parts ?? 20),
    combine: (outputs) => sumPrimes(outputs.map(decodePrimesOutput))
  }
}
