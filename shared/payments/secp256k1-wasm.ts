import { bytesToHex, hexToBytes } from 'viem'
import type { Secp256k1 } from '@bitauth/libauth/build/lib/crypto/secp256k1-types.js'
import type { Hex } from 'viem'

/**
 * libsecp256k1 compiled to WebAssembly (@bitauth/libauth, its module
 * inlined as base64: no fetch, the same in Node, tabs and workers), for the
 * signatures of every subtask: it signs and recovers several times faster
 * than @noble/curves in JS (npm run bench:payments). Loaded on first use
 * by a dynamic import, so a page that never pays never downloads it; until
 * it is ready, and wherever WebAssembly is refused, callers fall back to
 * noble.
 */

let loading: Promise<Secp256k1 | undefined> | undefined
let ready: Secp256k1 | undefined

const DIGEST = /^0x[0-9a-fA-F]{64}$/

/** Instantiates the module once; undefined if this platform refuses it (then noble does the work). */
export async function loadSecp256k1 (): Promise<Secp256k1 | undefined> {
  loading ??= import('@bitauth/libauth/build/lib/crypto/secp256k1.js')
    // a randomized context blinds the key in signing; signatures stay RFC 6979's
    .then(async ({ instantiateSecp256k1 }) => (ready = await instantiateSecp256k1(crypto.getRandomValues(new Uint8Array(32)))))
    .catch(() => undefined)
  return await loading
}

/** The module if instantiated already, for synchronous callers. */
export function loadedSecp256k1 (): Secp256k1 | undefined {
  return ready
}

/**
 * The 65-byte r‖s‖v signature (v 27 or 28) of a 32-byte `hash`, as viem's
 * `sign` makes it (RFC 6979, low s); undefined for what viem should handle
 * (a hash of another length).
 */
export function signHashWasm (secp256k1: Secp256k1, privateKey: Uint8Array, hash: Hex): Hex | undefined {
  if (!DIGEST.test(hash)) return undefined
  let signed: ReturnType<Secp256k1['signMessageHashRecoverableCompact']>
  try {
    signed = secp256k1.signMessageHashRecoverableCompact(privateKey, hexToBytes(hash))
  } catch {
    // a trap in the module: viem signs instead
    return undefined
  }
  // recovery ids 2 and 3 (x of R beyond n, odds of 2^-127) are left to viem
  if (typeof signed === 'string' || signed.recoveryId > 1) return undefined
  return `${bytesToHex(signed.signature)}${signed.recoveryId === 0 ? '1b' : '1c'}`
}

/**
 * The uncompressed public key (65 bytes) ecrecover finds for r‖s (64 bytes)
 * and recovery id 0 or 1 over a 32-byte `digest`; undefined where it finds
 * none.
 */
export function recoverKeyWasm (secp256k1: Secp256k1, digest: Hex, rs: Uint8Array, yParity: 0 | 1): Uint8Array | undefined {
  const key = secp256k1.recoverPublicKeyUncompressed(rs, yParity, hexToBytes(digest))
  return typeof key === 'string' ? undefined : key
}

/** Whether `digest` is the 32 bytes the WebAssembly path takes (anything else goes to noble, as before). */
export function isDigest (digest: string): boolean {
  return DIGEST.test(digest)
}
