import { InternalError } from '../../../shared/errors.ts'

/** RGBA pixels to a PNG file. */
export type EncodePng = (pixels: Uint8Array, width: number, height: number) => Promise<Blob>

/** Off the page's canvas: the full-resolution picture, whatever size the card shows it at. */
export const encodePng: EncodePng = async (pixels, width, height) => {
  const canvas = new OffscreenCanvas(width, height)
  const ctx = canvas.getContext('2d')
  if (ctx == null) throw new InternalError('This browser gives no 2D canvas to encode the PNG with')
  ctx.putImageData(new ImageData(new Uint8ClampedArray(pixels), width, height), 0, 0)
  return await canvas.convertToBlob({ type: 'image/png' })
}

/** Hands `blob` to the browser as a download named `filename`. */
export function saveBlob (blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  a.click()
  // the download has started from the URL by then; revoking at once can cancel it in some browsers
  setTimeout(() => { URL.revokeObjectURL(url) }, 60_000)
}
