import { lpStream } from '@libp2p/utils'
import { encodeJson } from '../wire/index.ts'
import { MAX_SESSION_FRAME } from './session-codec.ts'
import type { DisconnectReason } from './disconnect.ts'
import type { Connection, Stream } from '@libp2p/interface'
import { SessionRefusedError } from './disconnect.ts'

/** Tells the peer why its handshake failed, then closes the connection. */
export async function refuseHandshake (stream: Stream, conn: Connection, reason: DisconnectReason, message: string): Promise<void> {
  try {
    const signal = AbortSignal.timeout(1_000)
    await lpStream(stream, { maxDataLength: MAX_SESSION_FRAME }).write(encodeJson({ v: 1, type: 'disconnect', reason, message: message.slice(0, 256) }, MAX_SESSION_FRAME), { signal })
    await stream.close({ signal })
  } catch {
    stream.abort(new SessionRefusedError(reason, message))
  }
  await conn.close({ signal: AbortSignal.timeout(2_000) }).catch(err => { conn.abort(err) })
}
