import { describe, expect, it } from 'vitest'
import { InvalidMessageError, MessageTooLargeError } from '../errors.ts'
import { decodeJson, encodeJson } from '../wire/index.ts'
import { MAX_MESSAGE_FRAME, MAX_TEXT_LENGTH, validateAckFrame, validateTextFrame } from './message-codec.ts'

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))

describe('message codec', () => {
  it('round-trips a text frame', () => {
    const frame = { v: 1, type: 'text', id: 'abc', text: 'héllo ✓', sentAt: 1700000000000 }
    expect(decodeJson(encodeJson(frame, MAX_MESSAGE_FRAME), validateTextFrame)).toEqual(frame)
  })

  it.each([
    ['not JSON', '{"v":1,'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['an array', []],
    ['null', null],
    ['wrong version', { v: 2, type: 'text', id: 'a', text: 'x', sentAt: 1 }],
    ['wrong type', { v: 1, type: 'ack', id: 'a', text: 'x', sentAt: 1 }],
    ['missing text', { v: 1, type: 'text', id: 'a', sentAt: 1 }],
    ['text not a string', { v: 1, type: 'text', id: 'a', text: 5, sentAt: 1 }],
    ['empty id', { v: 1, type: 'text', id: '', text: 'x', sentAt: 1 }],
    ['oversized text', { v: 1, type: 'text', id: 'a', text: 'x'.repeat(MAX_TEXT_LENGTH + 1), sentAt: 1 }],
    ['non-finite sentAt', { v: 1, type: 'text', id: 'a', text: 'x', sentAt: 'soon' }]
  ])('refuses %s with InvalidMessageError', (_, input) => {
    const bytes = input instanceof Uint8Array ? input : enc(input)
    expect(() => decodeJson(bytes, validateTextFrame)).toThrow(InvalidMessageError)
  })

  it('refuses an ack for the wrong shape', () => {
    expect(() => decodeJson(enc({ v: 1, type: 'text', id: 'a' }), validateAckFrame)).toThrow(InvalidMessageError)
    expect(decodeJson(enc({ v: 1, type: 'ack', id: 'a' }), validateAckFrame).id).toBe('a')
  })

  it('will not encode a frame past the cap', () => {
    expect(() => encodeJson({ text: 'x'.repeat(MAX_MESSAGE_FRAME) }, MAX_MESSAGE_FRAME)).toThrow(MessageTooLargeError)
  })

  it('never throws anything but InvalidMessageError on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 64)))
      try {
        decodeJson(bytes, validateTextFrame)
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidMessageError)
      }
    }
  })
})
