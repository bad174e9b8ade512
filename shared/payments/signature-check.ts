import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes, isAddressEqual } from 'viem'
import { publicKeyToAddress } from 'viem/accounts'
import { isDigest, loadedSecp256k1, loadSecp256k1, recoverKeyWasm } from './secp256k1-wasm.ts'
import type { Secp256k1 } from '@bitauth/libauth/build/lib/crypto/secp256k1-types.js'
import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js'
import type { Address, Hex } from 'viem'

/**
 * Checks EIP-712 signatures of cheques and notes as the deposit contract
 * will (OpenZeppelin's ECDSA over ecrecover), and fast: a provider verifies
 * a cheque from the same requestor with every accepted subtask.
 *
 * Once libsecp256k1's WebAssembly module is instantiated (the first check
 * starts loading it, preloadSignatureCheck waits for it), every check is a
 * recovery there, as ecrecover does, several times faster than noble's
 * and with nothing kept.
 * Until then, or where WebAssembly is refused, @noble/curves in JS: the
 * first signature of an address is checked by recovering the public key;
 * the key is then kept with precomputed multiples, and later signatures of
 * that address are checked against it directly (u1·G + u2·Q), about half
 * the CPU time of a recovery. All paths insist on what ecrecover and
 * OpenZeppelin need, so whatever passes here the contract accepts too: v
 * is 27 or 28 and names the point the signature made (plain ECDSA
 * verification ignores v), s is in the lower half (the contract refuses
 * the malleable twin, which a bare recovery would take), r and s are in
 * range.
 */

const Point = secp256k1.Point
const Fn = Point.Fn
const N = Point.CURVE().n
const SIGNATURE = /^0x[0-9a-f]{130}$/

/** A signature's parts, as ecrecover takes them. */
export interface SignatureParts {
  r: bigint
  s: bigint
  /** 0 or 1: v − 27. */
  yParity: 0 | 1
}

/**
 * The parts of a 65-byte signature r‖s‖v in lowercase 0x hex, if the
 * contract would accept its form; undefined otherwise (a 64-byte compact
 * one, v of 0/1, a high s, r or s zero or not below the curve order).
 */
export function signatureParts (signature: string): SignatureParts | undefined {
  if (!SIGNATURE.test(signature)) return undefined
  const r = BigInt(`0x${signature.slice(2, 66)}`)
  const s = BigInt(`0x${signature.slice(66, 130)}`)
  const v = Number.parseInt(signature.slice(130), 16)
  if (v !== 27 && v !== 28) return undefined
  if (r === 0n || r >= N || s === 0n || s > N >> 1n) return undefined
  return { r, s, yParity: v === 27 ? 0 : 1 }
}

/** Public keys by address, with their precomputed tables (~96 KiB each at window 4); least recently used out first. */
const keys = new Map<string, WeierstrassPoint<bigint>>()
const KEYS_MAX = 32
/**
 * Window 4: measured on Node, about as fast per check as 6 or 8 (0.8 ms
 * against 1.5-1.9 ms for a recovery, on a busy 2-core Xeon) for a fraction
 * of their memory and set-up time (7 ms against 17 and 50).
 */
const WINDOW = 4

function remember (address: string, key: WeierstrassPoint<bigint>): void {
  keys.delete(address)
  if (keys.size >= KEYS_MAX) keys.delete(keys.keys().next().value as string)
  keys.set(address, key)
}

/** Loads the WebAssembly path of isSignedBy, so that even the first checks take it; never rejects (noble stays, if it must). */
export async function preloadSignatureCheck (): Promise<void> {
  await loadSecp256k1()
}

/**
 * Whether `signature` over `digest` (an EIP-712 hash) is `signer`'s and of a
 * form the contract accepts. Never throws for bad input: false.
 */
export function isSignedBy (digest: Hex, signature: string, signer: Address): boolean {
  const wasm = loadedSecp256k1()
  if (wasm == null) void loadSecp256k1()
  return wasm != null && isDigest(digest) ? isSignedByWasm(wasm, digest, signature, signer) : isSignedByNoble(digest, signature, signer)
}

/** isSignedBy in WebAssembly: a recovery, as ecrecover does (exported for the tests that hold both paths to agree). */
export function isSignedByWasm (wasm: Secp256k1, digest: Hex, signature: string, signer: Address): boolean {
  const parts = signatureParts(signature)
  if (parts == null) return false
  try {
    const key = recoverKeyWasm(wasm, digest, hexToBytes(`0x${signature.slice(2, 130)}`), parts.yParity)
    return key != null && isAddressEqual(publicKeyToAddress(bytesToHex(key)), signer)
  } catch {
    return false
  }
}

/** isSignedBy in JS (@noble/curves): a recovery at first, then the kept key (exported for the tests). */
export function isSignedByNoble (digest: Hex, signature: string, signer: Address): boolean {
  const parts = signatureParts(signature)
  if (parts == null) return false
  const id = signer.toLowerCase()
  const key = keys.get(id)
  try {
    if (key != null) {
      remember(id, key)
      return verifyWithKey(digest, parts, key)
    }
    const recovered = new secp256k1.Signature(parts.r, parts.s, parts.yParity).recoverPublicKey(hexToBytes(digest))
    if (!isAddressEqual(publicKeyToAddress(`0x${recovered.toHex(false)}`), signer)) return false
    // tables are built at the first multiplication: the next signature pays for them, only if one comes
    remember(id, recovered.precompute(WINDOW, true))
    return true
  } catch {
    return false
  }
}

/**
 * ECDSA verification against a known key, with ecrecover's extra demand:
 * the point R = u1·G + u2·Q has x = r itself (ecrecover never tries r + n)
 * and the y parity v names, so a signature with the wrong v, which ecrecover
 * would turn into another address, fails here too.
 */
function verifyWithKey (digest: Hex, { r, s, yParity }: SignatureParts, key: WeierstrassPoint<bigint>): boolean {
  const h = Fn.create(BigInt(digest))
  const is = Fn.inv(s)
  const R = Point.BASE.multiplyUnsafe(Fn.create(h * is)).add(key.multiplyUnsafe(Fn.create(r * is)))
  if (R.is0()) return false
  const { x, y } = R.toAffine()
  return x === r && Number(y & 1n) === yParity
}
