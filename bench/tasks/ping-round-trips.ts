import { byteStream } from '@libp2p/utils'
import type { Connection, Stream } from '@libp2p/interface'

/**
 * Times `n` ping round trips (32 bytes each way) on `conn`, each on a fresh
 * stream or all on one (`reuse`): what a market request costs on a path
 * before any market code runs. Ms per round trip. Used by the bench page
 * and by the bench process alike.
 */
export async function pingRoundTrips (conn: Connection, n: number, reuse: boolean): Promise<number> {
  const open = async (): Promise<Stream> => await conn.newStream('/ipfs/ping/1.0.0', { runOnLimitedConnection: true })
  const once = async (stream: Stream): Promise<void> => {
    const bytes = byteStream(stream)
    await bytes.write(new Uint8Array(32))
    await bytes.read({ bytes: 32 })
    bytes.unwrap()
  }
  const t0 = performance.now()
  if (reuse) {
    const stream = await open()
    for (let i = 0; i < n; i++) await once(stream)
    await stream.close()
  } else {
    for (let i = 0; i < n; i++) {
      const stream = await open()
      await once(stream)
      await stream.close()
    }
  }
  return (performance.now() - t0) / n
}
