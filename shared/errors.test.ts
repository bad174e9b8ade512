import { describe, expect, it } from 'vitest'
import * as compute from './compute/errors.ts'
import * as base from './errors.ts'
import * as hashcash from './hashcash/errors.ts'
import * as peerRecord from './local-node/peer-record.ts'
import * as market from './market/market-errors.ts'
import * as msgQueue from './msg-queue/msg-queue.ts'
import * as payments from './payments/payment-errors.ts'
import * as relayAddresses from './p2p-service/relay-addresses.ts'
import * as relayStatus from './p2p-service/relay-status.ts'
import * as disconnect from './peer-session/disconnect.ts'
import * as handshake from './peer-session/handshake.ts'
import * as storage from './storage/errors.ts'
import { ErrorTable, errorToWire } from './wire/index.ts'

const modules = { base, compute, hashcash, peerRecord, market, msgQueue, payments, relayAddresses, relayStatus, disconnect, handshake, storage }

/** Every error class the modules export, made with the arguments its constructor takes. */
function errorClasses (): Array<[string, Error]> {
  const out: Array<[string, Error]> = []
  const seen = new Set<unknown>()
  for (const mod of Object.values(modules)) {
    for (const [name, value] of Object.entries(mod)) {
      // a class a part re-exports (the market's InvalidSignatureError is the wire's) counts once
      if (typeof value !== 'function' || !(value.prototype instanceof Error) || seen.has(value)) continue
      seen.add(value)
      const make = value as unknown as new (...args: unknown[]) => Error
      const instance = name === 'HandshakeError' ? new make('BadProtocol', undefined, 'x') : name === 'SessionClosedError' || name === 'SessionRefusedError' ? new make('Timeout', false, 'x') : new make('x')
      out.push([name, instance])
    }
  }
  return out
}

describe('errors', () => {
  it('every one is a GolemClayError with its class name and a stable code of its own', () => {
    const classes = errorClasses()
    expect(classes.length).toBeGreaterThan(50)
    const codes = new Map<string, string>()
    for (const [name, err] of classes) {
      expect(err, name).toBeInstanceOf(base.GolemClayError)
      expect(err.name).toBe(name)
      const { code, retryable } = err as base.GolemClayError
      expect(code, name).toMatch(/^[A-Z][A-Z0-9_]+$/)
      expect(typeof retryable).toBe('boolean')
      expect(codes.get(code), `${name} and ${codes.get(code) ?? ''} share ${code}`).toBeUndefined()
      codes.set(code, name)
    }
  })

  it('cross the wire by code, and a name from the wire selects nothing outside the table', () => {
    const table = new ErrorTable([storage.StorageQuotaExceededError, market.UnknownTaskError], storage.StorageError)
    const wire = errorToWire(new market.UnknownTaskError('gone'))
    expect(wire).toEqual({ code: 'UNKNOWN_TASK', name: 'UnknownTaskError', message: 'gone' })
    expect(table.fromWire(wire)).toBeInstanceOf(market.UnknownTaskError)
    for (const name of ['constructor', '__proto__', 'toString']) {
      const err = table.fromWire({ code: name, name, message: 'm' })
      expect(err.constructor).toBe(storage.StorageError)
    }
    expect(errorToWire(new TypeError('internal detail'))).toMatchObject({ code: 'INTERNAL', message: expect.not.stringContaining('internal detail') })
  })
})
