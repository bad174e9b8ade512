import { InvalidMessageError, MessageTooLargeError } from '../errors.ts'
import type { Uint8ArrayList } from 'uint8arraylist'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** A schema check: returns the typed value or throws InvalidMessageError. */
export type Validator<T> = (value: unknown) => T

export function encodeJson (value: unknown, maxBytes: number): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(value))
  if (bytes.byteLength > maxBytes) {
    throw new MessageTooLargeError(`Message of ${bytes.byteLength} bytes exceeds the ${maxBytes} byte cap`)
  }
  return bytes
}

/** Decodes one frame; every failure becomes an InvalidMessageError. */
export function decodeJson<T> (frame: Uint8Array | Uint8ArrayList, validate: Validator<T>): T {
  const bytes = frame instanceof Uint8Array ? frame : frame.subarray()
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch (err: any) {
    throw new InvalidMessageError(`Frame is not valid UTF-8 JSON: ${err.message}`)
  }
  return validate(value)
}

export function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function expectRecord (value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new InvalidMessageError(`${what} must be an object`)
  return value
}

export function expectString (obj: Record<string, unknown>, key: string, maxLength: number): string {
  const value = obj[key]
  if (typeof value !== 'string') throw new InvalidMessageError(`"${key}" must be a string`)
  if (value.length > maxLength) throw new InvalidMessageError(`"${key}" is longer than ${maxLength} characters`)
  return value
}

export function expectNumber (obj: Record<string, unknown>, key: string): number {
  const value = obj[key]
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidMessageError(`"${key}" must be a finite number`)
  return value
}

export function expectLiteral<T extends string | number> (obj: Record<string, unknown>, key: string, allowed: readonly T[]): T {
  const value = obj[key] as T
  if (!allowed.includes(value)) throw new InvalidMessageError(`"${key}" must be one of ${allowed.join(', ')}`)
  return value
}
