import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { FrameStream } from './frame-stream.ts'

describe('FrameStream', () => {
  it('moves large frames both ways with backpressure, past a slow reader', async () => {
    const [a, b] = await streamPair({ delay: 0 })
    const writer = new FrameStream(a, { maxFrameLength: 1 << 20 })
    const reader = new FrameStream(b, { maxFrameLength: 1 << 20, highWaterMark: 2 << 20 })
    const frames = 48
    const sending = (async () => {
      for (let i = 0; i < frames; i++) await writer.write(new Uint8Array(512 * 1024).fill(i))
      await a.close()
    })()
    let got = 0
    for (;;) {
      const frame = await reader.read()
      if (frame == null) break
      expect(frame.byteLength).toBe(512 * 1024)
      expect(frame[0]).toBe(got)
      got++
      // a reader slower than the network: the stream must pause rather than overflow
      if (got % 8 === 0) await new Promise(resolve => setTimeout(resolve, 20))
    }
    await sending
    expect(got).toBe(frames)
  })

  it('refuses a frame over the cap from its length prefix alone', async () => {
    const [a, b] = await streamPair({ delay: 0 })
    const reader = new FrameStream(b, { maxFrameLength: 1000 })
    a.send(Uint8Array.from([0xe9, 0x07])) // length 1001, no body yet
    await expect(reader.read()).rejects.toThrow(/exceeds the 1000 byte cap/)
  })

  it('reports a stream that ends in the middle of a frame', async () => {
    const [a, b] = await streamPair({ delay: 0 })
    const reader = new FrameStream(b, { maxFrameLength: 1000 })
    a.send(Uint8Array.from([10, 1, 2, 3]))
    await a.close()
    await expect(reader.read()).rejects.toThrow(/middle of a frame/)
  })
})
