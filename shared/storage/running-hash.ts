import { sha256Stream, toHex } from './digest.ts'
import type { Sha256Stream } from './digest.ts'
import type { UploadSource } from './sources.ts'

/** How much of the source a catch-up reads at a time. */
const CATCH_UP_READ = 4 * 1024 * 1024

/**
 * The whole content's SHA-256 for an upload that names it only after its
 * last chunk, fed from the chunks the upload reads anyway: in order and once
 * per byte across attempts. A resume that starts past what was hashed reads
 * the gap from the source; one that starts earlier skips what was hashed.
 * Sources don't change during an upload, so the bytes are the same.
 */
export class RunningHash {
  private at = 0
  private hex?: string
  private queue: Promise<void> = Promise.resolve()

  private constructor (private readonly source: UploadSource, private readonly hash: Sha256Stream) {}

  static async create (source: UploadSource): Promise<RunningHash> {
    return new RunningHash(source, await sha256Stream())
  }

  /** Bytes hashed so far, from the start. */
  get hashed (): number { return this.at }

  /**
   * Takes bytes [offset, offset + bytes.byteLength) of the source, as read
   * (before any test fault). Calls run one at a time in call order, so a
   * chunk still being read by an attempt that failed can't interleave with
   * the next attempt's.
   */
  async feed (offset: number, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    const run = this.queue.then(async () => { await this.take(offset, bytes, signal) })
    this.queue = run.catch(() => {})
    await run
  }

  private async take (offset: number, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (offset > this.at) await this.catchUp(offset, signal)
    const end = offset + bytes.byteLength
    if (end <= this.at) return
    this.hash.update(bytes.subarray(this.at - offset))
    this.at = end
  }

  /** The hex digest, once every byte of the source went in. */
  async digest (signal?: AbortSignal): Promise<string> {
    await this.queue
    if (this.hex == null) {
      await this.catchUp(this.source.size, signal)
      this.hex = toHex(await this.hash.digest())
    }
    return this.hex
  }

  private async catchUp (to: number, signal?: AbortSignal): Promise<void> {
    while (this.at < to) {
      signal?.throwIfAborted()
      const bytes = await this.source.read(this.at, Math.min(CATCH_UP_READ, to - this.at))
      if (bytes.byteLength === 0) throw new RangeError(`The source ended at byte ${this.at} of ${this.source.size}`)
      this.hash.update(bytes)
      this.at += bytes.byteLength
    }
  }
}
