import type { TransferTap } from '../storage/index.ts'

/** Faults a test plays on the next transfers; each fires once, then clears itself. */
export interface TransferFaults {
  /** Flip a bit in the chunk holding this byte offset, after its hash was taken. */
  corruptAt?: number
  /** Abort the whole connection once this many bytes have moved. */
  dropAt?: number
  /** Promise this SHA-256 for the upload instead of the real one. */
  wrongHash?: string
}

/** A storage client tap that plays injected faults: a flaky network, from the test's side. */
export function faultyTap (): TransferTap & { inject: (faults: TransferFaults) => void } {
  let faults: TransferFaults = {}
  return {
    inject: (next) => { faults = { ...next } },
    chunk: (_direction, offset, bytes) => {
      const at = faults.corruptAt
      if (at == null || at < offset || at >= offset + bytes.byteLength) return bytes
      delete faults.corruptAt
      const copy = bytes.slice()
      copy[at - offset] = (copy[at - offset] as number) ^ 0x01
      return copy
    },
    moved: (_direction, offset, conn) => {
      if (faults.dropAt == null || offset < faults.dropAt) return
      delete faults.dropAt
      conn.abort(new Error('Connection dropped on purpose (test fault)'))
    },
    declare: (sha256) => {
      const wrong = faults.wrongHash
      delete faults.wrongHash
      return wrong ?? sha256
    }
  }
}
