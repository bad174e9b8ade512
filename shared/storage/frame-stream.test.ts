import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { FrameStream } from './frame-stream.ts'
import { until } from '../testing/index.ts'

describe('FrameStream', () => {
  it('moves large frames both ways with backpressure, past a slow reader', async () => {
    const [a, b] = await streamPair({ delay: 0 })
    const writer = new FrameStream(a, { maxFrameLength: 1 << 20 })
    const reader = new FrameStream(b, { maxFrameLength: 1 << 20, highWaterMark: 2 << 20 })
    const frames = 48
    let sent = false
    const sending = (async () => {
      for (let i = 0; i < frames; i++) await writer.write(new Uint8Array(512 * 1024).fill(i))
      await a.close()
      sent = true
    })()
    let got = 0
    let pauses = 0
    for (;;) {
      const frame = await reader.read()
      if (frame == null) break
      expect(frame.byteLength).toBe(512 * 1024)
      expect(frame[0]).toBe(got)
      got++
      // a reader slower than the network: it stops reading until the stream has paused (or all is sent)
      if (got % 8 === 0) {
        await until(() => b.readStatus === 'paused' || sent, 'the reader to pause the stream')
        if (b.readStatus === 'paused') pauses++
      }
    }
    await sending
    expect(got).toBe(frames)
    expect(pauses).toBeGreaterThan(0)
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
