import { describe, expect, it } from 'vitest'
import { RunningHash } from './running-hash.ts'
import { bytesSource } from './sources.ts'
import { randomBytes, sha256, toHex } from '../testing/index.ts'

const hex = (b: Uint8Array): string => toHex(sha256(b))

describe('RunningHash', () => {
  it('hashes each byte once, in order, whatever the attempts feed it', async () => {
    const bytes = randomBytes(1_000_000)
    let reads = 0
    const source = bytesSource(bytes)
    const counted = { ...source, read: async (offset: number, length: number) => { reads += length; return await source.read(offset, length) } }
    const h = await RunningHash.create(counted)
    const chunk = (at: number, n: number): Uint8Array => bytes.subarray(at, at + n)
    await h.feed(0, chunk(0, 300_000))
    // a resume from earlier: what was hashed is skipped, the rest taken
    await h.feed(200_000, chunk(200_000, 300_000))
    expect(h.hashed).toBe(500_000)
    // a resume past what was hashed: the gap is read from the source
    await h.feed(700_000, chunk(700_000, 100_000))
    expect(reads).toBe(200_000)
    // calls that overlap in time still run in call order
    await Promise.all([h.feed(800_000, chunk(800_000, 100_000)), h.feed(900_000, chunk(900_000, 100_000))])
    expect(await h.digest()).toBe(hex(bytes))
    // the digest is kept: a later attempt's feeds change nothing
    await h.feed(0, chunk(0, 10))
    expect(await h.digest()).toBe(hex(bytes))
  })

  it('reads what nobody fed before it digests', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 5)
    const h = await RunningHash.create(bytesSource(bytes))
    await h.feed(0, bytes.subarray(0, 1000))
    expect(await h.digest()).toBe(hex(bytes))
  })

  it('stops a catch-up when aborted, keeping what it hashed', async () => {
    const bytes = randomBytes(10 * 1024 * 1024)
    const h = await RunningHash.create(bytesSource(bytes))
    await expect(h.feed(9 * 1024 * 1024, bytes.subarray(9 * 1024 * 1024), AbortSignal.abort())).rejects.toThrow()
    expect(h.hashed).toBe(0)
    expect(await h.digest()).toBe(hex(bytes))
  })
})
