import { GolemClayError, InternalError } from '../errors.ts'

/** An error as it crosses the wire (or a worker boundary): the peer's own class is never trusted, only looked up. */
export interface WireError {
  /** Stable code of the error (absent from peers of older versions, which sent the name only). */
  code?: string
  name: string
  message: string
}

export type ErrorClass = new (message: string) => GolemClayError

/** What we tell the other side about `err`: typed errors as they are, anything else as an internal error with no details. */
export function errorToWire (err: unknown): WireError {
  if (err instanceof GolemClayError) return { code: err.code, name: err.name, message: err.message }
  return { code: 'INTERNAL', name: 'InternalError', message: 'The peer could not complete the request' }
}

/**
 * The classes one protocol expects errors of, looked up by code (or, from
 * older peers, by name) through maps, never the prototype chain: a name
 * like `constructor` from the wire selects nothing.
 */
export class ErrorTable {
  private readonly byCode = new Map<string, ErrorClass>()
  private readonly byName = new Map<string, ErrorClass>()

  constructor (classes: ErrorClass[], private readonly fallback: ErrorClass = InternalError) {
    for (const C of classes) {
      const sample = new C('')
      this.byCode.set(sample.code, C)
      this.byName.set(sample.name, C)
    }
  }

  /** Rebuilds the typed error; anything unknown becomes the fallback class, keeping the peer's words. */
  fromWire (wire: WireError): GolemClayError {
    const C = (wire.code != null ? this.byCode.get(wire.code) : undefined) ?? this.byName.get(wire.name)
    if (C != null) return new C(wire.message)
    return new this.fallback(`${wire.name}: ${wire.message}`)
  }
}
