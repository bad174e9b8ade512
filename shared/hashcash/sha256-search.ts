/**
 * The Hashcash search kernel: SHA-256 over challenge(32) ‖ nonce(8),
 * looking for a digest with at least `difficulty` leading zero bits.
 *
 * Two generated kernels (see gen-kernels.ts) do the work: a WebAssembly SIMD
 * one that hashes 4 nonces per step, and a plain-JS one used where
 * WebAssembly is unavailable (a CSP without 'wasm-unsafe-eval', no SIMD).
 * Neither generates code at run time.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { HashcashInvalidError, HashcashWorkerError } from './errors.ts'
import { SHA256_SIMD_WASM_BASE64 } from './sha256-simd-wasm.ts'
import { searchUnrolled } from './sha256-unrolled.ts'
import { InternalError } from '../errors.ts'

export const HASHCASH_CHALLENGE_BYTES = 32
export const HASHCASH_NONCE_BYTES = 8
export const HASHCASH_MAX_DIFFICULTY = 64

export type SearchKernel = 'wasm-simd' | 'js'

export interface SearchResult {
  found: boolean
  /** The nonce found, or when not found the next nonce to try (the range end). */
  nonceHi: number
  nonceLo: number
  /** Nonces tried, up to and including the one found. */
  hashes: number
}

export interface HashcashSearch {
  /** The kernel in use. */
  readonly kernel: SearchKernel
  /**
   * Tries `count` consecutive nonces from (startHi, startLo) (each a uint32
   * half of the big-endian 64-bit nonce; the low half carries into the high
   * one) and stops at the first with ≥ `difficulty` leading zero bits.
   * `count` is an integer in 0..2^32.
   */
  search: (startHi: number, startLo: number, count: number, difficulty: number) => SearchResult
}

export interface CreateSearchInit {
  /**
   * 'auto' (default) uses the WebAssembly SIMD kernel when it can be
   * compiled and falls back to JS; 'wasm-simd' throws when it cannot.
   */
  kernel?: 'auto' | SearchKernel
}

/** The raw WASM export, see sha256-simd.wat. */
type WasmSearchFn = (w0: number, w1: number, w2: number, w3: number, w4: number, w5: number, w6: number, w7: number,
  hi: number, lo: number, blocks: number, mask0: number, mask1: number) => number

const WASM_LANES = 4
// keeps every kernel call's index comfortably inside int32
const MAX_CALL = 2 ** 30
const TWO_32 = 2 ** 32

let wasmModule: WebAssembly.Module | undefined
let wasmError: unknown
// a CSP without 'wasm-unsafe-eval' or an engine without SIMD fails both ways;
// a browser main thread may refuse only the synchronous way, so track them apart
let syncCompileFailed = false
let asyncCompile: Promise<boolean> | undefined

function wasmBytes (): Uint8Array<ArrayBuffer> {
  const bin = atob(SHA256_SIMD_WASM_BASE64)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes
}

/**
 * Compiles the WASM kernel asynchronously and caches it, so later
 * `createSearch` calls can use it. Browsers may refuse synchronous
 * compilation on the main thread, so call this first there. Resolves to
 * whether the WASM kernel is usable; never rejects.
 */
export async function loadWasmKernel (): Promise<boolean> {
  if (wasmModule != null) return true
  asyncCompile ??= (async () => {
    try {
      if (typeof WebAssembly !== 'object') throw new HashcashWorkerError('no WebAssembly')
      wasmModule ??= await WebAssembly.compile(wasmBytes())
      return true
    } catch (err) {
      wasmError = err
      return false
    }
  })()
  return await asyncCompile
}

function wasmKernel (): WasmSearchFn | undefined {
  if (wasmModule == null && !syncCompileFailed) {
    try {
      if (typeof WebAssembly !== 'object') throw new HashcashWorkerError('no WebAssembly')
      wasmModule = new WebAssembly.Module(wasmBytes())
    } catch (err) {
      wasmError = err
      syncCompileFailed = true
    }
  }
  if (wasmModule == null) return undefined
  const instance = new WebAssembly.Instance(wasmModule, {})
  return instance.exports.search as WasmSearchFn
}

/** The raw kernels, for tests: one WASM instance, or undefined when WASM is unusable here. */
export function rawKernels (): { wasm: WasmSearchFn | undefined, js: typeof searchUnrolled } {
  return { wasm: wasmKernel(), js: searchUnrolled }
}

