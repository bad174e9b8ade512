import { connect } from 'node:net'
import { once } from 'node:events'
import { CHUNK_SIZE, decodeAck } from './bench-protocol.ts'
import { setupLoop, transferLoop } from './loops.ts'
import type { SetupSamples, ThroughputRequest } from './loops.ts'
import type { SetupRequest } from '../../web/bench/transport/bench-api.ts'
import type { Socket } from 'node:net'

const HOST = '127.0.0.1'

/** Buffers everything a socket receives so reads can ask for exact byte counts. */
class SocketReader {
  private buf = Buffer.alloc(0)
  private wake?: () => void
  private failure?: Error

  constructor (private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.buf = Buffer.concat([this.buf, chunk]); this.wake?.() })
    socket.on('error', (err) => { this.failure = err; this.wake?.() })
    socket.on('close', () => { this.failure ??= new Error('socket closed'); this.wake?.() })
  }

  async read (n: number, signal: AbortSignal): Promise<Buffer> {
    while (this.buf.byteLength < n) {
      if (this.failure != null) throw this.failure
      signal.throwIfAborted()
      await new Promise<void>((resolve) => {
        const onAbort = (): void => { resolve() }
        signal.addEventListener('abort', onAbort, { once: true })
        this.wake = () => { signal.removeEventListener('abort', onAbort); resolve() }
      })
      this.wake = undefined
    }
    const out = this.buf.subarray(0, n)
    this.buf = this.buf.subarray(n)
    return out
  }
}

async function open (port: number, signal: AbortSignal): Promise<Socket> {
  const socket = connect({ host: HOST, port, noDelay: true, allowHalfOpen: true })
  try {
    await once(socket, 'connect', { signal })
    return socket
  } catch (err) {
    socket.destroy()
    throw err
  }
}

/** Writes `bytes` with 'drain' backpressure, half-closes, waits for the 8-byte ack. */
async function transfer (socket: Socket, reader: SocketReader, bytes: number, signal: AbortSignal): Promise<number> {
  const chunk = Buffer.alloc(CHUNK_SIZE)
  const start = performance.now()
  let sent = 0
  while (sent < bytes) {
    const n = Math.min(CHUNK_SIZE, bytes - sent)
    sent += n
    if (!socket.write(n === CHUNK_SIZE ? chunk : chunk.subarray(0, n))) await once(socket, 'drain', { signal })
  }
  socket.end()
  const total = decodeAck(await reader.read(8, signal))
  const ms = performance.now() - start
  if (total !== bytes) throw new Error(`raw sink counted ${total} bytes, sent ${bytes}`)
  return ms
}

/**
 * Connects to `port` and resolves with the ms until the socket is open or,
 * with `waitReady`, until the far end's one-byte confirmation came back.
 */
async function timeConnect (port: number, waitReady: boolean, signal: AbortSignal): Promise<number> {
  const start = performance.now()
  const socket = await open(port, signal)
  try {
    if (waitReady) await new SocketReader(socket).read(1, signal)
    return performance.now() - start
  } finally {
    socket.destroy()
  }
}

/** Bare TCP set-up: connect() until 'connect'. */
export async function rawTcpSetup (port: number, req: SetupRequest, log: (line: string) => void): Promise<SetupSamples> {
  return await setupLoop({ ...req, log, attempt: async (signal) => await timeConnect(port, false, signal), reset: async () => {} })
}

/**
 * Bare relayed-shape set-up: connect to the forwarder and wait for the
 * tab's confirmation to come back through it (a full round trip, as a
 * libp2p dial is only done once the far end answered).
 */
export async function rawRelayedSetup (port: number, req: SetupRequest, log: (line: string) => void): Promise<SetupSamples> {
  return await setupLoop({ ...req, log, attempt: async (signal) => await timeConnect(port, true, signal), reset: async () => {} })
}

/** ms per transfer, one fresh socket each (a half-close ends a TCP socket). */
export async function rawThroughput (port: number, req: ThroughputRequest, opts: { waitReady: boolean }): Promise<number[]> {
  return await transferLoop(req, async (bytes, signal) => {
    const socket = await open(port, signal)
    try {
      const reader = new SocketReader(socket)
      if (opts.waitReady) await reader.read(1, signal)
      return await transfer(socket, reader, bytes, signal)
    } finally {
      socket.destroy()
    }
  })
}
