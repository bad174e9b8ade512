import { peerIdFromString } from '@libp2p/peer-id'
import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'
import { expectLiteral, expectNumber, expectRecord, expectString } from '../util/index.ts'
import { isSha256Hex } from './digest.ts'
import { InvalidTokenError } from './errors.ts'
import { validateObjectPath } from './object-path.ts'
import type { PrivateKey } from '@libp2p/interface'
import { InvalidMessageError } from '../errors.ts'

export type TokenOperation = 'read' | 'write'

/**
 * A transfer token: the issuer (the object's uploader, later also Concent)
 * lets one peer read or write one object until `exp`. The relay checks the
 * signature with the issuer's public key, which an Ed25519 peer ID carries.
 */
export interface TransferTokenClaims {
  v: 1
  /** Issuer's peer ID: the drive's owner, or an arbiter the relay trusts. */
  iss: string
  /** Grantee's peer ID. */
  sub: string
  op: TokenOperation
  /** Drive key (hex). */
  drive: string
  path: string
  /** The content the token is for; a write token may leave it open. */
  sha256?: string
  /** Expiry, ms since the epoch. */
  exp: number
  /** Issued at, ms since the epoch. */
  iat: number
}

export interface TransferToken {
  claims: TransferTokenClaims
  /** The exact bytes that were signed (the JSON as issued). */
  payload: Uint8Array
  signature: Uint8Array
}

/** Longest token we parse. */
export const MAX_TOKEN_LENGTH = 4096

/** Clocks may drift: a token is honoured this long past `exp`. */
export const TOKEN_CLOCK_SKEW = 60_000

/** Domain separation: a token signature can never pass for any other signed message. */
const CONTEXT = new TextEncoder().encode('golem-clay/transfer-token/v1\n')

function signedBytes (payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONTEXT.byteLength + payload.byteLength)
  out.set(CONTEXT)
  out.set(payload, CONTEXT.byteLength)
  return out
}

export interface IssueTokenInit {
  grantee: string
  op: TokenOperation
  drive: string
  path: string
  sha256?: string
  /** Lifetime in ms. @default 1 hour */
  ttl?: number
  now?: number
}

/** Signs a token with the issuer's libp2p key. */
export async function issueToken (key: PrivateKey, init: IssueTokenInit): Promise<string> {
  const now = init.now ?? Date.now()
  const claims: TransferTokenClaims = {
    v: 1,
    iss: peerIdFromPublicKeyString(key),
    sub: init.grantee,
    op: init.op,
    drive: init.drive,
    path: init.path,
    ...(init.sha256 != null ? { sha256: init.sha256 } : {}),
    exp: now + (init.ttl ?? 3_600_000),
    iat: now
  }
  validateClaims(claims)
  const payload = new TextEncoder().encode(JSON.stringify(claims))
  const signature = await key.sign(signedBytes(payload))
  return `${toString(payload, 'base64url')}.${toString(signature, 'base64url')}`
}

function peerIdFromPublicKeyString (key: PrivateKey): string {
  return key.publicKey.toString()
}

/** Parses a token's text; says nothing yet about whether it is valid. */
export function decodeToken (text: string): TransferToken {
  if (typeof text !== 'string' || text.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('The token is missing or too long')
  const parts = text.split('.')
  if (parts.length !== 2) throw new InvalidTokenError('The token is malformed')
  let payload: Uint8Array
  let signature: Uint8Array
  let value: unknown
  try {
    payload = fromString(parts[0] as string, 'base64url')
    signature = fromString(parts[1] as string, 'base64url')
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload))
  } catch {
    throw new InvalidTokenError('The token is malformed')
  }
  return { claims: validateClaims(value), payload, signature }
}

function validateClaims (value: unknown): TransferTokenClaims {
  try {
    const obj = expectRecord(value, 'token')
    expectLiteral(obj, 'v', [1])
    const claims: TransferTokenClaims = {
      v: 1,
      iss: expectString(obj, 'iss', 128),
      sub: expectString(obj, 'sub', 128),
      op: expectLiteral(obj, 'op', ['read', 'write'] as const),
      drive: expectString(obj, 'drive', 64),
      path: validateObjectPath(obj.path),
      exp: expectNumber(obj, 'exp'),
      iat: expectNumber(obj, 'iat')
    }
    if (obj.sha256 != null) {
      if (!isSha256Hex(obj.sha256)) throw new InvalidMessageError('"sha256" must be 64 hex characters')
      claims.sha256 = obj.sha256
    }
    if (!/^[0-9a-f]{64}$/.test(claims.drive)) throw new InvalidMessageError('"drive" must be 64 hex characters')
    return claims
  } catch (err: any) {
    throw new InvalidTokenError(`The token is malformed: ${err.message}`)
  }
}

export interface TokenCheck {
  /** The peer presenting the token. */
  holder: string
  op: TokenOperation
  drive: string
  path: string
  /** The object's actual content hash, when it exists already. */
  sha256?: string
  /** Peer IDs whose tokens count for this object: its owner, plus trusted arbiters. */
  issuers: string[]
  now?: number
}

/**
 * Verifies signature, expiry and that the token names exactly this object,
 * operation and holder. Throws InvalidTokenError saying what is wrong.
 */
export async function verifyToken (text: string, check: TokenCheck): Promise<TransferTokenClaims> {
  const token = decodeToken(text)
  const c = token.claims
  const now = check.now ?? Date.now()
  if (!check.issuers.includes(c.iss)) throw new InvalidTokenError('The token is not signed by the object\'s owner')
  if (c.sub !== check.holder) throw new InvalidTokenError('The token was issued to another peer')
  if (c.op !== check.op) throw new InvalidTokenError(`The token allows ${c.op}, not ${check.op}`)
  if (c.drive !== check.drive || c.path !== check.path) throw new InvalidTokenError('The token is for another object')
  if (c.sha256 != null && check.sha256 != null && c.sha256 !== check.sha256) throw new InvalidTokenError('The token is for other content at this path')
  if (c.op === 'read' && c.sha256 == null) throw new InvalidTokenError('A read token must name the content hash')
  if (now > c.exp + TOKEN_CLOCK_SKEW) throw new InvalidTokenError('The token has expired')
  if (c.iat > now + TOKEN_CLOCK_SKEW) throw new InvalidTokenError('The token was issued in the future')
  let ok = false
  try {
    const issuer = peerIdFromString(c.iss)
    if (issuer.publicKey == null) throw new InvalidTokenError('no inline key')
    ok = await issuer.publicKey.verify(signedBytes(token.payload), token.signature)
  } catch {
    throw new InvalidTokenError('The token issuer\'s key cannot be read from its peer ID')
  }
  if (!ok) throw new InvalidTokenError('The token signature does not verify')
  return c
}
