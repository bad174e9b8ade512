import { describe, expect, it } from 'vitest'
import { ChunkCorruptedError, errorFromWire, errorToWire, StorageError, StorageQuotaExceededError, TooManyUploadsError } from './errors.ts'

describe('storage errors on the wire', () => {
  it('rebuild the named class, and nothing that is not one', () => {
    expect(errorFromWire({ name: 'StorageQuotaExceededError', message: 'full' })).toBeInstanceOf(StorageQuotaExceededError)
    expect(errorFromWire({ code: 'STORAGE_QUOTA_EXCEEDED', name: 'whatever', message: 'full' })).toBeInstanceOf(StorageQuotaExceededError)
    // anything not a typed error goes out with no details
    expect(errorToWire(new Error('secret path /home/relay'))).toEqual({ code: 'INTERNAL', name: 'InternalError', message: 'The peer could not complete the request' })
    const again = errorFromWire(errorToWire(new TooManyUploadsError('wait')))
    expect(again).toBeInstanceOf(TooManyUploadsError)
    expect(again.retryable).toBe(true)
    expect(errorFromWire({ name: 'ChunkCorruptedError', message: 'x', offset: 42 })).toMatchObject({ offset: 42 })
    expect(errorFromWire({ name: 'ChunkCorruptedError', message: 'x' })).toBeInstanceOf(ChunkCorruptedError)
    // names that only the prototype chain knows select no class: a plain StorageError, named as sent
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const err = errorFromWire({ name, message: 'sneaky' })
      expect(err).toBeInstanceOf(StorageError)
      expect(err.message).toContain('sneaky')
      expect(String(err)).toContain('sneaky')
    }
  })
})
