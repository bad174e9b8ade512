import { StorageProtocolError } from './errors.ts'
import { sha256Once } from './digest.ts'
import { encodeControl, encodeData } from './storage-codec.ts'
import { MAX_CONTROL_FRAME } from './storage-protocol.ts'
import { readReply, withTransferStream } from './transfer-stream.ts'
import type { ObjectInfo, PutRequest } from './storage-codec.ts'
import type { ProgressMeter } from './progress.ts'
import type { ContentHash } from './content-hash.ts'
import type { UploadSource } from './sources.ts'
import type { TransferTap } from './transfer-tap.ts'
import type { Connection, Stream } from '@libp2p/interface'

export interface UploadAttemptInit {
  /** A fresh storage stream, and the connection it runs on. */
  stream: Stream
  conn: Connection
  request: PutRequest
  source: UploadSource
  meter: ProgressMeter
  signal: AbortSignal
  tap?: TransferTap
  /** No reply from the relay for this long fails the attempt, ms. */
  idleTimeout: number
  /** When the request names no hash: the whole content's hash, sent as `end` after the last chunk. */
  contentHash?: ContentHash
  /** The relay said where this attempt starts (above 0: it resumes bytes it kept). */
  onReady?: (offset: number) => void
  /** The hash promised after the last chunk went out; true when the tap promised another than the content's. */
  onPromised?: (altered: boolean) => void
}

export interface UploadResult { object: ObjectInfo, deduplicated: boolean }

/**
 * Bytes sent but not yet acknowledged by the relay. libp2p accepts writes as
 * long as the Yamux window allows and the transport below buffers without
 * bound, so without this a fast sender would queue the whole file in memory
 * and report it sent long before the relay has it. It matches Yamux's
 * largest stream window: on a busy machine the browser's WebSocket path
 * buffers several MiB, and a smaller window than a plain stream gets would
 * leave the upload waiting for acknowledgements while the pipe is not full.
 */
export const MAX_UNACKED = 16 * 1024 * 1024

/**
 * One upload attempt over one stream: the relay says how much it already
 * holds, we send the rest in hashed chunks (reading and hashing the next chunk
 * while the current one goes out), and it answers `stored` once the whole
 * content hashed to what we promised.
 */
export async function uploadAttempt (init: UploadAttemptInit): Promise<UploadResult> {
  const { stream, conn, request, source, meter, tap } = init
  // a relay that neither reads nor answers for this long has gone away
  return await withTransferStream({ stream, signal: init.signal, idleTimeout: init.idleTimeout, idleWhat: 'progress', maxFrameLength: MAX_CONTROL_FRAME }, async ({ fs, signal, touch, fail }) => {
    await fs.write(encodeControl(request), { signal })
    const first = await readReply(fs, signal)
    touch()
    if (first.type === 'stored') {
      meter.update(request.size, true)
      return { object: first.object, deduplicated: first.deduplicated }
    }
    if (first.type !== 'ready') throw new StorageProtocolError(`Unexpected ${first.type} reply to put`)
    const chunkSize = first.chunkSize
    let offset = first.offset
    init.onReady?.(offset)
    meter.phase('uploading', { relay: conn.remotePeer.toString(), bytes: offset })

    // the relay's answers (acks, the final `stored`, or an error) arrive while we write
    let acked = offset
    let ackWaiter: (() => void) | undefined
    const answers = (async (): Promise<UploadResult> => {
      for (;;) {
        const reply = await readReply(fs, signal)
        touch()
        if (reply.type === 'ack') {
          acked = Math.max(acked, reply.offset)
          ackWaiter?.()
          continue
        }
        if (reply.type === 'stored') return { object: reply.object, deduplicated: reply.deduplicated }
        throw new StorageProtocolError(`Unexpected ${reply.type} reply during upload`)
      }
    })()
    answers.catch(fail)

    const prepare = async (at: number): Promise<{ at: number, bytes: Uint8Array, hash: Uint8Array }> => {
      const bytes = await source.read(at, Math.min(chunkSize, source.size - at))
      // chunks are prepared one after another, in order: the running hash sees them so
      await init.contentHash?.feed(at, bytes, signal)
      return { at, bytes, hash: await sha256Once(bytes) }
    }
    let next = offset < source.size ? prepare(offset) : undefined
    while (next != null) {
      const chunk = await next
      const end = chunk.at + chunk.bytes.byteLength
      next = end < source.size ? prepare(end) : undefined
      next?.catch(() => {})
      const bytes = tap?.chunk?.('up', chunk.at, chunk.bytes) ?? chunk.bytes
      while (chunk.at - acked > MAX_UNACKED) {
        await Promise.race([new Promise<void>(resolve => { ackWaiter = resolve }), answers])
      }
      await Promise.race([fs.write(encodeData(chunk.at, chunk.hash, bytes), { signal }), answers])
      offset = end
      touch()
      meter.update(offset)
      tap?.moved?.('up', offset, conn)
    }
    if (init.contentHash != null) {
      const digest = await init.contentHash.digest(signal)
      const sha256 = tap?.declare?.(digest) ?? digest
      init.onPromised?.(sha256 !== digest)
      await Promise.race([fs.write(encodeControl({ v: 1, type: 'end', sha256 }), { signal }), answers])
    }
    // all sent: the relay checks the whole hash and commits
    meter.phase('verifying')
    return await answers
  })
}
