import { fromString } from 'uint8arrays/from-string'
import { InvalidMessageError } from '../errors.ts'

/**
 * Schema checks for decoded JSON, shared by every codec. Each reads one
 * field of an object and returns it typed, or throws InvalidMessageError
 * naming the field; a codec maps that to its own protocol error where it
 * has one (storage's StorageProtocolError, a token's InvalidTokenError).
 */
export type Fields = Record<string, unknown>

/** Checks one list item; `what` names it in the error, e.g. `"roles[2]"`. */
export type ItemCheck<T> = (value: unknown, what: string) => T

/** Longest peer ID text accepted (an Ed25519 one is 52 characters). */
export const MAX_PEER_ID_LENGTH = 128

const HEX = /^[0-9a-f]*$/

export function isRecord (value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function expectRecord (value: unknown, what: string): Fields {
  if (!isRecord(value)) throw new InvalidMessageError(`${what} must be an object`)
  return value
}

function checkString (value: unknown, what: string, maxLength: number): string {
  if (typeof value !== 'string') throw new InvalidMessageError(`${what} must be a string`)
  if (value.length > maxLength) throw new InvalidMessageError(`${what} is longer than ${maxLength} characters`)
  return value
}

function checkLiteral<T extends string | number> (value: unknown, what: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new InvalidMessageError(`${what} must be one of ${allowed.join(', ')}`)
  return value as T
}

export function expectString (obj: Fields, key: string, maxLength: number): string {
  return checkString(obj[key], `"${key}"`, maxLength)
}

/** A finite number, within `min..max` when given. */
export function expectNumber (obj: Fields, key: string, min = -Infinity, max = Infinity): number {
  const value = obj[key]
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidMessageError(`"${key}" must be a finite number`)
  if (value < min || value > max) throw new InvalidMessageError(`"${key}" must be within ${min}..${max}`)
  return value
}

/** A safe integer in `min..max`: counts, sizes, times, sequence numbers. */
export function expectInt (obj: Fields, key: string, min: number, max: number): number {
  const value = expectNumber(obj, key)
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidMessageError(`"${key}" must be an integer in ${min}..${max}`)
  return value
}

export function expectBoolean (obj: Fields, key: string): boolean {
  const value = obj[key]
  if (typeof value !== 'boolean') throw new InvalidMessageError(`"${key}" must be a boolean`)
  return value
}

export function expectLiteral<T extends string | number> (obj: Fields, key: string, allowed: readonly T[]): T {
  return checkLiteral(obj[key], `"${key}"`, allowed)
}

/** Lowercase hex of `minBytes..maxBytes` bytes. */
export function isHex (value: unknown, minBytes: number, maxBytes = minBytes): value is string {
  return typeof value === 'string' && value.length % 2 === 0 && value.length >= minBytes * 2 && value.length <= maxBytes * 2 && HEX.test(value)
}

/** A SHA-256 digest (or a 32-byte key) as 64 lowercase hex characters. */
export function isSha256Hex (value: unknown): value is string {
  return isHex(value, 32)
}

export function expectHex (obj: Fields, key: string, minBytes: number, maxBytes = minBytes): string {
  const value = checkString(obj[key], `"${key}"`, maxBytes * 2)
  if (!isHex(value, minBytes, maxBytes)) {
    throw new InvalidMessageError(minBytes === maxBytes ? `"${key}" must be ${minBytes * 2} lowercase hex characters` : `"${key}" must be ${minBytes}..${maxBytes} bytes of lowercase hex`)
  }
  return value
}

export function expectSha256 (obj: Fields, key: string): string {
  return expectHex(obj, key, 32)
}

/** A peer ID as text, checked for length only: readers compare it, and parse it only when they must. */
export function expectPeerId (obj: Fields, key: string): string {
  return expectString(obj, key, MAX_PEER_ID_LENGTH)
}

/** Bytes sent as standard base64, at most `maxBytes` of them (the text's length is checked before decoding). */
export function expectBase64 (obj: Fields, key: string, maxBytes: number): Uint8Array {
  const text = checkString(obj[key], `"${key}"`, Math.ceil(maxBytes / 3) * 4)
  let bytes: Uint8Array
  try {
    bytes = fromString(text, 'base64')
  } catch {
    throw new InvalidMessageError(`"${key}" is not base64`)
  }
  if (bytes.byteLength > maxBytes) throw new InvalidMessageError(`"${key}" holds more than ${maxBytes} bytes`)
  return bytes
}

/** A list of at most `maxItems`, each passed through `item`. */
export function expectList<T> (obj: Fields, key: string, maxItems: number, item: ItemCheck<T>): T[] {
  const value = obj[key]
  if (!Array.isArray(value)) throw new InvalidMessageError(`"${key}" must be a list`)
  if (value.length > maxItems) throw new InvalidMessageError(`"${key}" lists more than ${maxItems} items`)
  return value.map((v, i) => item(v, `"${key}[${i}]"`))
}

/** List items: strings of at most `maxLength`. */
export function stringItem (maxLength: number): ItemCheck<string> {
  return (value, what) => checkString(value, what, maxLength)
}

/** List items: one of `allowed`. */
export function literalItem<T extends string | number> (allowed: readonly T[]): ItemCheck<T> {
  return (value, what) => checkLiteral(value, what, allowed)
}

export function expectStringList (obj: Fields, key: string, maxItems: number, maxLength: number): string[] {
  return expectList(obj, key, maxItems, stringItem(maxLength))
}
