import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { SHA256_SIMD_WASM_BASE64 } from '../../shared/hashcash/sha256-simd-wasm.ts'
import { assembleWat, emitJs, emitWat } from './gen-kernels.ts'

const kernel = (name: string): string => readFileSync(new URL(`../../shared/hashcash/${name}`, import.meta.url), 'utf8')

describe('generated kernels', () => {
  it('the committed JS and WAT kernels are what gen-kernels.ts emits', () => {
    expect(kernel('sha256-unrolled.ts')).toBe(emitJs())
    expect(kernel('sha256-simd.wat')).toBe(emitWat())
  })

  it('the committed WASM bytes are the committed WAT, assembled', async () => {
    const wat = kernel('sha256-simd.wat')
    const bytes = await assembleWat(wat)
    expect(Buffer.from(SHA256_SIMD_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true)
  })

  it('contain no runtime code generation', () => {
    for (const file of ['sha256-unrolled.ts', 'sha256-search.ts', 'worker-protocol.ts', 'solver.ts', 'hashcash.ts']) {
      const source = kernel(file)
      expect(source).not.toMatch(/\beval\s*\(|new\s+Function\s*\(/)
    }
  })
})
