import { FrameStream } from './frame-stream.ts'
import { encodeControl } from './storage-codec.ts'
import { MAX_CONTROL_FRAME } from './storage-protocol.ts'
import { readReply } from './transfer-stream.ts'
import type { StorageReply, StorageRequest } from './storage-codec.ts'
import type { Stream } from '@libp2p/interface'

/** One request, one reply (stat, delete, drive, replicate) on a fresh storage stream, within 15 s. */
export async function simpleRequest (stream: Stream, request: StorageRequest, outer: AbortSignal): Promise<StorageReply> {
  const signal = AbortSignal.any([outer, AbortSignal.timeout(15_000)])
  const fs = new FrameStream(stream, { maxFrameLength: MAX_CONTROL_FRAME })
  try {
    await fs.write(encodeControl(request), { signal })
    const reply = await readReply(fs, signal)
    await stream.close({ signal }).catch(() => {})
    return reply
  } catch (err: any) {
    stream.abort(err)
    throw err
  } finally {
    fs.release()
  }
}
