import { describe, expect, it } from 'vitest'
import { fromHex, randomBytes, sha256 } from '../testing/index.ts'
import { HashcashInvalidError } from './errors.ts'
import { createSearch, hashcashDigest, leadingZeroBits, rawKernels } from './sha256-search.ts'
import type { SearchKernel } from './sha256-search.ts'

/** A big-endian 32-bit word of `bytes` at `at`, signed (as the kernels hand them back). */
const int32 = (bytes: Uint8Array, at: number): number => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(at)

/** The reference: a plain SHA-256 over challenge ‖ nonce. */
function reference (challenge: Uint8Array, hi: number, lo: number): Uint8Array {
  const nonce = new Uint8Array(8)
  const view = new DataView(nonce.buffer)
  view.setUint32(0, hi >>> 0)
  view.setUint32(4, lo >>> 0)
  return sha256(challenge, nonce)
}

function words (challenge: Uint8Array): Int32Array {
  const view = new DataView(challenge.buffer, challenge.byteOffset, challenge.byteLength)
  return Int32Array.from({ length: 8 }, (_, i) => view.getInt32(i * 4, false))
}

const randomU32 = (): number => new DataView(randomBytes(4).buffer).getUint32(0)
const EDGE = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]

/** First nonce from (hi, lo) whose reference digest has ≥ difficulty leading zero bits. */
function referenceSearch (challenge: Uint8Array, hi: number, lo: number, difficulty: number, limit: number): { hi: number, lo: number, hashes: number } | undefined {
  for (let i = 1; i <= limit; i++) {
    if (leadingZeroBits(reference(challenge, hi, lo)) >= difficulty) return { hi, lo, hashes: i }
    lo = (lo + 1) >>> 0
    if (lo === 0) hi = (hi + 1) >>> 0
  }
  return undefined
}

// Found once with an independent brute force (OpenSSL's SHA256_Transform):
// challenge = SHA-256("golem-clay hashcash test vector"); these nonces give
// H0 = 0x00000001 (exactly 31 leading zero bits) and H0 = 0 (32 + clz(H1)).
const VECTOR_CHALLENGE = fromHex('3d12f367b2694c6bba80cf5107704eabe57b5451f12be5e87c7689cf65c1613a')
const NONCE_31 = { hi: 3, lo: 570398349 }
const NONCE_32 = { hi: 1, lo: 105827955 }

