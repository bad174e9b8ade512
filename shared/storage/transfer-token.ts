import { InvalidSignatureError } from '../errors.ts'
import { decodeSignedJson, expectHex, expectLiteral, expectNumber, expectPeerId, expectRecord, expectSha256, signJson, verifySigned } from '../wire/index.ts'
import { InvalidTokenError } from './errors.ts'
import { validateObjectPath } from './object-path.ts'
import type { SignedKind, UnverifiedSigned } from '../wire/index.ts'
import type { PrivateKey } from '@libp2p/interface'

export type TokenOperation = 'read' | 'write'

/**
 * A transfer token: the issuer (the object's uploader, later also Concent)
 * lets one peer read or write one object until `exp`. It travels as a
 * signed envelope (shared/wire) whose signer must be `iss`.
 */
export interface TransferTokenClaims {
  v: 1
  /** Issuer's peer ID: the drive's owner, or an arbiter the relay trusts. */
  iss: string
  /** Grantee's peer ID, or `*` (ANYONE): whoever holds the token, for a read token only. */
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
  /** The signed envelope (parsed, its signer checked to be `iss`, its signature not yet). */
  signed: UnverifiedSigned<TransferTokenClaims>
}

/** The grantee of a token anyone holding it may use (a public share link's): read tokens only. */
export const ANYONE = '*'

/** Longest token we parse. */
export const MAX_TOKEN_LENGTH = 4096

/** Clocks may drift: a token is honoured this long past `exp`. */
export const TOKEN_CLOCK_SKEW = 60_000

/** A token is a signed envelope of its own kind: its signature never passes for any other signed message. */
const TOKEN_KIND: SignedKind = { domain: 'golem-clay-storage', type: 'transfer-token' }

export interface IssueTokenInit {
  /** A peer ID, or ANYONE (read tokens only). */
  grantee: string
  op: TokenOperation
  drive: string
  path: string
  sha256?: string
  /** Lifetime in ms. @default 1 hour */
  ttl?: number
  now?: number
}

/** Every failure of a token is an InvalidTokenError, saying what is wrong. */
function tokenError (err: unknown): InvalidTokenError {
  if (err instanceof InvalidTokenError) return err
  if (err instanceof InvalidSignatureError) return new InvalidTokenError(`The token signature does not verify: ${err.message}`)
  return new InvalidTokenError(`The token is malformed: ${(err as Error).message}`)
}

/** Signs a token with the issuer's libp2p key; its text is base64url, safe in an address. */
export async function issueToken (key: PrivateKey, init: IssueTokenInit): Promise<string> {
  const now = init.now ?? Date.now()
  const claims: TransferTokenClaims = {
    v: 1,
    iss: key.publicKey.toString(),
    sub: init.grantee,
    op: init.op,
    drive: init.drive,
    path: init.path,
    ...(init.sha256 != null ? { sha256: init.sha256 } : {}),
    exp: now + (init.ttl ?? 3_600_000),
    iat: now
  }
  try {
    validateClaims(claims)
    return await signJson(key, TOKEN_KIND, claims, MAX_TOKEN_LENGTH)
  } catch (err) {
    throw tokenError(err)
  }
}

/** Parses a token's text and checks it names its signer as issuer; says nothing yet about whether it is valid. */
export function decodeToken (text: string): TransferToken {
  try {
    const signed = decodeSignedJson(text, TOKEN_KIND, validateClaims, { maxLength: MAX_TOKEN_LENGTH, signerOf: c => c.iss })
    return { claims: signed.body, signed }
  } catch (err) {
    throw tokenError(err)
  }
}

function validateClaims (value: unknown): TransferTokenClaims {
  const obj = expectRecord(value, 'token')
  expectLiteral(obj, 'v', [1])
  const claims: TransferTokenClaims = {
    v: 1,
    iss: expectPeerId(obj, 'iss'),
    sub: obj.sub === ANYONE ? ANYONE : expectPeerId(obj, 'sub'),
    op: expectLiteral(obj, 'op', ['read', 'write'] as const),
    drive: expectHex(obj, 'drive', 32),
    path: validateObjectPath(obj.path),
    exp: expectNumber(obj, 'exp'),
    iat: expectNumber(obj, 'iat')
  }
  if (obj.sha256 != null) claims.sha256 = expectSha256(obj, 'sha256')
  // a write token for anyone would let strangers fill the owner's quota
  if (claims.sub === ANYONE && claims.op !== 'read') throw new InvalidTokenError('Only a read token may be for anyone')
  return claims
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
  if (c.sub !== ANYONE && c.sub !== check.holder) throw new InvalidTokenError('The token was issued to another peer')
  if (c.op !== check.op) throw new InvalidTokenError(`The token allows ${c.op}, not ${check.op}`)
  if (c.drive !== check.drive || c.path !== check.path) throw new InvalidTokenError('The token is for another object')
  if (c.sha256 != null && check.sha256 != null && c.sha256 !== check.sha256) throw new InvalidTokenError('The token is for other content at this path')
  if (c.op === 'read' && c.sha256 == null) throw new InvalidTokenError('A read token must name the content hash')
  if (now > c.exp + TOKEN_CLOCK_SKEW) throw new InvalidTokenError('The token has expired')
  if (c.iat > now + TOKEN_CLOCK_SKEW) throw new InvalidTokenError('The token was issued in the future')
  try {
    await verifySigned(token.signed)
  } catch (err) {
    throw tokenError(err)
  }
  return c
}
