import { randomBytes } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_UNWRITTEN, PartialWriter } from './partial-writer.ts'
import type { FileHandle } from 'node:fs/promises'

const dirs: string[] = []
afterAll(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

async function tempFile (): Promise<{ path: string, file: FileHandle }> {
  const dir = await mkdtemp(join(tmpdir(), 'golem-clay-partial-'))
  dirs.push(dir)
  const path = join(dir, 'x.part')
  return { path, file: await open(path, 'w+') }
}

describe('PartialWriter', () => {
  it('writes every pushed byte in order, reporting only gap-free progress', async () => {
    const { path, file } = await tempFile()
    const data = randomBytes(5 * 1024 * 1024 + 12345)
    const durable: number[] = []
    const writer = new PartialWriter(file, 0, (end) => { durable.push(end) })
    for (let at = 0; at < data.byteLength; at += 100_000) await writer.push(data.subarray(at, at + 100_000))
    await writer.settle()
    await file.close()
    expect((await readFile(path)).equals(data)).toBe(true)
    expect(durable.at(-1)).toBe(data.byteLength)
    expect(durable).toEqual([...durable].sort((a, b) => a - b))
  })

  it('continues a partial file from where it stopped', async () => {
    const { path, file } = await tempFile()
    const data = randomBytes(3_000_000)
    await file.write(data, 0, 1_000_000, 0)
    let durable = 1_000_000
    const writer = new PartialWriter(file, 1_000_000, (end) => { durable = end })
    await writer.push(data.subarray(1_000_000))
    await writer.settle()
    await file.close()
    expect(durable).toBe(data.byteLength)
    expect((await readFile(path)).equals(data)).toBe(true)
  })

  it('holds the sender back once too much is unwritten, and reports a failed write', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    let durable = 0
    const fail = new Error('disk full')
    let calls = 0
    const file = {
      writev: async (buffers: Uint8Array[]) => {
        const call = ++calls
        await gate
        if (call > 3) throw fail
        return { bytesWritten: buffers.reduce((n, b) => n + b.byteLength, 0) }
      }
    } as unknown as FileHandle
    const writer = new PartialWriter(file, 0, (end) => { durable = end })
    const chunk = new Uint8Array(1024 * 1024)
    for (let i = 0; i * chunk.byteLength < MAX_UNWRITTEN; i++) await writer.push(chunk)
    let pushed = false
    const blocked = writer.push(chunk).then(() => { pushed = true }, (err: Error) => err)
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(pushed).toBe(false)
    expect(durable).toBe(0)
    release()
    await blocked
    await expect(writer.settle()).rejects.toBe(fail)
    // the first three writes landed; nothing after the failed one counts
    expect(durable).toBe(3 * chunk.byteLength)
    await expect(writer.push(chunk)).rejects.toBe(fail)
  })
})
