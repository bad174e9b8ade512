import { describe, expect, it } from 'vitest'
import { startContentHash } from './content-hash.ts'
import { webCryptoPreferred } from '../util/index.ts'
import { RunningHash } from './running-hash.ts'
import { bytesSource } from './sources.ts'
import type { UploadSource } from './sources.ts'
import { randomBytes, sha256, toHex } from '../testing/index.ts'

const hex = (b: Uint8Array): string => toHex(sha256(b))

describe('content hash', () => {
  it('picks by runtime: Node feeds a running hash with the chunks, a browser hashes once with Web Crypto', async () => {
    const inNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string'
    expect(webCryptoPreferred()).toBe(!inNode)
    const bytes = randomBytes(300_000)
    const h = await startContentHash(bytesSource(bytes))
    expect(h instanceof RunningHash).toBe(inNode)
    await h.feed(0, bytes.subarray(0, 100_000))
    await h.feed(100_000, bytes.subarray(100_000))
    expect(await h.digest()).toBe(hex(bytes))
  })

  it('one-shot: hashes the whole source beside the upload, whatever is fed', async () => {
    const bytes = randomBytes(300_000)
    const h = await startContentHash(bytesSource(bytes), undefined, { oneShot: true })
    expect(h).not.toBeInstanceOf(RunningHash)
    await h.feed(0, new Uint8Array(10))
    expect(await h.digest()).toBe(hex(bytes))
    const aborted = AbortSignal.abort(new Error('stop'))
    await expect(h.digest(aborted)).rejects.toThrow('stop')
  })

  it('one-shot: a source that fails to hash fails the digest, not the process', async () => {
    let hashing!: () => void
    const hashStarted = new Promise<void>(resolve => { hashing = resolve })
    const failing: UploadSource = { size: 10, read: async () => new Uint8Array(10), sha256: async () => { hashing(); throw new Error('unreadable') } }
    const h = await startContentHash(failing, undefined, { oneShot: true })
    // the hash has failed and nothing awaits it yet: one task boundary, where the
    // runtime reports rejections left unhandled (Vitest fails the run on one)
    await hashStarted
    await new Promise(resolve => setTimeout(resolve, 0))
    await expect(h.digest()).rejects.toThrow('unreadable')
  })
})
