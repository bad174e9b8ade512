import { sha256 } from '@noble/hashes/sha2.js'

/**
 * Hex SHA-256 of a task module: the key sandbox workers cache compiled
 * modules under, checked by each worker before it caches. WebCrypto when
 * there is one (not on plain-http LAN pages, which are no secure context).
 */
export async function moduleHash (bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle
  const digest = subtle != null
    ? new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
    : sha256(bytes)
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  return hex
}
