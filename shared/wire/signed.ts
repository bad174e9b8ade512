import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { RecordEnvelope } from '@libp2p/peer-record'
import { equals } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { InvalidMessageError, InvalidSignatureError } from '../errors.ts'
import { signingKey } from './fast-signer.ts'
import type { Validator } from './json.ts'
import type { PrivateKey } from '@libp2p/interface'

/**
 * One signed-message format for every protocol: libp2p's signed envelope
 * (the format of peer records; its protobuf carries the signer's public
 * key, a payload type and the payload). The domain names the protocol and
 * the payload type the kind of message; the signature covers both, so a
 * signature made for one kind never passes as another, nor as anything
 * else libp2p signs. Bodies are JSON. As text (messages nested in messages,
 * tokens users paste) an envelope is base64url of its bytes.
 */
export interface SignedKind {
  /** The protocol that signs, e.g. `golem-clay-market`. */
  readonly domain: string
  /** The kind of message inside that domain, e.g. `task`. */
  readonly type: string
}

export interface Signed<T> {
  body: T
  /** Peer ID of the key that signed, as carried in the envelope. */
  signer: string
  /** The envelope as text, exactly as received: evidence, and what nests in other messages. */
  text: string
}

/** Parsed and schema-checked but not yet verified: see verifySigned. */
export interface UnverifiedSigned<T> extends Signed<T> {
  kind: SignedKind
  envelope: RecordEnvelope
}

export interface DecodeSignedOptions<T> {
  /** Longest text accepted, checked before decoding. */
  maxLength: number
  /** The author the body names: it must be the signer. */
  signerOf?: (body: T) => string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
/** Key types whose peer ID holds the key itself, as every Golem Clay node's does. */
const SIGNER_KEY_TYPES = new Set(['Ed25519', 'secp256k1'])

/**
 * Signatures already checked, per domain, by exact text: a task header comes
 * with every assignment request, and assignments and reports come back nested
 * in reports and verdicts. Each is verified once; a repeat is only parsed and
 * schema-checked. Small texts only, least recently used out first.
 */
const verified = new Map<string, Map<string, true>>()
const VERIFIED_MAX = 512
const VERIFIED_MAX_TEXT = 16 * 1024

function cacheKey (kind: SignedKind, text: string): string | undefined {
  return text.length <= VERIFIED_MAX_TEXT ? `${kind.type}\n${text}` : undefined
}

function remember (kind: SignedKind, key: string): void {
  let domain = verified.get(kind.domain)
  if (domain == null) verified.set(kind.domain, domain = new Map())
  if (domain.size >= VERIFIED_MAX) domain.delete(domain.keys().next().value as string)
  domain.set(key, true)
}

/** Signs `body` as JSON in an envelope of `kind`; returns its text. */
export async function signJson (key: PrivateKey, kind: SignedKind, body: object, maxLength: number): Promise<string> {
  const payload = encoder.encode(JSON.stringify(body))
  const codec = encoder.encode(kind.type)
  const record = { domain: kind.domain, codec, marshal: () => payload, equals: () => false }
  const envelope = await RecordEnvelope.seal(record, await signingKey(key))
  const text = toString(envelope.marshal(), 'base64url')
  if (text.length > maxLength) throw new InvalidMessageError(`Signed ${kind.type} of ${text.length} characters exceeds ${maxLength}`)
  // our own messages come back nested (assignments in reports, reports in verdicts): no need to verify them then
  const k = cacheKey(kind, text)
  if (k != null) remember(kind, k)
  return text
}

/**
 * Parses an envelope's text, checks its kind and its body's schema (and
 * that the body's author signed it), without checking the signature: a
 * reader can refuse on cheap checks first. InvalidMessageError when
 * malformed, InvalidSignatureError for another kind or signer.
 */
export function decodeSignedJson<T> (text: unknown, kind: SignedKind, validate: Validator<T>, options: DecodeSignedOptions<T>): UnverifiedSigned<T> {
  if (typeof text !== 'string' || text.length > options.maxLength) throw new InvalidMessageError(`Signed ${kind.type} missing or too long`)
  let envelope: RecordEnvelope
  try {
    envelope = RecordEnvelope.createFromProtobuf(fromString(text, 'base64url'))
  } catch {
    throw new InvalidMessageError(`Signed ${kind.type} is malformed`)
  }
  if (!equals(envelope.payloadType, encoder.encode(kind.type))) throw new InvalidSignatureError(`Not a signed ${kind.type}: the envelope holds another kind of message`)
  if (!SIGNER_KEY_TYPES.has(envelope.publicKey.type)) throw new InvalidSignatureError(`The ${kind.type} is signed with a ${envelope.publicKey.type} key, not one a peer ID holds`)
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(envelope.payload))
  } catch {
    throw new InvalidMessageError(`Signed ${kind.type} is not JSON`)
  }
  const signer = peerIdFromPublicKey(envelope.publicKey).toString()
  const body = validate(value)
  if (options.signerOf != null && options.signerOf(body) !== signer) {
    throw new InvalidSignatureError(`The ${kind.type} is signed by ${signer}, not by the peer it names`)
  }
  return { body, signer, text, kind, envelope }
}

/** Checks the signature for the envelope's domain; throws InvalidSignatureError. */
export async function verifySigned (signed: UnverifiedSigned<unknown>): Promise<void> {
  const { kind, text, envelope } = signed
  const key = cacheKey(kind, text)
  const domain = verified.get(kind.domain)
  if (key != null && domain?.has(key) === true) {
    // least recently used goes first: the task header, checked again with every assignment request, stays
    domain.delete(key)
    domain.set(key, true)
    return
  }
  let ok = false
  try {
    ok = await envelope.validate(kind.domain)
  } catch {
    throw new InvalidSignatureError(`The ${kind.type} signature cannot be checked`)
  }
  if (!ok) throw new InvalidSignatureError(`The ${kind.type} signature does not verify`)
  if (key != null) remember(kind, key)
}

/** decodeSignedJson, then verifySigned. */
export async function openSignedJson<T> (text: unknown, kind: SignedKind, validate: Validator<T>, options: DecodeSignedOptions<T>): Promise<Signed<T>> {
  const signed = decodeSignedJson(text, kind, validate, options)
  await verifySigned(signed)
  return { body: signed.body, signer: signed.signer, text: signed.text }
}
