import { toString } from 'uint8arrays/to-string'
import { webCryptoPreferred } from '../util/index.ts'
import type { PrivateKey } from '@libp2p/interface'

const signers = new WeakMap<PrivateKey, Promise<PrivateKey>>()

/**
 * The key to sign envelopes with. A browser's libp2p Ed25519 key imports
 * itself into WebCrypto on every signature (about half the cost of
 * signing): this one imports it once, not extractable, and otherwise is the
 * same key. Node signs synchronously with OpenSSL, which beats WebCrypto's
 * thread hop, so there the key is used as it is.
 */
export async function signingKey (key: PrivateKey): Promise<PrivateKey> {
  let signer = signers.get(key)
  if (signer == null) {
    signer = webCryptoSigner(key)
    signers.set(key, signer)
  }
  return await signer
}

async function webCryptoSigner (key: PrivateKey): Promise<PrivateKey> {
  const subtle = globalThis.crypto?.subtle
  if (key.type !== 'Ed25519' || subtle == null || !webCryptoPreferred()) return key
  try {
    const jwk = { crv: 'Ed25519', kty: 'OKP', x: toString(key.publicKey.raw, 'base64url'), d: toString(key.raw.subarray(0, 32), 'base64url') }
    const cryptoKey = await subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign'])
    const sign = async (data: Uint8Array): Promise<Uint8Array> => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, cryptoKey, data as Uint8Array<ArrayBuffer>))
    // the same key (type, public key, raw bytes through the prototype) with WebCrypto's sign
    return Object.create(key, { sign: { value: sign } })
  } catch {
    return key
  }
}
