import { webCryptoPreferred } from '../util/index.ts'
import { RunningHash } from './running-hash.ts'
import { ONE_SHOT_LIMIT } from './sources.ts'
import type { UploadSource } from './sources.ts'

/** The whole content's SHA-256 for an upload that names it only after its last chunk. */
export interface ContentHash {
  /** Takes bytes [offset, offset + bytes.byteLength) of the source as the upload reads them. */
  feed: (offset: number, bytes: Uint8Array, signal?: AbortSignal) => Promise<void>
  /** The hex digest of the whole source. */
  digest: (signal?: AbortSignal) => Promise<string>
}

export interface ContentHashInit {
  /** Hash the whole source in one call beside the upload (default: where that runs off the calling thread, i.e. in a browser). */
  oneShot?: boolean
}

/**
 * Where WebCrypto runs a digest off the calling thread (browsers), a source
 * up to 512 MiB is hashed by one native call started now, beside the upload
 * (the source's own `sha256()`, which holds a Blob in memory from then on):
 * native SHA-256 uses the CPU's SHA instructions, which WebAssembly can't
 * (measured in Chromium here: ~750 MB/s against hash-wasm's ~185 MB/s), and
 * the tab's main thread stays free for sending. Anywhere else (Node hashes
 * synchronously, on its event loop) and for larger sources, a RunningHash fed
 * by the chunks the upload reads anyway.
 */
export async function startContentHash (source: UploadSource, signal?: AbortSignal, init: ContentHashInit = {}): Promise<ContentHash> {
  if (!(init.oneShot ?? webCryptoPreferred()) || source.size > ONE_SHOT_LIMIT) return await RunningHash.create(source)
  const whole = source.sha256(undefined, signal)
  // a failure is reported by digest(); until then it must not count as unhandled
  whole.catch(() => {})
  return {
    feed: async () => {},
    digest: async (s) => {
      s?.throwIfAborted()
      return await whole
    }
  }
}
