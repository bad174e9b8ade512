import { describe, expect, it } from 'vitest'
import { InvalidMessageError, MessageTooLargeError } from '../errors.ts'
import { decodeJson, encodeJson } from './json.ts'
import {
  expectBase64, expectBoolean, expectHex, expectInt, expectList, expectLiteral, expectNumber, expectPeerId, expectRecord,
  expectSha256, expectString, expectStringList, isHex, isSha256Hex, literalItem, MAX_PEER_ID_LENGTH
} from './validators.ts'
import type { Fields } from './validators.ts'

const SHA = 'ab'.repeat(32)

/** Each check, a value it takes and values it refuses, all as field `x`. */
const CASES: Array<[string, (obj: Fields) => unknown, unknown, unknown[]]> = [
  ['a string', o => expectString(o, 'x', 3), 'abc', [undefined, null, 1, ['a'], 'abcd']],
  ['a number', o => expectNumber(o, 'x'), -1.5, ['1', NaN, Infinity, null]],
  ['a number in range', o => expectNumber(o, 'x', 0, 1), 0.5, [-0.1, 1.1]],
  ['an integer in range', o => expectInt(o, 'x', 1, 10), 10, [0, 11, 1.5, '5', 2 ** 53, NaN]],
  ['a boolean', o => expectBoolean(o, 'x'), false, [0, 'true', null]],
  ['a literal', o => expectLiteral(o, 'x', ['a', 'b']), 'b', ['c', 'constructor', 'toString', 1, null]],
  ['hex of 2..4 bytes', o => expectHex(o, 'x', 2, 4), 'a0b1c2', ['a0b', 'a0', 'A0B1', 'a0b1c2d3e4', 'zzzz', 1234]],
  ['a SHA-256', o => expectSha256(o, 'x'), SHA, [SHA.toUpperCase(), SHA.slice(2), `${SHA}00`, `${SHA.slice(1)}g`]],
  ['a peer ID', o => expectPeerId(o, 'x'), '12D3KooWMiQvBSMSmWPzaKUnC1zMUJ5xsFM8hsPs3nZqi9AAmsF2', ['x'.repeat(MAX_PEER_ID_LENGTH + 1), 5]],
  ['base64 bytes', o => expectBase64(o, 'x', 3), 'AQID', ['AQIDBA', '!!!!', 7]],
  ['a string list', o => expectStringList(o, 'x', 2, 2), ['a', 'bc'], [['a', 'b', 'c'], ['abc'], [1], 'ab', { 0: 'a' }]],
  ['a list of literals', o => expectList(o, 'x', 3, literalItem(['tab', 'relay'])), ['tab', 'tab'], [['node'], ['tab', 'tab', 'tab', 'tab'], null]]
]

describe('wire validators', () => {
  it.each(CASES)('take %s', (_what, check, good) => {
    expect(() => check({ x: good })).not.toThrow()
  })

  it.each(CASES)('refuse anything but %s with InvalidMessageError naming the field', (_what, check, _good, bad) => {
    for (const value of bad) {
      expect(() => check({ x: value }), String(value)).toThrow(InvalidMessageError)
      expect(() => check({ x: value }), String(value)).toThrow(/"x/)
    }
  })

  it('return what they checked, typed', () => {
    expect(expectBase64({ x: 'AQID' }, 'x', 3)).toEqual(new Uint8Array([1, 2, 3]))
    expect(expectList({ x: [{ n: 1 }, { n: 2 }] }, 'x', 2, (item, what) => expectInt(expectRecord(item, what), 'n', 0, 9))).toEqual([1, 2])
    expect(() => expectList({ x: [{ n: 1 }, 'no'] }, 'x', 2, (item, what) => expectRecord(item, what))).toThrow(/"x\[1\]" must be an object/)
  })

  it('tell hex and digests apart without throwing', () => {
    expect(isSha256Hex(SHA)).toBe(true)
    expect(isSha256Hex(SHA.toUpperCase())).toBe(false)
    expect(isSha256Hex(undefined)).toBe(false)
    expect(isHex('', 0)).toBe(true)
    expect(isHex('abc', 1, 2)).toBe(false)
  })

  it('only records pass as records', () => {
    for (const value of [null, [], 'x', 1, undefined]) expect(() => expectRecord(value, 'frame')).toThrow(InvalidMessageError)
    expect(expectRecord({ a: 1 }, 'frame')).toEqual({ a: 1 })
  })
})

describe('JSON frames', () => {
  it('round-trip through their validator', () => {
    const frame = encodeJson({ v: 1, n: 5 }, 100)
    expect(decodeJson(frame, value => expectInt(expectRecord(value, 'frame'), 'n', 0, 9))).toBe(5)
  })

  it('refuse oversized values before they leave, and garbage as InvalidMessageError', () => {
    expect(() => encodeJson({ text: 'x'.repeat(100) }, 50)).toThrow(MessageTooLargeError)
    for (const bytes of [new Uint8Array([0xff, 0xfe]), new TextEncoder().encode('{"v":'), new Uint8Array(0)]) {
      expect(() => decodeJson(bytes, value => value)).toThrow(InvalidMessageError)
    }
  })
})
