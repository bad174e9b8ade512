import { openSignedJson, signJson } from '../wire/index.ts'
import type { Signed, SignedKind, Validator } from '../wire/index.ts'
import type { PrivateKey } from '@libp2p/interface'

/**
 * A market message as it travels and as evidence: a signed envelope
 * (shared/wire/signed.ts) as text, its payload type the kind of message.
 * Messages nest as these texts, so an arbiter can check every layer from
 * the bytes alone.
 */
export type SignedText = string
export type Opened<T> = Signed<T>

/** Longest signed message we parse (a report nests an assignment). */
export const MAX_SIGNED_LENGTH = 64 * 1024

const kinds = new Map<string, SignedKind>()

/** Domain separation: a market signature never passes as a token or a peer record, nor one kind as another. */
function kindOf (type: string): SignedKind {
  let kind = kinds.get(type)
  if (kind == null) kinds.set(type, kind = { domain: 'golem-clay-market', type })
  return kind
}

export async function signMessage (key: PrivateKey, kind: string, body: object): Promise<SignedText> {
  return await signJson(key, kindOf(kind), body, MAX_SIGNED_LENGTH)
}

/**
 * Parses, schema-checks and verifies a signed message; `signerOf` says which
 * field names the author, who must be the signer. InvalidMessageError when
 * malformed, InvalidSignatureError for a signature, kind or signer that
 * does not check out.
 */
export async function openMessage<T> (text: unknown, kind: string, validate: Validator<T>, signerOf: (body: T) => string): Promise<Opened<T>> {
  return await openSignedJson(text, kindOf(kind), validate, { maxLength: MAX_SIGNED_LENGTH, signerOf })
}
