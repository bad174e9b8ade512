import { PING_PROTOCOL } from '@libp2p/ping'
import { ProtocolError } from '../errors.ts'
import { byteStream } from '@libp2p/utils'
import type { AbortOptions, Connection } from '@libp2p/interface'

const PING_LENGTH = 32

/**
 * Measures the round trip on one specific connection with the standard ping
 * protocol and records it on `conn.rtt` (libp2p's connection monitor only
 * refreshes it every few seconds).
 */
export async function measureRtt (conn: Connection, options: AbortOptions = {}): Promise<number> {
  const stream = await conn.newStream(PING_PROTOCOL, { ...options, runOnLimitedConnection: true })
  try {
    const bytes = byteStream(stream)
    const payload = crypto.getRandomValues(new Uint8Array(PING_LENGTH))
    const start = performance.now()
    await bytes.write(payload, options)
    const echo = await bytes.read({ ...options, bytes: PING_LENGTH })
    const rtt = performance.now() - start
    if (!echo.subarray().every((b, i) => b === payload[i])) throw new ProtocolError('Ping echo did not match')
    conn.rtt = Math.round(rtt * 10) / 10
    await stream.close(options)
    return conn.rtt
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}
