import type { AbortOptions, Connection, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'

/** Registered only by the bench: relay, tabs and Node peer never speak it otherwise. */
export const BENCH_PROTOCOL = '/golem-clay/bench/1.0.0'

/** Every sender (libp2p and raw) writes in chunks of this size. */
export const CHUNK_SIZE = 64 * 1024

const ACK_LENGTH = 8

/** The sink's reply: the byte count it received, as a big-endian u64. */
export function encodeAck (total: number): Uint8Array<ArrayBuffer> {
  const buf = new Uint8Array(ACK_LENGTH)
  new DataView(buf.buffer).setBigUint64(0, BigInt(total))
  return buf
}

export function decodeAck (buf: Uint8Array): number {
  if (buf.byteLength < ACK_LENGTH) throw new Error(`ack too short: ${buf.byteLength} bytes`)
  return Number(new DataView(buf.buffer, buf.byteOffset, ACK_LENGTH).getBigUint64(0))
}

/**
 * Counts what the sender writes and replies with the total once the sender
 * closes its write side, so the sender's clock stops only when every byte
 * has reached the far end.
 */
export function handleBenchStream (stream: Stream): void {
  let total = 0
  const onMessage = (evt: StreamMessageEvent): void => { total += evt.data.byteLength }
  stream.addEventListener('message', onMessage)
  const finish = (): void => {
    stream.removeEventListener('message', onMessage)
    try {
      stream.send(encodeAck(total))
      stream.close().catch(err => { stream.abort(err) })
    } catch (err: any) {
      stream.abort(err)
    }
  }
  // 'end' fires once the read buffer is drained after the remote closed writing
  if (stream.readableEnded) finish()
  else stream.addEventListener('end', finish, { once: true })
}

/**
 * Sends `bytes` over a fresh bench stream on `conn`, honouring backpressure,
 * and resolves with the ms from the first write to the sink's ack.
 */
export async function sendBulk (conn: Connection, bytes: number, options: Required<AbortOptions>): Promise<number> {
  const { signal } = options
  const stream = await conn.newStream(BENCH_PROTOCOL, { signal, runOnLimitedConnection: true })
  try {
    const ack = readAck(stream, signal)
    // the sender reuses one buffer: every transport copies or frames it before the next write
    const chunk = new Uint8Array(CHUNK_SIZE)
    const start = performance.now()
    let sent = 0
    while (sent < bytes) {
      const n = Math.min(CHUNK_SIZE, bytes - sent)
      const more = stream.send(n === CHUNK_SIZE ? chunk : chunk.subarray(0, n))
      sent += n
      if (!more) await stream.onDrain({ signal })
    }
    await stream.close({ signal })
    const total = await ack
    const ms = performance.now() - start
    if (total !== bytes) throw new Error(`sink counted ${total} bytes, sent ${bytes}`)
    return ms
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

/** Collects the 8-byte ack; listening from the start so nothing is missed. */
async function readAck (stream: Stream, signal: AbortSignal): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const parts: Uint8Array[] = []
    let length = 0
    const cleanup = (): void => {
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const onMessage = (evt: StreamMessageEvent): void => {
      const data = evt.data.subarray()
      parts.push(data)
      length += data.byteLength
      if (length < ACK_LENGTH) return
      cleanup()
      const all = new Uint8Array(length)
      let offset = 0
      for (const p of parts) { all.set(p, offset); offset += p.byteLength }
      resolve(decodeAck(all))
    }
    const onClose = (evt: StreamCloseEvent): void => {
      cleanup()
      reject(evt.error ?? new Error('stream closed before the ack'))
    }
    const onAbort = (): void => { cleanup(); reject(signal.reason) }
    stream.addEventListener('message', onMessage)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
