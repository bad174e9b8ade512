import { InvalidMessageError, MessageTooLargeError } from '../errors.ts'
import type { Uint8ArrayList } from 'uint8arraylist'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** A schema check: returns the typed value or throws InvalidMessageError. */
export type Validator<T> = (value: unknown) => T

/** One JSON frame, refused before it leaves if it is over the protocol's cap. */
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
