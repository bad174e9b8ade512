import { errorFromWire, StorageProtocolError } from './errors.ts'
import { FrameStream } from './frame-stream.ts'
import { decodeControl, decodeFrame, validateReply } from './storage-codec.ts'
import type { StorageReply } from './storage-codec.ts'
import type { Stream } from '@libp2p/interface'

export interface TransferStreamInit {
  /** A fresh storage stream (from `sessions.open`). */
  stream: Stream
  /** The caller's signal; the watchdog and `fail` abort besides it. */
  signal: AbortSignal
  /** No activity for this long fails the attempt, ms. */
  idleTimeout: number
  /** Names the activity in the watchdog's error ("data", "progress"). */
  idleWhat: string
  maxFrameLength: number
}

/** What one attempt's body works with. */
export interface TransferStream {
  stream: Stream
  fs: FrameStream
  /** Aborts when the caller's signal does, the watchdog fires or `fail` is called. */
  signal: AbortSignal
  /** Something moved: the watchdog starts counting again. */
  touch: () => void
  /** Ends the attempt with `err` (the first cause wins over the abort it triggers). */
  fail: (err: unknown) => void
}

/**
 * One storage attempt on a fresh stream: `body` talks over it while a
 * watchdog fails the attempt when nothing moves for `idleTimeout`. The stream
 * is closed when `body` returns and aborted with the first cause when it
 * throws.
 */
export async function withTransferStream<T> (init: TransferStreamInit, body: (t: TransferStream) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const signal = AbortSignal.any([init.signal, controller.signal])
  const stream = init.stream
  const fs = new FrameStream(stream, { maxFrameLength: init.maxFrameLength })
  let lastActivity = Date.now()
  const watchdog = setInterval(() => {
    if (Date.now() - lastActivity > init.idleTimeout) controller.abort(new StorageProtocolError(`No ${init.idleWhat} for ${Math.round(init.idleTimeout / 1000)} s`))
  }, 1_000)
  try {
    const result = await body({ stream, fs, signal, touch: () => { lastActivity = Date.now() }, fail: (err) => { controller.abort(err) } })
    await stream.close({ signal }).catch(() => {})
    return result
  } catch (err: any) {
    // the first cause wins: a typed error from the relay, or the stall, not the abort it triggered
    const cause = controller.signal.aborted && !init.signal.aborted ? controller.signal.reason : err
    stream.abort(cause instanceof Error ? cause : new StorageProtocolError(String(cause)))
    throw cause
  } finally {
    clearInterval(watchdog)
    fs.release()
  }
}

/** Reads the next control reply; an error frame becomes its typed error. */
export async function readReply (fs: FrameStream, signal: AbortSignal): Promise<StorageReply> {
  const frame = await fs.read({ signal })
  if (frame == null) throw new StorageProtocolError('The relay closed the stream without an answer')
  const decoded = decodeFrame(frame)
  if (decoded.kind !== 'control') throw new StorageProtocolError('Expected a control frame')
  const reply = decodeControl(decoded.bytes, validateReply)
  if (reply.type === 'error') throw errorFromWire(reply.error)
  return reply
}
