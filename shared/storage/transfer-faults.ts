/**
 * Deliberate faults for tests (the page's test hooks and the e2e suite):
 * each fires once, then clears itself.
 */
export interface TransferFaults {
  /** Flip a bit in the chunk holding this byte offset, after hashing it. */
  corruptAt?: number
  /** Abort the whole connection once this many bytes have been moved. */
  dropAt?: number
  /** Declare this SHA-256 for the upload instead of the real one. */
  wrongHash?: string
}
