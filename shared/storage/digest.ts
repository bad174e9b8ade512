import { sha256 } from '@noble/hashes/sha2.js'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'

/** SHA-256 of everything fed in, in order. */
export interface Sha256Stream {
  update: (bytes: Uint8Array) => void
  digest: () => Promise<Uint8Array>
}

export type Sha256Factory = () => Sha256Stream

const HEX64 = /^[0-9a-f]{64}$/

export function toHex (bytes: Uint8Array): string {
  return toString(bytes, 'base16')
}

export function fromHex (hex: string): Uint8Array {
  return fromString(hex, 'base16')
}

export function isSha256Hex (value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value)
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let diff = 0
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

function subtle (): SubtleCrypto | undefined {
  return globalThis.crypto?.subtle
}

/**
 * SHA-256 of one buffer. WebCrypto is native (and off the main thread in
 * Chromium), about ten times faster than hashing in JavaScript.
 */
export async function sha256Once (bytes: Uint8Array): Promise<Uint8Array> {
  const s = subtle()
  if (s != null) return new Uint8Array(await s.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return sha256(bytes)
}

/** Incremental SHA-256 in JavaScript: the fallback when no faster one is given. */
export function nobleSha256 (): Sha256Stream {
  const h = sha256.create()
  return {
    update: (bytes) => { h.update(bytes) },
    digest: async () => h.digest()
  }
}
