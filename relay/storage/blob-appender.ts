import type { Hypercore } from 'corestore'
import type { BlobId } from 'hyperdrive'
import { InternalError } from '../../shared/errors.ts'

/** Hypercore blocks are at most this big: cheap to hash and store, small enough to replicate smoothly. */
const BLOCK_SIZE = 256 * 1024
/** Bytes handed to `write` but not yet appended; past this `write` waits (backpressure to the client). */
const MAX_QUEUED = 2 * 1024 * 1024
/** Blocks per append: one RocksDB batch each. */
const MAX_BATCH = 8

/** Where an upload's bytes lie in the blob core: contiguous blocks from `blockOffset`. */
export type BlobExtent = BlobId

/**
 * Appends an upload's verified bytes straight to the drive's blob core, the
 * only copy the relay writes: the blocks appended so far are also what a
 * resumed upload continues from. Appends run one batch at a time while the
 * next bytes queue. The caller holds the drive's append lock throughout, so
 * the extent stays contiguous.
 */
export class BlobAppender {
  readonly extent: BlobExtent
  private queue: Buffer[] = []
  private queued = 0
  private appending?: Promise<void>
  private failure?: Error

  /** `extent` (which must end where the core does) is grown in place as appends land. */
  constructor (private readonly core: Hypercore, extent: BlobExtent) {
    if (extent.byteOffset + extent.byteLength !== core.byteLength || extent.blockOffset + extent.blockLength !== core.length) {
      throw new InternalError('The blob extent does not end where the blob core does')
    }
    this.extent = extent
  }

  /** Queues verified bytes; waits only while too many are not yet appended. */
  async write (bytes: Uint8Array): Promise<void> {
    if (this.failure != null) throw this.failure
    for (let at = 0; at < bytes.byteLength; at += BLOCK_SIZE) {
      this.queue.push(Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(BLOCK_SIZE, bytes.byteLength - at)))
    }
    this.queued += bytes.byteLength
    this.kick()
    while (this.queued > MAX_QUEUED && this.appending != null) {
      await this.appending
      if (this.failure != null) throw this.failure
    }
  }

  /** Waits until everything written is appended (or an append failed). */
  async settle (): Promise<void> {
    while (this.appending != null) await this.appending
    if (this.failure != null) throw this.failure
  }

  private kick (): void {
    if (this.appending != null || this.queue.length === 0 || this.failure != null) return
    const batch = this.queue.splice(0, MAX_BATCH)
    let bytes = 0
    for (const b of batch) bytes += b.byteLength
    this.appending = this.core.append(batch).then(() => {
      this.extent.blockLength += batch.length
      this.extent.byteLength += bytes
      this.queued -= bytes
    }, (err: Error) => {
      this.failure ??= err
      this.queue = []
    }).finally(() => {
      this.appending = undefined
      this.kick()
    })
  }
}

/** The blocks of an extent, in order; one the core lacks is an error. */
export async function * blocksOf (core: Hypercore, extent: BlobExtent, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  for (let i = extent.blockOffset; i < extent.blockOffset + extent.blockLength; i++) {
    signal?.throwIfAborted()
    const block = await core.get(i, { wait: false }) as Uint8Array | null
    if (block == null) throw new InternalError(`Block ${i} of a pending upload is missing`)
    yield block
  }
}

/**
 * Moves an extent to the end of the blob core (another upload appended after
 * it): copies its blocks (each also handed to `onBlock`), then clears the old
 * ones. Returns the new extent.
 */
export async function relocate (core: Hypercore, extent: BlobExtent, signal?: AbortSignal, onBlock?: (block: Uint8Array) => void): Promise<BlobExtent> {
  const moved: BlobExtent = { blockOffset: core.length, byteOffset: core.byteLength, blockLength: 0, byteLength: 0 }
  const appender = new BlobAppender(core, moved)
  try {
    for await (const block of blocksOf(core, extent, signal)) {
      onBlock?.(block)
      await appender.write(block)
    }
    await appender.settle()
  } catch (err) {
    // a half-made copy is nobody's: free it, the original stays as it was
    await appender.settle().catch(() => {})
    if (moved.blockLength > 0) await core.clear(moved.blockOffset, moved.blockOffset + moved.blockLength).catch(() => {})
    throw err
  }
  if (extent.blockLength > 0) await core.clear(extent.blockOffset, extent.blockOffset + extent.blockLength)
  return appender.extent
}