export function assertChallenge (challenge: Uint8Array): void {
  if (!(challenge instanceof Uint8Array) || challenge.length !== HASHCASH_CHALLENGE_BYTES) {
    throw new HashcashInvalidError(`challenge must be ${HASHCASH_CHALLENGE_BYTES} bytes`)
  }
}

export function assertDifficulty (difficulty: number): void {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > HASHCASH_MAX_DIFFICULTY) {
    throw new HashcashInvalidError(`difficulty must be an integer in 0..${HASHCASH_MAX_DIFFICULTY}, got ${difficulty}`)
  }
}

/** Top-bit masks on H0 and H1: a digest qualifies when both ANDs are zero. */
function difficultyMasks (difficulty: number): [number, number] {
  if (difficulty === 0) return [0, 0]
  if (difficulty <= 32) return [(0xffffffff << (32 - difficulty)) | 0, 0]
  return [-1, (0xffffffff << (64 - difficulty)) | 0]
}

export function createSearch (challenge: Uint8Array, init: CreateSearchInit = {}): HashcashSearch {
  assertChallenge(challenge)
  const view = new DataView(challenge.buffer, challenge.byteOffset, challenge.byteLength)
  const w = new Int32Array(8)
  for (let i = 0; i < 8; i++) w[i] = view.getInt32(i * 4, false)
  const out = new Int32Array(2)

  const want = init.kernel ?? 'auto'
  const wasm = want === 'js' ? undefined : wasmKernel()
  if (want === 'wasm-simd' && wasm == null) {
    throw new HashcashInvalidError(`WebAssembly SIMD kernel unavailable: ${String(wasmError)}`)
  }
  const [w0, w1, w2, w3, w4, w5, w6, w7] = w as unknown as [number, number, number, number, number, number, number, number]

  /** First index in [0, n) at (hi, lo + index) that qualifies, or -1; lo + n ≤ 2^32. */
  function segment (hi: number, lo: number, n: number, mask0: number, mask1: number): number {
    let done = 0
    if (wasm != null && n >= WASM_LANES) {
      const blocks = Math.floor(n / WASM_LANES)
      const block = wasm(w0, w1, w2, w3, w4, w5, w6, w7, hi | 0, lo | 0, blocks, mask0, mask1)
      if (block >= 0) {
        // the vector kernel only says "one of these four"; the scalar one says which
        const lane = searchUnrolled(w, hi, (lo + block * WASM_LANES) | 0, WASM_LANES, mask0, mask1, out)
        if (lane < 0) throw new InternalError('hashcash kernels disagree')
        return block * WASM_LANES + lane
      }
      done = blocks * WASM_LANES
    }
    if (done === n) return -1
    const i = searchUnrolled(w, hi, (lo + done) | 0, n - done, mask0, mask1, out)
    return i < 0 ? -1 : done + i
  }

  return {
    kernel: wasm != null ? 'wasm-simd' : 'js',
    search (startHi, startLo, count, difficulty) {
      assertDifficulty(difficulty)
      if (!Number.isInteger(count) || count < 0 || count > TWO_32) {
        throw new HashcashInvalidError(`count must be an integer in 0..2^32, got ${count}`)
      }
      const [mask0, mask1] = difficultyMasks(difficulty)
      let hi = startHi >>> 0
      let lo = startLo >>> 0
      let done = 0
      while (done < count) {
        const n = Math.min(count - done, TWO_32 - lo, MAX_CALL)
        const index = segment(hi, lo, n, mask0, mask1)
        if (index >= 0) {
          return { found: true, nonceHi: hi, nonceLo: lo + index, hashes: done + index + 1 }
        }
        done += n
        lo += n
        if (lo === TWO_32) {
          lo = 0
          hi = (hi + 1) >>> 0
        }
      }
      return { found: false, nonceHi: hi, nonceLo: lo, hashes: count }
    }
  }
}

/** SHA-256(challenge ‖ nonce) with a well-kept library: the reference the kernels are tested against. */
export function hashcashDigest (challenge: Uint8Array, nonce: Uint8Array): Uint8Array {
  const message = new Uint8Array(challenge.length + nonce.length)
  message.set(challenge, 0)
  message.set(nonce, challenge.length)
  return sha256(message)
}

/** Leading zero bits of a digest read as one big-endian number. */
export function leadingZeroBits (digest: Uint8Array): number {
  let bits = 0
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}
