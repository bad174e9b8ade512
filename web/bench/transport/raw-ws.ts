import { transferLoop } from '../../../bench/transport/loops.ts'
import { attachRawSink, pollBelow, rawTransfer, untilOpen } from './raw-channel.ts'
import type { ThroughputRequest } from './bench-api.ts'

/** Same ceiling as libp2p's WebSocket transport (4 MiB); resume at 1 MiB. */
const HIGH_WATER = 4 * 1024 * 1024
const LOW_WATER = 1024 * 1024

/** Opens a bare WebSocket, resolving at 'open'. */
export async function openWs (url: string, signal: AbortSignal): Promise<WebSocket> {
  const ws = new WebSocket(url)
  ws.binaryType = 'arraybuffer'
  try {
    await untilOpen(ws, 'error', () => new Error(`WebSocket to ${url} failed`), signal)
  } catch (err) {
    ws.close()
    throw err
  }
  return ws
}

/** ms per transfer over one bare WebSocket to the raw sink. */
export async function rawWsThroughput (url: string, req: ThroughputRequest): Promise<number[]> {
  const ws = await openWs(url, AbortSignal.timeout(5_000))
  try {
    return await transferLoop(req, async (bytes, signal) =>
      await rawTransfer(ws, bytes, HIGH_WATER, async () => { await pollBelow(ws, LOW_WATER, signal) }, signal))
  } finally {
    ws.close()
  }
}

/**
 * The tab's end of the raw relayed path: a bare WebSocket to the forwarder,
 * held open like a relay reservation; the forwarder pairs each Node TCP
 * socket with it.
 */
export async function attachForwarder (url: string): Promise<WebSocket> {
  const ws = await openWs(url, AbortSignal.timeout(5_000))
  attachRawSink(ws)
  return ws
}
