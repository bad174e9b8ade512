import { sha256Once, sha256Stream, toHex } from './digest.ts'

/** What an upload reads from. */
export interface UploadSource {
  readonly size: number
  /** Bytes [offset, offset + length). */
  read: (offset: number, length: number) => Promise<Uint8Array>
  /** The whole content's SHA-256 (hex), fixed before the first byte is sent. */
  sha256: (onProgress?: (bytes: number) => void, signal?: AbortSignal) => Promise<string>
}

/** Where a download writes to. Offsets only ever grow, without gaps. */
export interface DownloadSink {
  /** Bytes already held from an earlier run (a partial file): the download starts there. */
  readonly resumeFrom?: number
  write: (offset: number, bytes: Uint8Array) => Promise<void> | void
  /**
   * Memory of the sink's own where the `length` bytes at `offset` may be
   * placed before they are checked; `write` given that same view keeps them
   * without copying. Optional.
   */
  region?: (offset: number, length: number) => Uint8Array
  /** SHA-256 of everything written. */
  digest: () => Promise<Uint8Array>
  /** Throws away what was written (content that failed its check). */
  reset: () => Promise<void> | void
}

/** Objects up to this size are hashed in one WebCrypto call, held in memory. */
export const ONE_SHOT_LIMIT = 512 * 1024 * 1024
/** Larger blobs are read (and hashed incrementally) this much at a time. */
const WINDOW = 8 * 1024 * 1024

export function bytesSource (bytes: Uint8Array): UploadSource {
  let hash: string | undefined
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
    sha256: async (onProgress) => {
      hash ??= toHex(await sha256Once(bytes))
      onProgress?.(bytes.byteLength)
      return hash
    }
  }
}

/**
 * A File or Blob from the page. Up to 512 MiB it is read once, hashed natively
 * and served from memory; beyond that it is read in windows as it goes.
 */
export function blobSource (blob: Blob): UploadSource {
  let whole: Uint8Array | undefined
  let window: { offset: number, bytes: Uint8Array } | undefined
  let hash: string | undefined
  return {
    size: blob.size,
    read: async (offset, length) => {
      if (whole != null) return whole.subarray(offset, offset + length)
      if (window == null || offset < window.offset || offset + length > window.offset + window.bytes.byteLength) {
        window = { offset, bytes: new Uint8Array(await blob.slice(offset, Math.min(blob.size, offset + Math.max(WINDOW, length))).arrayBuffer()) }
      }
      const start = offset - window.offset
      return window.bytes.subarray(start, start + length)
    },
    sha256: async (onProgress, signal) => {
      if (hash != null) return hash
      if (blob.size <= ONE_SHOT_LIMIT) {
        whole = new Uint8Array(await blob.arrayBuffer())
        hash = toHex(await sha256Once(whole))
        onProgress?.(blob.size)
        return hash
      }
      const h = await sha256Stream()
      for (let offset = 0; offset < blob.size; offset += WINDOW) {
        signal?.throwIfAborted()
        h.update(new Uint8Array(await blob.slice(offset, offset + WINDOW).arrayBuffer()))
        onProgress?.(Math.min(blob.size, offset + WINDOW))
      }
      hash = toHex(await h.digest())
      return hash
    }
  }
}

export interface MemorySink extends DownloadSink {
  /** Everything written so far. */
  bytes: () => Uint8Array
}

/**
 * Collects a download in one buffer of the object's size (the page's case).
 * The buffer is made when the first bytes arrive, after the relay has
 * confirmed the object: an address promising a size no relay backs up
 * allocates nothing.
 */
export function memorySink (size: number): MemorySink {
  let buffer: Uint8Array | undefined
  const memory = (): Uint8Array => (buffer ??= new Uint8Array(size))
  let written = 0
  return {
    write: (offset, bytes) => {
      const into = memory()
      // bytes placed through `region` are already where they belong
      if (bytes.buffer !== into.buffer || bytes.byteOffset !== offset) into.set(bytes, offset)
      written = Math.max(written, offset + bytes.byteLength)
    },
    region: (offset, length) => memory().subarray(offset, offset + length),
    digest: async () => await sha256Once(buffer?.subarray(0, written) ?? new Uint8Array(0)),
    reset: () => { written = 0 },
    bytes: () => buffer?.subarray(0, written) ?? new Uint8Array(0)
  }
}
