import { Uint8ArrayList } from 'uint8arraylist'
import { MessageTooLargeError, ProtocolError } from '../errors.ts'
import type { AbortOptions, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'

export interface FrameStreamInit {
  /** Largest frame accepted; checked from the length prefix, before buffering. */
  maxFrameLength: number
  /** Stop reading from the network above this many unread bytes. @default 8 MiB */
  highWaterMark?: number
}

/**
 * Length-prefixed frames over a libp2p stream, with backpressure both ways:
 * writes wait for the stream to drain, and reading pauses the stream (so
 * Yamux stops granting window) while the consumer is behind. `lpStream`
 * never pauses, and aborts once 4 MiB pile up, which bulk transfers to a
 * slow disk or a busy tab would hit.
 */
export class FrameStream {
  readonly stream: Stream
  private readonly max: number
  private readonly high: number
  private readonly pending = new Uint8ArrayList()
  private readonly frames: Uint8Array[] = []
  private queued = 0
  private paused = false
  private ended = false
  private failure?: Error
  private wake?: () => void

  constructor (stream: Stream, init: FrameStreamInit) {
    this.stream = stream
    this.max = init.maxFrameLength
    this.high = init.highWaterMark ?? 8 * 1024 * 1024
    // after a pause Yamux may still deliver a full window (up to 16 MiB)
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, this.high + 32 * 1024 * 1024)
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('remoteCloseWrite', this.onEnd)
    stream.addEventListener('close', this.onClose)
  }

  /** Unread bytes held in memory. */
  get buffered (): number {
    return this.queued
  }

  private readonly onMessage = (evt: StreamMessageEvent): void => {
    if (this.failure != null) return
    this.pending.append(evt.data)
    this.queued += evt.data.byteLength
    try {
      this.parse()
    } catch (err: any) {
      this.fail(err)
      this.stream.abort(err)
      return
    }
    if (this.queued > this.high && !this.paused) {
      this.paused = true
      try { this.stream.pause() } catch {}
    }
    this.notify()
  }

  private readonly onEnd = (): void => {
    this.ended = true
    this.notify()
  }

  private readonly onClose = (evt: StreamCloseEvent): void => {
    if (evt.error != null) this.fail(evt.error)
    this.ended = true
    this.notify()
  }

  private fail (err: Error): void {
    this.failure ??= err
    this.notify()
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private parse (): void {
    for (;;) {
      let length = 0
      let shift = 0
      let header = 0
      for (;;) {
        if (header >= this.pending.byteLength) return
        if (header >= 4) throw new MessageTooLargeError('Frame length prefix too long')
        const byte = this.pending.get(header++)
        length += (byte & 0x7f) * 2 ** shift
        shift += 7
        if ((byte & 0x80) === 0) break
      }
      if (length > this.max) throw new MessageTooLargeError(`Frame of ${length} bytes exceeds the ${this.max} byte cap`)
      if (this.pending.byteLength < header + length) return
      this.frames.push(this.pending.subarray(header, header + length))
      this.pending.consume(header + length)
      this.queued -= header
    }
  }

  /** The next frame, or null once the remote has finished writing. */
  async read (options: AbortOptions = {}): Promise<Uint8Array | null> {
    for (;;) {
      const frame = this.frames.shift()
      if (frame != null) {
        this.queued -= frame.byteLength
        if (this.paused && this.queued < this.high / 2) {
          this.paused = false
          try { this.stream.resume() } catch {}
        }
        return frame
      }
      if (this.failure != null) throw this.failure
      if (this.ended) {
        if (this.pending.byteLength > 0) throw new ProtocolError('Stream ended in the middle of a frame')
        return null
      }
      options.signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { this.wake = undefined; reject(options.signal?.reason) }
        this.wake = () => { options.signal?.removeEventListener('abort', onAbort); resolve() }
        options.signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
  }

  /** Writes one frame (from parts, not copied) and waits if the stream needs to drain. */
  async write (frame: Uint8Array | Uint8ArrayList, options: AbortOptions = {}): Promise<void> {
    const list = new Uint8ArrayList(encodeVarint(frame.byteLength))
    list.append(frame)
    if (!this.stream.send(list)) await this.stream.onDrain(options)
  }

  /** Stops listening; the stream itself is left as it is. */
  release (): void {
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('remoteCloseWrite', this.onEnd)
    this.stream.removeEventListener('close', this.onClose)
    if (this.paused) {
      try { this.stream.resume() } catch {}
    }
  }
}

function encodeVarint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}