describe('sha256 search kernels', () => {
  it('the JS kernel computes H0 and H1 of challenge ‖ nonce like a plain SHA-256', () => {
    const { js } = rawKernels()
    const out = new Int32Array(2)
    for (let c = 0; c < 50; c++) {
      const challenge = randomBytes(32)
      const w = words(challenge)
      const nonces = [...EDGE.flatMap(hi => EDGE.map(lo => [hi, lo] as const)),
        ...Array.from({ length: 20 }, () => [randomU32(), randomU32()] as const)]
      for (const [hi, lo] of nonces) {
        // masks 0: the first nonce qualifies and its words come back in `out`
        expect(js(w, hi, lo, 1, 0, 0, out)).toBe(0)
        const digest = reference(challenge, hi, lo)
        expect(out[0]).toBe(int32(digest, 0))
        expect(out[1]).toBe(int32(digest, 4))
      }
    }
  })

  it('the WASM SIMD kernel is available on Node and checks every bit of H0 and H1 in all four lanes', () => {
    const { wasm } = rawKernels()
    expect(wasm).toBeTypeOf('function')
    if (wasm == null) return
    for (let c = 0; c < 40; c++) {
      const challenge = randomBytes(32)
      const w = Array.from(words(challenge))
      const hi = c < 4 ? (EDGE[c] as number) : randomU32()
      const lo = c % 3 === 0 ? 0xfffffffc : randomU32() % (2 ** 32 - 4)
      const digests = [0, 1, 2, 3].map(lane => reference(challenge, hi, lo + lane))
      for (let bit = 0; bit < 64; bit++) {
        const mask0 = bit < 32 ? (1 << bit) : 0
        const mask1 = bit >= 32 ? (1 << (bit - 32)) : 0
        // a single-bit mask makes the hit depend on that one bit of each lane
        const expected = digests.some(d => (int32(d, 0) & mask0) === 0 && (int32(d, 4) & mask1) === 0) ? 0 : -1
        const [w0, w1, w2, w3, w4, w5, w6, w7] = w as [number, number, number, number, number, number, number, number]
        expect(wasm(w0, w1, w2, w3, w4, w5, w6, w7, hi | 0, lo | 0, 1, mask0, mask1)).toBe(expected)
      }
    }
  })

  for (const kernel of ['js', 'wasm-simd'] as SearchKernel[]) {
    describe(`search with the ${kernel} kernel`, () => {
      it('uses the kernel asked for', () => {
        expect(createSearch(randomBytes(32), { kernel }).kernel).toBe(kernel)
      })

      it('finds exactly the first qualifying nonce, as a brute force over node:crypto does', () => {
        const starts: Array<[number, number]> = [
          [0, 0], [randomU32(), randomU32()], [7, 0xfffffffa], [0xffffffff, 0xfffffff0], [randomU32(), 0xffffffff]
        ]
        for (const difficulty of [1, 4, 8, 11]) {
          for (const [hi, lo] of starts) {
            const challenge = randomBytes(32)
            const expected = referenceSearch(challenge, hi, lo, difficulty, 100_000)
            expect(expected).toBeDefined()
            const result = createSearch(challenge, { kernel }).search(hi, lo, 100_000, difficulty)
            expect(result).toEqual({ found: true, nonceHi: expected?.hi, nonceLo: expected?.lo, hashes: expected?.hashes })
          }
        }
      })

      it('stops at the end of the range and says where to go on', () => {
        const challenge = randomBytes(32)
        const search = createSearch(challenge, { kernel })
        // difficulty 64 is never met by chance
        expect(search.search(3, 0xfffffff0, 37, 64)).toEqual({ found: false, nonceHi: 4, nonceLo: 21, hashes: 37 })
        expect(search.search(0xffffffff, 0xffffffff, 2, 64)).toEqual({ found: false, nonceHi: 0, nonceLo: 1, hashes: 2 })
        expect(search.search(5, 6, 0, 1)).toEqual({ found: false, nonceHi: 5, nonceLo: 6, hashes: 0 })
      })

      it('difficulty 0 accepts the first nonce', () => {
        expect(createSearch(randomBytes(32), { kernel }).search(9, 9, 100, 0)).toEqual({ found: true, nonceHi: 9, nonceLo: 9, hashes: 1 })
      })

      it('finds known solutions at difficulties 31 and 32 and honours every difficulty up to 64', () => {
        const search = createSearch(VECTOR_CHALLENGE, { kernel })
        for (const nonce of [NONCE_31, NONCE_32]) {
          const digest = reference(VECTOR_CHALLENGE, nonce.hi, nonce.lo)
          const zeros = leadingZeroBits(digest)
          expect(zeros).toBeGreaterThanOrEqual(31)
          for (let difficulty = 0; difficulty <= 64; difficulty++) {
            // a window of 8 around the solution: with WASM, one 4-lane block hits and the lane is picked out
            const result = search.search(nonce.hi, nonce.lo - 2, 8, difficulty)
            if (difficulty <= 20) {
              // low difficulties may be met earlier in the window by chance: check against the reference
              const expected = referenceSearch(VECTOR_CHALLENGE, nonce.hi, nonce.lo - 2, difficulty, 8)
              expect(result.found).toBe(expected != null)
              if (expected != null) expect([result.nonceHi, result.nonceLo]).toEqual([expected.hi, expected.lo])
            } else if (difficulty <= zeros) {
              expect(result).toEqual({ found: true, nonceHi: nonce.hi, nonceLo: nonce.lo, hashes: 3 })
            } else {
              expect(result.found).toBe(false)
            }
          }
        }
        expect(leadingZeroBits(reference(VECTOR_CHALLENGE, NONCE_31.hi, NONCE_31.lo))).toBe(31)
        expect((int32(reference(VECTOR_CHALLENGE, NONCE_32.hi, NONCE_32.lo), 0) >>> 0)).toBe(0)
      })
    })
  }

  it('rejects malformed input with HashcashInvalidError', () => {
    expect(() => createSearch(new Uint8Array(31))).toThrow(HashcashInvalidError)
    expect(() => createSearch(new Uint8Array(33))).toThrow(HashcashInvalidError)
    const search = createSearch(new Uint8Array(32))
    for (const difficulty of [-1, 65, 1.5, Number.NaN]) {
      expect(() => search.search(0, 0, 1, difficulty)).toThrow(HashcashInvalidError)
    }
    for (const count of [-1, 0.5, 2 ** 32 + 1]) {
      expect(() => search.search(0, 0, count, 1)).toThrow(HashcashInvalidError)
    }
  })
})

describe('hashcashDigest and leadingZeroBits', () => {
  it('hashcashDigest is SHA-256 over challenge ‖ nonce', () => {
    for (let i = 0; i < 20; i++) {
      const challenge = randomBytes(32)
      const nonce = randomBytes(8)
      expect(hashcashDigest(challenge, nonce)).toEqual(sha256(challenge, nonce))
    }
  })

  it('counts leading zero bits big-endian', () => {
    expect(leadingZeroBits(new Uint8Array(32))).toBe(256)
    expect(leadingZeroBits(Uint8Array.of(0x80, 0))).toBe(0)
    expect(leadingZeroBits(Uint8Array.of(0x01, 0xff))).toBe(7)
    expect(leadingZeroBits(Uint8Array.of(0, 0, 0, 0x10))).toBe(27)
    expect(leadingZeroBits(Uint8Array.of(0, 0, 0, 0, 0x7f))).toBe(33)
  })
})
