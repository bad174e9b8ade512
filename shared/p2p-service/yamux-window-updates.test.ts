import { multiaddrConnectionPair } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { pEvent } from 'p-event'
import { describe, expect, it } from 'vitest'
import type { Stream } from '@libp2p/interface'

const WINDOW_UPDATE = 1
const HEADER = 12

/** Yamux frames as one side's bytes arrive: type, flags and length of each. */
function frameLog (): { push: (bytes: Uint8Array) => void, frames: Array<{ type: number, flags: number, length: number }> } {
  let buffer = new Uint8Array(0)
  const frames: Array<{ type: number, flags: number, length: number }> = []
  return {
    frames,
    push (bytes) {
      const joined = new Uint8Array(buffer.byteLength + bytes.byteLength)
      joined.set(buffer)
      joined.set(bytes, buffer.byteLength)
      let at = 0
      while (joined.byteLength - at >= HEADER) {
        const view = new DataView(joined.buffer, joined.byteOffset + at)
        const type = view.getUint8(1)
        const length = view.getUint32(8)
        const size = HEADER + (type === 0 ? length : 0)
        if (joined.byteLength - at < size) break
        frames.push({ type, flags: view.getUint16(2), length })
        at += size
      }
      buffer = joined.slice(at)
    }
  }
}

describe('yamux flow control (patches/@libp2p+yamux)', () => {
  it('grants credit once half the window is used, not after every data frame, and still moves any amount', async () => {
    const [outbound, inbound] = multiaddrConnectionPair()
    // what the receiving side sends back, as the sender sees it
    const back = frameLog()
    outbound.addEventListener('message', (evt) => { back.push(evt.data.subarray()) })
    const client = yamux()().createStreamMuxer(outbound)
    const server = yamux()().createStreamMuxer(inbound)
    let received = 0
    let waiting: { bytes: number, resolve: () => void } | undefined
    server.addEventListener('stream', (evt) => {
      evt.detail.addEventListener('message', (msg) => {
        received += msg.data.byteLength
        if (waiting != null && received >= waiting.bytes) waiting.resolve()
      })
    })
    const stream: Stream = await client.createStream()
    /** Resolves once the server has received `bytes` in all. */
    const until = async (bytes: number): Promise<void> => {
      if (received >= bytes) return
      const { promise, resolve } = Promise.withResolvers<void>()
      waiting = { bytes, resolve }
      await promise
    }
    const credit = (): number[] => back.frames.filter(f => f.type === WINDOW_UPDATE && f.flags === 0).map(f => f.length)

    // 2,000 small messages (as request/response protocols send): every one a data frame
    for (let i = 0; i < 2000; i++) {
      if (!stream.send(new Uint8Array(1024))) await pEvent(stream, 'drain')
    }
    await until(2000 * 1024)
    // the package granted credit after every frame; now only the window's growth
    // (it doubles while data comes fast, up to 16 MiB) and each half-window used
    expect(credit().length).toBeLessThan(20)
    expect(credit().reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2000 * 1024 - 256 * 1024)

    // far more than the window still flows: the sender never waits for credit that never comes
    for (let i = 0; i < 512; i++) {
      if (!stream.send(new Uint8Array(64 * 1024))) await pEvent(stream, 'drain')
    }
    await until(2000 * 1024 + 32 * 1024 * 1024)
    expect(received).toBe(2000 * 1024 + 32 * 1024 * 1024)
    await stream.close()
    await Promise.all([client.close(), server.close()])
  })
})
