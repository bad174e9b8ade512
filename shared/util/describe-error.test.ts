import { describe, expect, it } from 'vitest'
import { describeError } from './describe-error.ts'

describe('describeError', () => {
  it('turns a bare WebSocket error Event into words, never "[object Event]"', () => {
    const text = describeError(new Event('error'))
    expect(text).toBe('the connection failed (refused, dropped or blocked)')
    expect(text).not.toContain('[object')
  })

  it('reads an event-like object (no Event global needed) and a close event with its code', () => {
    expect(describeError({ type: 'error', target: {} })).toBe('the connection failed (refused, dropped or blocked)')
    expect(describeError({ type: 'close', target: {}, code: 1006, reason: '' })).toBe('the connection closed (code 1006)')
    expect(describeError({ type: 'close', target: {}, code: 4000, reason: 'bye' })).toBe('the connection closed (code 4000: bye)')
  })

  it('keeps an ErrorEvent message and an Error message', () => {
    expect(describeError({ type: 'error', target: {}, message: 'net::ERR_CONNECTION_REFUSED' })).toBe('net::ERR_CONNECTION_REFUSED')
    expect(describeError(new Error('dial refused'))).toBe('dial refused')
  })

  it('unwraps AggregateError and names timeouts', () => {
    expect(describeError(new AggregateError([new Event('error'), new Error('second')], 'All promises were rejected'))).toContain('connection failed')
    expect(describeError(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }))).toBe('timed out')
    expect(describeError(new DOMException('signal timed out', 'TimeoutError'))).toBe('timed out')
  })

  it('never shows "[object …]" or an empty string for odd values', () => {
    for (const value of [undefined, null, '', {}, { message: '[object Event]' }, new Error(''), Object.create(null)]) {
      const text = describeError(value)
      expect(text).not.toBe('')
      expect(text).not.toContain('[object')
    }
    expect(describeError('plain text')).toBe('plain text')
    expect(describeError(42)).toBe('42')
    const named = new Error('')
    named.name = 'NoValidAddressesError'
    expect(describeError(named)).toBe('NoValidAddressesError')
  })
})
