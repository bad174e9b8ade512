import { sha256 } from '@noble/hashes/sha2.js'
import { createSHA256 } from 'hash-wasm'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'

/** SHA-256 of everything fed in, in order. */
export interface Sha256Stream {
  update: (bytes: Uint8Array) => void
  digest: () => Promise<Uint8Array>
}

export function toHex (bytes: Uint8Array): string {
  return toString(bytes, 'base16')
}

export function fromHex (hex: string): Uint8Array {
  return fromString(hex, 'base16')
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

interface NodeHash { update: (bytes: Uint8Array) => NodeHash, digest: () => Uint8Array }

/**
 * Node's own SHA-256 (OpenSSL, synchronous), reached without an import so the
 * page's bundle never sees `node:crypto`. Undefined in a browser.
 */
const nodeCreateHash: ((algorithm: 'sha256') => NodeHash) | undefined = (() => {
  try {
    const get = (globalThis as any).process?.getBuiltinModule
    return typeof get === 'function' ? get('node:crypto')?.createHash : undefined
  } catch {
    return undefined
  }
})()

/**
 * SHA-256 of one buffer. In Node it is OpenSSL, called synchronously (WebCrypto
 * there costs a thread-pool round trip per call, which a chunk loop waits on);
 * in a browser WebCrypto, native and about ten times faster than JavaScript.
 */
export async function sha256Once (bytes: Uint8Array): Promise<Uint8Array> {
  if (nodeCreateHash != null) return new Uint8Array(nodeCreateHash('sha256').update(bytes).digest())
  const s = subtle()
  if (s != null) return new Uint8Array(await s.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return sha256(bytes)
}

/**
 * Incremental SHA-256 for content too large to hash in one WebCrypto call:
 * Node's own where there is one; in a browser hash-wasm's WebAssembly (about
 * four times faster than @noble/hashes there, WebCrypto having no incremental
 * form); JavaScript as the last resort.
 */
export async function sha256Stream (): Promise<Sha256Stream> {
  if (nodeCreateHash != null) {
    const h = nodeCreateHash('sha256')
    return {
      update: (bytes) => { h.update(bytes) },
      digest: async () => new Uint8Array(h.digest())
    }
  }
  try {
    const h = await createSHA256()
    h.init()
    return {
      update: (bytes) => { h.update(bytes) },
      digest: async () => h.digest('binary')
    }
  } catch {
    // no WebAssembly here
  }
  const h = sha256.create()
  return {
    update: (bytes) => { h.update(bytes) },
    digest: async () => h.digest()
  }
}
