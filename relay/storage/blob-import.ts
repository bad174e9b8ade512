import type { BlobId, Hyperblobs } from 'hyperdrive'
import type { Writable } from 'streamx'

/** Hypercore blocks written per piece: big enough to be cheap, small enough to replicate smoothly. */
export const BLOCK_SIZE = 256 * 1024
/**
 * Bytes the import may hold before `write` waits. Hyperblobs appends 16
 * blocks at a time; meanwhile the next ones queue here instead of stalling
 * the upload (streamx's default of 16 KiB would make every chunk wait).
 */
export const IMPORT_BUFFER = 8 * 1024 * 1024

/**
 * Streams an upload's verified bytes into the drive's blob core as they
 * arrive, so finishing an upload only writes the entry. The blob is not
 * reachable until that entry exists; an abandoned import is cleared.
 * Hyperblobs lets one writer per drive run at a time: a second upload to the
 * same drive waits here, with backpressure reaching its client.
 */
export class BlobImport {
  private readonly ws: Writable & { id: BlobId }
  private failed?: Error
  private finished?: Promise<BlobId>

  constructor (private readonly blobs: Hyperblobs) {
    this.ws = blobs.createWriteStream({ highWaterMark: IMPORT_BUFFER })
    this.ws.on('error', (err: Error) => { this.failed ??= err })
  }

  async write (bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.byteLength; at += BLOCK_SIZE) {
      if (this.failed != null) throw this.failed
      const piece = Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(BLOCK_SIZE, bytes.byteLength - at))
      if (!this.ws.write(piece)) await this.drained()
    }
  }

  private async drained (): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        this.ws.off('drain', onDrain)
        this.ws.off('error', onError)
        this.ws.off('close', onClose)
        if (err != null) reject(err)
        else resolve()
      }
      const onDrain = (): void => { done() }
      const onError = (err: Error): void => { done(err) }
      const onClose = (): void => { done(this.failed ?? new Error('Blob writer closed')) }
      this.ws.on('drain', onDrain)
      this.ws.on('error', onError)
      this.ws.on('close', onClose)
    })
  }

  /** Flushes and returns the blob's ID. */
  async finish (): Promise<BlobId> {
    this.finished ??= new Promise<BlobId>((resolve, reject) => {
      if (this.failed != null) {
        reject(this.failed)
        return
      }
      this.ws.once('close', () => { this.failed != null ? reject(this.failed) : resolve(this.ws.id) })
      this.ws.once('error', reject)
      ;(this.ws as unknown as { end: () => void }).end()
    })
    return await this.finished
  }

  /** Gives up: whatever was appended is cleared from disk. */
  async abort (): Promise<void> {
    try {
      const id = await this.finish()
      if (id.blockLength > 0) await this.blobs.clear(id)
    } catch {
      this.ws.destroy()
    }
  }
}
