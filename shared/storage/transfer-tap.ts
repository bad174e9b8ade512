import type { Connection } from '@libp2p/interface'

export type TransferDirection = 'up' | 'down'

/**
 * Sees, and may alter, what the storage client moves: a seam for
 * instrumentation and for tests that play a flaky network (a corrupted
 * chunk, a dropped connection, a wrong hash) from their own code.
 */
export interface TransferTap {
  /** A chunk about to go out (upload) or just in (download), after its hash was taken: the bytes to use instead. */
  chunk?: (direction: TransferDirection, offset: number, bytes: Uint8Array) => Uint8Array
  /** `offset` bytes have moved so far on `conn`. */
  moved?: (direction: TransferDirection, offset: number, conn: Connection) => void
  /** The content hash an upload is about to promise: the one to promise instead. */
  declare?: (sha256: string) => string
}
