import type { FileHandle } from 'node:fs/promises'

/** Verified bytes are written to the partial file in pieces of about this size. */
export const PARTIAL_BATCH = 1024 * 1024
/** Verified bytes not yet on disk; past this the upload stops reading from the client. */
export const MAX_UNWRITTEN = 8 * 1024 * 1024

/**
 * Appends an upload's verified bytes to its partial file without making the
 * receive loop wait for each write: bytes are gathered into ~1 MiB pieces,
 * several writes may be in flight at once (each at its own position), and
 * `onDurable` reports how far the file holds every byte without a gap, in
 * order. Only that point counts for a resume; `settle()` waits for it to
 * reach everything pushed.
 */
export class PartialWriter {
  private batch: Uint8Array[] = []
  private batchBytes = 0
  /** End of the bytes pushed so far (batched or being written). */
  private end: number
  /** Every byte before this is on disk. */
  private durable: number
  private readonly writes: Array<{ end: number, done: Promise<void> }> = []
  private failure?: Error

  constructor (private readonly file: FileHandle, start: number, private readonly onDurable: (end: number) => void) {
    this.end = start
    this.durable = start
  }

  /** Queues the next verified bytes; waits only while too much is still unwritten. */
  async push (bytes: Uint8Array): Promise<void> {
    if (this.failure != null) throw this.failure
    this.batch.push(bytes)
    this.batchBytes += bytes.byteLength
    this.end += bytes.byteLength
    if (this.batchBytes >= PARTIAL_BATCH) this.flush()
    while (this.end - this.durable > MAX_UNWRITTEN && this.writes.length > 0) {
      await (this.writes[0] as { done: Promise<void> }).done.catch(() => {})
      this.prune()
      if (this.failure != null) throw this.failure
    }
  }

  /** Writes what is batched and waits until everything pushed is on disk (or a write failed). */
  async settle (): Promise<void> {
    this.flush()
    while (this.writes.length > 0) {
      await (this.writes[this.writes.length - 1] as { done: Promise<void> }).done.catch(() => {})
      this.prune()
    }
    if (this.failure != null) throw this.failure
  }

  private prune (): void {
    while (this.writes.length > 0 && (this.writes[0] as { end: number }).end <= this.durable) this.writes.shift()
    // after a failure nothing further becomes durable: drop the rest
    if (this.failure != null) this.writes.length = 0
  }

  private flush (): void {
    if (this.batchBytes === 0 || this.failure != null) return
    const buffers = this.batch
    const length = this.batchBytes
    const end = this.end
    const position = end - length
    this.batch = []
    this.batchBytes = 0
    const written = writeAll(this.file, buffers, length, position)
    const previous = this.writes[this.writes.length - 1]?.done ?? Promise.resolve()
    // a write counts once every earlier one has landed too (after a failed one, none does)
    const done = Promise.all([previous, written]).then(() => {
      this.durable = end
      this.onDurable(end)
    })
    done.catch((err: Error) => { this.failure ??= err })
    this.writes.push({ end, done })
  }
}

/** `writev` at `position`, continuing after a short write. */
async function writeAll (file: FileHandle, buffers: Uint8Array[], length: number, position: number): Promise<void> {
  let { bytesWritten } = await file.writev(buffers, position)
  if (bytesWritten === length) return
  const rest = Buffer.concat(buffers).subarray(bytesWritten)
  for (let at = 0; at < rest.byteLength; at += bytesWritten) {
    ({ bytesWritten } = await file.write(rest, at, rest.byteLength - at, position + length - rest.byteLength + at))
    if (bytesWritten === 0) throw new Error('The partial file accepted no bytes')
  }
}
