import { ChunkCorruptedError, ContentHashMismatchError, errorFromWire, StorageProtocolError } from './errors.ts'
import { equalBytes, sha256Once } from './digest.ts'
import { decodeControl, decodeFrameParts, encodeControl, validateReply } from './storage-codec.ts'
import { MAX_FRAME } from './storage-protocol.ts'
import { readReply, withTransferStream } from './transfer-stream.ts'
import type { GetRequest, ObjectInfo } from './storage-codec.ts'
import type { ProgressMeter } from './progress.ts'
import type { DownloadSink } from './sources.ts'
import type { TransferTap } from './transfer-tap.ts'
import type { Connection, Stream } from '@libp2p/interface'

export interface DownloadAttemptInit {
  /** A fresh storage stream, and the connection it runs on. */
  stream: Stream
  conn: Connection
  request: GetRequest
  /** What the address promises; a relay serving anything else is refused. */
  expected?: { sha256: string, size: number }
  sink: DownloadSink
  meter: ProgressMeter
  signal: AbortSignal
  tap?: TransferTap
  idleTimeout: number
  /** Called after each verified chunk, with the new offset. */
  onOffset: (offset: number) => void
}

/**
 * One download attempt from `request.offset`: every chunk's hash is checked
 * before it reaches the sink. The whole-content check is the caller's, once
 * all bytes are in (they may have come from several relays).
 */
export async function downloadAttempt (init: DownloadAttemptInit): Promise<ObjectInfo> {
  const { stream, conn, request, sink, meter, tap } = init
  return await withTransferStream({ stream, signal: init.signal, idleTimeout: init.idleTimeout, idleWhat: 'data', maxFrameLength: MAX_FRAME }, async ({ fs, signal, touch }) => {
    await fs.write(encodeControl(request), { signal })
    // the object's header comes first
    const reply = await readReply(fs, signal)
    if (reply.type !== 'object' || reply.offset !== request.offset) throw new StorageProtocolError('Unexpected reply to get')
    const object = reply.object
    if (init.expected != null && (object.sha256 !== init.expected.sha256 || object.size !== init.expected.size)) {
      throw new ContentHashMismatchError('The relay holds different content at this path than the address names')
    }
    meter.phase('downloading', { relay: conn.remotePeer.toString(), bytes: request.offset })
    let offset = request.offset
    while (offset < object.size) {
      const frame = await fs.readList({ signal })
      touch()
      if (frame == null) throw new StorageProtocolError(`The relay ended the stream at byte ${offset} of ${object.size}`)
      const f = decodeFrameParts(frame)
      if (f.kind === 'control') {
        const r = decodeControl(f.bytes, validateReply)
        if (r.type === 'error') throw errorFromWire(r.error)
        throw new StorageProtocolError(`Unexpected ${r.type} during download`)
      }
      if (f.offset !== offset || f.bytes.byteLength > object.size - offset) throw new StorageProtocolError('Chunk out of order or past the end')
      // the chunk arrives in pieces: straight into the sink's memory when it has some (checked there before it counts), else joined
      const region = sink.region?.(offset, f.bytes.byteLength)
      let bytes: Uint8Array
      if (region != null) {
        let at = 0
        for (const piece of f.bytes) {
          region.set(piece, at)
          at += piece.byteLength
        }
        bytes = region
      } else {
        bytes = f.bytes.subarray()
      }
      bytes = tap?.chunk?.('down', offset, bytes) ?? bytes
      if (!equalBytes(await sha256Once(bytes), f.sha256)) throw new ChunkCorruptedError(`Chunk at byte ${offset} failed its hash check`, offset)
      await sink.write(offset, bytes)
      offset += bytes.byteLength
      init.onOffset(offset)
      meter.update(offset)
      tap?.moved?.('down', offset, conn)
    }
    return object
  })
}
