import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { InvalidMessageError } from '../errors.ts'
import { webCryptoPreferred } from '../storage/index.ts'
import { InvalidSignatureError } from './market-errors.ts'
import type { Validator } from '../util/index.ts'
import type { PrivateKey } from '@libp2p/interface'

/**
 * A market message as it travels and as evidence: `<payload>.<signature>`,
 * both base64url, the payload being the author's JSON exactly as signed.
 * Messages nest as these strings, so an arbiter can check every layer
 * from the bytes alone.
 */
export type SignedText = string

export interface Opened<T> {
  body: T
  signer: string
  text: SignedText
}

/** Longest signed message we parse (a report nests an assignment). */
export const MAX_SIGNED_LENGTH = 64 * 1024

const encoder = new TextEncoder()

/**
 * Signatures already checked, by kind, signer and exact text: the same
 * header arrives with every assignment, and assignments and reports come
 * back nested in reports and verdicts. Each is verified once; a repeat only
 * parses and schema-checks. Small texts only, so the cache stays small.
 */
const verified = new Map<string, true>()
const VERIFIED_MAX = 512
const VERIFIED_MAX_TEXT = 16 * 1024

function remember (key: string): void {
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string)
  verified.set(key, true)
}

/** Domain separation: a signature for one kind can't pass as another kind or as a token. */
function signedBytes (kind: string, payload: Uint8Array): Uint8Array {
  const context = encoder.encode(`golem-clay/market/${kind}/v1\n`)
  const out = new Uint8Array(context.byteLength + payload.byteLength)
  out.set(context)
  out.set(payload, context.byteLength)
  return out
}

interface Signer { peer: string, sign: (data: Uint8Array) => Promise<Uint8Array> }

const signers = new WeakMap<PrivateKey, Promise<Signer>>()

/**
 * A browser's libp2p key imports itself into WebCrypto on every signature
 * (about half the cost of signing); import it once, not extractable. Node
 * signs synchronously with OpenSSL, which beats WebCrypto's thread hop.
 */
async function signerOf (key: PrivateKey): Promise<Signer> {
  const peer = peerIdFromPrivateKey(key).toString()
  const subtle = globalThis.crypto?.subtle
  if (key.type === 'Ed25519' && subtle != null && webCryptoPreferred()) {
    try {
      const jwk = { crv: 'Ed25519', kty: 'OKP', x: toString(key.publicKey.raw, 'base64url'), d: toString(key.raw.subarray(0, 32), 'base64url') }
      const cryptoKey = await subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign'])
      return { peer, sign: async (data) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, cryptoKey, data as Uint8Array<ArrayBuffer>)) }
    } catch {}
  }
  return { peer, sign: async (data) => await key.sign(data) }
}

export async function signMessage (key: PrivateKey, kind: string, body: object): Promise<SignedText> {
  let signer = signers.get(key)
  if (signer == null) {
    signer = signerOf(key)
    signers.set(key, signer)
  }
  const { peer, sign } = await signer
  const payload = encoder.encode(JSON.stringify(body))
  const signature = await sign(signedBytes(kind, payload))
  const text = `${toString(payload, 'base64url')}.${toString(signature, 'base64url')}`
  if (text.length > MAX_SIGNED_LENGTH) throw new InvalidMessageError(`Signed ${kind} of ${text.length} characters exceeds ${MAX_SIGNED_LENGTH}`)
  // our own messages come back nested (assignments in reports, reports in verdicts): no need to verify them then
  if (text.length <= VERIFIED_MAX_TEXT) remember(`${kind}\n${peer}\n${text}`)
  return text
}

/**
 * Parses, schema-checks and verifies a signed message; `signerOf` says which
 * field names the author, whose peer ID (Ed25519, key inline) must verify it.
 */
export async function openMessage<T> (text: unknown, kind: string, validate: Validator<T>, signerOf: (body: T) => string): Promise<Opened<T>> {
  if (typeof text !== 'string' || text.length > MAX_SIGNED_LENGTH) throw new InvalidMessageError(`Signed ${kind} missing or too long`)
  const parts = text.split('.')
  if (parts.length !== 2) throw new InvalidMessageError(`Signed ${kind} is malformed`)
  let payload: Uint8Array
  let signature: Uint8Array
  let value: unknown
  try {
    payload = fromString(parts[0] as string, 'base64url')
    signature = fromString(parts[1] as string, 'base64url')
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload))
  } catch {
    throw new InvalidMessageError(`Signed ${kind} is malformed`)
  }
  const body = validate(value)
  const signer = signerOf(body)
  const cacheKey = text.length <= VERIFIED_MAX_TEXT ? `${kind}\n${signer}\n${text}` : undefined
  if (cacheKey != null && verified.has(cacheKey)) {
    // least recently used goes first: the task header, checked again with every assignment request, stays
    verified.delete(cacheKey)
    verified.set(cacheKey, true)
    return { body, signer, text }
  }
  let ok = false
  try {
    const key = peerIdFromString(signer).publicKey
    if (key == null) throw new InvalidSignatureError('no inline key')
    ok = await key.verify(signedBytes(kind, payload), signature)
  } catch {
    throw new InvalidSignatureError(`The ${kind} names a signer whose key can't be read: ${signer}`)
  }
  if (!ok) throw new InvalidSignatureError(`The ${kind} signature does not verify`)
  if (cacheKey != null) remember(cacheKey)
  return { body, signer, text }
}
