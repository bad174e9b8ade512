/**
 * Hashcash proof of work: find a nonce such that SHA-256(challenge ‖ nonce)
 * has at least `difficulty` leading zero bits. Solving costs about
 * 2^difficulty hashes; verifying costs one.
 *
 * Wire format: the challenge is exactly 32 bytes, the nonce exactly 8 bytes
 * (a big-endian unsigned 64-bit integer), the hashed message their 40-byte
 * concatenation.
 */
import { HashcashInvalidError } from './errors.ts'
import {
  assertChallenge, assertDifficulty, hashcashDigest, HASHCASH_CHALLENGE_BYTES, HASHCASH_MAX_DIFFICULTY,
  HASHCASH_NONCE_BYTES, leadingZeroBits
} from './sha256-search.ts'

export { HashcashAbortedError, HashcashInvalidError, HashcashWorkerError } from './errors.ts'
export { hashcashDigest, leadingZeroBits, HASHCASH_CHALLENGE_BYTES, HASHCASH_MAX_DIFFICULTY, HASHCASH_NONCE_BYTES }

/**
 * Whether `nonce` solves `challenge` at `difficulty`. One hash.
 *
 * The nonce usually comes from the remote, so a malformed one (not exactly
 * 8 bytes, not a Uint8Array) is simply not a solution: returns false. The
 * challenge and difficulty are our own, so a bad one is a bug and throws
 * HashcashInvalidError.
 */
export function verifySolution (challenge: Uint8Array, nonce: Uint8Array, difficulty: number): boolean {
  assertChallenge(challenge)
  assertDifficulty(difficulty)
  if (!(nonce instanceof Uint8Array) || nonce.length !== HASHCASH_NONCE_BYTES) return false
  return leadingZeroBits(hashcashDigest(challenge, nonce)) >= difficulty
}

/** Mean number of hashes to find a solution: 2^difficulty. */
export function expectedHashes (difficulty: number): number {
  assertDifficulty(difficulty)
  return 2 ** difficulty
}

/** The 8-byte big-endian nonce for the two uint32 halves the kernel works with. */
export function encodeNonce (hi: number, lo: number): Uint8Array {
  if (!Number.isInteger(hi) || !Number.isInteger(lo) || hi < 0 || lo < 0 || hi >= 2 ** 32 || lo >= 2 ** 32) {
    throw new HashcashInvalidError('nonce halves must be uint32')
  }
  const nonce = new Uint8Array(HASHCASH_NONCE_BYTES)
  const view = new DataView(nonce.buffer)
  view.setUint32(0, hi, false)
  view.setUint32(4, lo, false)
  return nonce
}

/** The two uint32 halves of an 8-byte big-endian nonce. */
export function decodeNonce (nonce: Uint8Array): { hi: number, lo: number } {
  if (!(nonce instanceof Uint8Array) || nonce.length !== HASHCASH_NONCE_BYTES) {
    throw new HashcashInvalidError(`nonce must be ${HASHCASH_NONCE_BYTES} bytes`)
  }
  const view = new DataView(nonce.buffer, nonce.byteOffset, nonce.byteLength)
  return { hi: view.getUint32(0, false), lo: view.getUint32(4, false) }
}

/** Checks a challenge/difficulty pair before work is spent on it; throws HashcashInvalidError. */
export function assertHashcashParams (challenge: Uint8Array, difficulty: number): void {
  assertChallenge(challenge)
  assertDifficulty(difficulty)
}

