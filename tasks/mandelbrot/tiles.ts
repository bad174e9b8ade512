/**
 * Cuts a Mandelbrot image into subtask inputs for mandelbrot.wasm and puts
 * the RGBA tiles back together. Isomorphic (page, CLI, tests).
 *
 * Every pixel's point is computed from whole-image coordinates (see the
 * input layout in mandelbrot.wat), so the assembled image is byte-identical
 * whatever the tile size.
 */
import { TaskOutputInvalidError } from '../../shared/compute/index.ts'

/** Input size of mandelbrot.wasm. */
export const MANDELBROT_INPUT_BYTES = 44

/** One subtask's input, field for field (see mandelbrot.wat). */
export interface MandelbrotInput {
  x0: number
  y0: number
  step: number
  left: number
  top: number
  width: number
  height: number
  maxIter: number
}

export interface MandelbrotImageInit {
  width: number
  height: number
  /** Centre of the view, real part. Default -0.5. */
  centerX?: number
  /** Centre of the view, imaginary part. Default 0. */
  centerY?: number
  /** Width of the view in the complex plane. Default 3. */
  viewWidth?: number
  /** Default 256. */
  maxIter?: number
}

/** A whole image: size, where pixel (0, 0) sits, the pixel step. */
export interface MandelbrotImage {
  width: number
  height: number
  x0: number
  y0: number
  step: number
  maxIter: number
}

export interface MandelbrotTile {
  /** Row-major position among the tiles. */
  index: number
  left: number
  top: number
  width: number
  height: number
  /** The subtask input. */
  input: Uint8Array
}

function u32 (value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${what} must be a u32, got ${value}`)
  return value
}

export function encodeMandelbrotInput (input: MandelbrotInput): Uint8Array {
  const bytes = new Uint8Array(MANDELBROT_INPUT_BYTES)
  const view = new DataView(bytes.buffer)
  view.setFloat64(0, input.x0, true)
  view.setFloat64(8, input.y0, true)
  view.setFloat64(16, input.step, true)
  view.setUint32(24, u32(input.left, 'left'), true)
  view.setUint32(28, u32(input.top, 'top'), true)
  view.setUint32(32, u32(input.width, 'width'), true)
  view.setUint32(36, u32(input.height, 'height'), true)
  view.setUint32(40, u32(input.maxIter, 'maxIter'), true)
  return bytes
}

export function decodeMandelbrotInput (bytes: Uint8Array): MandelbrotInput {
  if (bytes.byteLength !== MANDELBROT_INPUT_BYTES) throw new RangeError(`a mandelbrot input is ${MANDELBROT_INPUT_BYTES} bytes, got ${bytes.byteLength}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return {
    x0: view.getFloat64(0, true),
    y0: view.getFloat64(8, true),
    step: view.getFloat64(16, true),
    left: view.getUint32(24, true),
    top: view.getUint32(28, true),
    width: view.getUint32(32, true),
    height: view.getUint32(36, true),
    maxIter: view.getUint32(40, true)
  }
}

/** Resolves a view (centre, width in the plane) into pixel coordinates. */
export function mandelbrotImage (init: MandelbrotImageInit): MandelbrotImage {
  const width = u32(init.width, 'width')
  const height = u32(init.height, 'height')
  if (width === 0 || height === 0) throw new RangeError('the image needs at least one pixel')
  const step = (init.viewWidth ?? 3) / width
  return {
    width,
    height,
    x0: (init.centerX ?? -0.5) - (width - 1) / 2 * step,
    y0: (init.centerY ?? 0) + (height - 1) / 2 * step,
    step,
    maxIter: u32(init.maxIter ?? 256, 'maxIter')
  }
}

/** Tiles of at most `tileWidth` x `tileHeight` pixels, row-major. */
export function splitMandelbrot (image: MandelbrotImage, tileWidth: number, tileHeight = tileWidth): MandelbrotTile[] {
  if (!Number.isInteger(tileWidth) || !Number.isInteger(tileHeight) || tileWidth < 1 || tileHeight < 1) {
    throw new RangeError('tile sizes must be positive integers')
  }
  const tiles: MandelbrotTile[] = []
  for (let top = 0; top < image.height; top += tileHeight) {
    for (let left = 0; left < image.width; left += tileWidth) {
      const width = Math.min(tileWidth, image.width - left)
      const height = Math.min(tileHeight, image.height - top)
      const input = encodeMandelbrotInput({ x0: image.x0, y0: image.y0, step: image.step, left, top, width, height, maxIter: image.maxIter })
      tiles.push({ index: tiles.length, left, top, width, height, input })
    }
  }
  return tiles
}

/** An empty RGBA buffer for the whole image. */
export function createMandelbrotPixels (image: MandelbrotImage): Uint8Array {
  return new Uint8Array(image.width * image.height * 4)
}

/** Copies one tile's output into the image (tiles can arrive in any order). */
export function placeMandelbrotTile (pixels: Uint8Array, image: MandelbrotImage, tile: MandelbrotTile, output: Uint8Array): void {
  if (output.byteLength !== tile.width * tile.height * 4) {
    throw new TaskOutputInvalidError(`tile ${tile.index} should be ${tile.width * tile.height * 4} bytes, got ${output.byteLength}`)
  }
  if (tile.left + tile.width > image.width || tile.top + tile.height > image.height) {
    throw new RangeError(`tile ${tile.index} lies outside the image`)
  }
  const row = tile.width * 4
  for (let y = 0; y < tile.height; y++) {
    pixels.set(output.subarray(y * row, (y + 1) * row), ((tile.top + y) * image.width + tile.left) * 4)
  }
}

/** The whole image from all tiles' outputs (`outputs[i]` belongs to `tiles[i]`). */
export function assembleMandelbrot (image: MandelbrotImage, tiles: MandelbrotTile[], outputs: Uint8Array[]): Uint8Array {
  if (tiles.length !== outputs.length) throw new RangeError(`${tiles.length} tiles but ${outputs.length} outputs`)
  const pixels = createMandelbrotPixels(image)
  tiles.forEach((tile, i) => { placeMandelbrotTile(pixels, image, tile, outputs[i] as Uint8Array) })
  return pixels
}
