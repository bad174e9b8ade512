import { FrameStream } from './frame-stream.ts'
import { encodeControl } from './storage-codec.ts'
import { STORAGE_PROTOCOL } from '../wire/index.ts'
import { MAX_CONTROL_FRAME } from './storage-protocol.ts'
import { readReply } from './upload.ts'
import type { StorageReply, StorageRequest } from './storage-codec.ts'
import type { Connection } from '@libp2p/interface'

/** One request, one reply (stat, delete, drive, replicate), within 15 s. */
export async function simpleRequest (conn: Connection, request: StorageRequest, outer: AbortSignal): Promise<StorageReply> {
  const signal = AbortSignal.any([outer, AbortSignal.timeout(15_000)])
  const stream = await conn.newStream(STORAGE_PROTOCOL, { signal })
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
