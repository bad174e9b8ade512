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
  private readonly frames: Uint8ArrayList[] = []
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
      // kept in the parts it arrived in: a reader that can use them avoids a copy
      this.frames.push(this.pending.sublist(header, header + length))
      this.pending.consume(header + length)
      this.queued -= header
    }
  }

  /** The next frame, or null once the remote has finished writing. */
  async read (options: AbortOptions = {}): Promise<Uint8Array | null> {
    const frame = await this.readList(options)
    return frame == null ? null : frame.subarray()
  }

  /** The next frame in the parts it arrived in (not joined), or null once the remote has finished writing. */
  async readList (options: AbortOptions = {}): Promise<Uint8ArrayList | null> {
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

  /**
   * Writes one frame and waits if the stream needs to drain. The length
   * prefix shares a buffer with a short leading part (a control frame, a data
   * frame's header); a long part is sent as it is, not copied. Fewer parts
   * matter: Noise on Node encrypts a list part by part, and a WebSocket
   * connection sends every resulting piece as a message of its own.
   */
  async write (frame: Uint8Array | Uint8ArrayList, options: AbortOptions = {}): Promise<void> {
    const prefix = encodeVarint(frame.byteLength)
    const parts = frame instanceof Uint8Array ? [frame] : [...frame]
    const list = new Uint8ArrayList()
    const first = parts[0]
    if (first != null && first.byteLength <= MERGE_LIMIT) {
      const head = new Uint8Array(prefix.byteLength + first.byteLength)
      head.set(prefix)
      head.set(first, prefix.byteLength)
      list.append(head)
      parts.shift()
    } else {
      list.append(prefix)
    }
    for (const part of parts) list.append(part)
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

/** Leading parts up to this size are copied next to the length prefix. */
const MERGE_LIMIT = 64 * 1024

function encodeVarint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}
