import { describe, expect, it } from 'vitest'
import {
  decodeNonce, encodeNonce, expectedHashes, hashcashDigest, HashcashInvalidError, leadingZeroBits, verifySolution
} from './hashcash.ts'
import { createSearch } from './sha256-search.ts'
import { fromHex, randomBytes } from '../testing/index.ts'

// SHA-256("golem-clay hashcash test vector") and a nonce giving 33 leading
// zero bits, found with an independent brute force (see sha256-search.test.ts)
const CHALLENGE = fromHex('3d12f367b2694c6bba80cf5107704eabe57b5451f12be5e87c7689cf65c1613a')
const NONCE_33 = fromHex('00000001064ece73')

describe('verifySolution', () => {
  it('accepts a solution up to its number of leading zero bits and no further', () => {
    expect(leadingZeroBits(hashcashDigest(CHALLENGE, NONCE_33))).toBe(33)
    for (const difficulty of [0, 1, 16, 31, 32, 33]) expect(verifySolution(CHALLENGE, NONCE_33, difficulty)).toBe(true)
    for (const difficulty of [34, 40, 64]) expect(verifySolution(CHALLENGE, NONCE_33, difficulty)).toBe(false)
  })

  it('accepts what the search finds, and rejects a neighbouring nonce', () => {
    for (let i = 0; i < 20; i++) {
      const challenge = randomBytes(32)
      const found = createSearch(challenge).search(0, 0, 2 ** 20, 10)
      expect(found.found).toBe(true)
      const nonce = encodeNonce(found.nonceHi, found.nonceLo)
      expect(verifySolution(challenge, nonce, 10)).toBe(true)
      // the search returns the first solution, so the one before it is not one
      if (found.nonceLo > 0) expect(verifySolution(challenge, encodeNonce(found.nonceHi, found.nonceLo - 1), 10)).toBe(false)
    }
  })

  it('rejects a wrong nonce and a solution to a foreign challenge', () => {
    const wrong = Uint8Array.from(NONCE_33)
    wrong[7] = (wrong[7] as number) ^ 1
    expect(verifySolution(CHALLENGE, wrong, 20)).toBe(false)
    const foreign = Uint8Array.from(CHALLENGE)
    foreign[0] = (foreign[0] as number) ^ 0x80
    expect(verifySolution(foreign, NONCE_33, 20)).toBe(false)
  })

  it('treats a malformed nonce (the remote\'s input) as no solution', () => {
    expect(verifySolution(CHALLENGE, NONCE_33.subarray(0, 7), 0)).toBe(false)
    expect(verifySolution(CHALLENGE, Uint8Array.of(...NONCE_33, 0), 0)).toBe(false)
    expect(verifySolution(CHALLENGE, new Uint8Array(0), 0)).toBe(false)
    expect(verifySolution(CHALLENGE, Array.from(NONCE_33) as unknown as Uint8Array, 0)).toBe(false)
    // difficulty 0: any well-formed nonce
    expect(verifySolution(CHALLENGE, new Uint8Array(8), 0)).toBe(true)
  })

  it('throws HashcashInvalidError for a malformed challenge or difficulty (our own input)', () => {
    expect(() => verifySolution(CHALLENGE.subarray(0, 31), NONCE_33, 1)).toThrow(HashcashInvalidError)
    expect(() => verifySolution(new Uint8Array(40), NONCE_33, 1)).toThrow(HashcashInvalidError)
    for (const difficulty of [-1, 65, 2.5, Number.NaN]) {
      expect(() => verifySolution(CHALLENGE, NONCE_33, difficulty)).toThrow(HashcashInvalidError)
    }
  })

  it('reads a nonce inside a larger buffer correctly', () => {
    const backing = new Uint8Array(20)
    backing.set(NONCE_33, 5)
    expect(verifySolution(CHALLENGE, backing.subarray(5, 13), 33)).toBe(true)
    expect(decodeNonce(backing.subarray(5, 13))).toEqual({ hi: 1, lo: 0x064ece73 })
  })
})

describe('nonce encoding', () => {
  it('is 8 bytes big-endian and round-trips', () => {
    expect(Array.from(encodeNonce(0x01020304, 0xa0b0c0d0))).toEqual([1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0])
    for (const [hi, lo] of [[0, 0], [0xffffffff, 0xffffffff], [1, 0x80000000]] as const) {
      expect(decodeNonce(encodeNonce(hi, lo))).toEqual({ hi, lo })
    }
  })

  it('rejects what does not fit', () => {
    expect(() => encodeNonce(-1, 0)).toThrow(HashcashInvalidError)
    expect(() => encodeNonce(0, 2 ** 32)).toThrow(HashcashInvalidError)
    expect(() => encodeNonce(0.5, 0)).toThrow(HashcashInvalidError)
    expect(() => decodeNonce(new Uint8Array(7))).toThrow(HashcashInvalidError)
  })
})

describe('expectedHashes', () => {
  it('is 2^difficulty', () => {
    expect(expectedHashes(0)).toBe(1)
    expect(expectedHashes(20)).toBe(1048576)
    expect(expectedHashes(64)).toBe(2 ** 64)
    expect(() => expectedHashes(65)).toThrow(HashcashInvalidError)
  })
})
