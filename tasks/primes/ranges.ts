/**
 * Splits a prime-counting range into subtask inputs for primes.wasm and
 * adds the answers up. Isomorphic (page, CLI, tests). Known answers to check
 * against: π(10^6) = 78498, π(10^7) = 664579 (largest prime below 10^7: 9999991).
 */
import { TaskOutputInvalidError } from '../../shared/compute/index.ts'

/** primes.wasm refuses ranges ending above 2^48 (its base sieve stays small). */
export const PRIMES_MAX_TO = 2 ** 48
export const PRIMES_INPUT_BYTES = 16
export const PRIMES_OUTPUT_BYTES = 16

/** Numbers n with from <= n < to. */
export interface PrimesRange {
  from: number
  to: number
}

export interface PrimesResult {
  count: number
  /** Largest prime in the range, 0 when there is none. */
  largest: number
}

function checkRange ({ from, to }: PrimesRange): void {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from || to > PRIMES_MAX_TO) {
    throw new RangeError(`need integers 0 <= from <= to <= 2^48, got [${from}, ${to})`)
  }
}

export function encodePrimesInput (range: PrimesRange): Uint8Array {
  checkRange(range)
  const bytes = new Uint8Array(PRIMES_INPUT_BYTES)
  const view = new DataView(bytes.buffer)
  view.setBigUint64(0, BigInt(range.from), true)
  view.setBigUint64(8, BigInt(range.to), true)
  return bytes
}

export function decodePrimesInput (bytes: Uint8Array): PrimesRange {
  if (bytes.byteLength !== PRIMES_INPUT_BYTES) throw new RangeError(`a primes input is ${PRIMES_INPUT_BYTES} bytes, got ${bytes.byteLength}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { from: Number(view.getBigUint64(0, true)), to: Number(view.getBigUint64(8, true)) }
}

export function decodePrimesOutput (bytes: Uint8Array): PrimesResult {
  if (bytes.byteLength !== PRIMES_OUTPUT_BYTES) throw new TaskOutputInvalidError(`a primes result is ${PRIMES_OUTPUT_BYTES} bytes, got ${bytes.byteLength}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { count: Number(view.getBigUint64(0, true)), largest: Number(view.getBigUint64(8, true)) }
}

/** `parts` consecutive ranges of (nearly) equal width covering [from, to). */
export function splitPrimes (range: PrimesRange, parts: number): PrimesRange[] {
  checkRange(range)
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`parts must be a positive integer, got ${parts}`)
  const width = range.to - range.from
  const n = Math.max(1, Math.min(parts, width))
  const out: PrimesRange[] = []
  for (let i = 0; i < n; i++) {
    // BigInt keeps the cut points exact for widths near 2^48
    const at = (k: number): number => range.from + Number(BigInt(width) * BigInt(k) / BigInt(n))
    out.push({ from: at(i), to: at(i + 1) })
  }
  return out
}

/** Subtask inputs for `splitPrimes(range, parts)`. */
export function primesInputs (range: PrimesRange, parts: number): Uint8Array[] {
  return splitPrimes(range, parts).map(encodePrimesInput)
}

/** The answer for the union of disjoint ranges. */
export function sumPrimes (results: PrimesResult[]): PrimesResult {
  return results.reduce((acc, r) => ({ count: acc.count + r.count, largest: Math.max(acc.largest, r.largest) }), { count: 0, largest: 0 })
}
