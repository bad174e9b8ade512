// The raw baseline of `npm run bench:storage`: the same bytes over a plain
// libp2p stream on the same connection, without the storage protocol.
import type { AbortOptions, Connection, Stream } from '@libp2p/interface'

/** Registered on the bench relay only (after start, so outside the session gate). */
export const RAW_PROTOCOL = '/golem-clay/storage-bench-raw/1.0.0'

/** The same size as the storage protocol's data frames. */
export const RAW_CHUNK = 256 * 1024

function header (op: 'u' | 'd', size: number): Uint8Array {
  const h = new Uint8Array(9)
  h[0] = op.charCodeAt(0)
  new DataView(h.buffer).setBigUint64(1, BigInt(size))
  return h
}

async function send (stream: Stream, bytes: Uint8Array, options?: AbortOptions): Promise<void> {
  if (!stream.send(bytes)) await stream.onDrain(options)
}

/** Server side: 'u' counts `size` bytes in and answers one byte; 'd' sends `size` bytes out. */
export function handleRawStream (stream: Stream, source: Uint8Array): void {
  let head: Uint8Array | undefined
  let pending = new Uint8Array(0)
  let received = 0
  let size = 0
  stream.addEventListener('message', (evt) => {
    const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
    if (head == null) {
      const joined = new Uint8Array(pending.byteLength + data.byteLength)
      joined.set(pending)
      joined.set(data, pending.byteLength)
      if (joined.byteLength < 9) {
        pending = joined
        return
      }
      head = joined.subarray(0, 9)
      size = Number(new DataView(head.buffer, head.byteOffset, 9).getBigUint64(1))
      const rest = joined.subarray(9)
      if (head[0] === 'd'.charCodeAt(0)) {
        void (async () => {
          for (let at = 0; at < size; at += RAW_CHUNK) await send(stream, source.subarray(0, Math.min(RAW_CHUNK, size - at)))
          await stream.close()
        })().catch((err: Error) => { stream.abort(err) })
        return
      }
      received += rest.byteLength
    } else {
      received += data.byteLength
    }
    if (head[0] === 'u'.charCodeAt(0) && received >= size) {
      void send(stream, Uint8Array.of(1)).then(async () => { await stream.close() }).catch((err: Error) => { stream.abort(err) })
    }
  })
}

/** Client: sends `data` and resolves (with ms) once the relay has counted all of it. */
export async function rawUpload (conn: Connection, data: Uint8Array, signal: AbortSignal): Promise<number> {
  const stream = await conn.newStream(RAW_PROTOCOL, { signal })
  const done = new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', () => { resolve() })
    stream.addEventListener('close', (evt) => { if (evt.error != null) reject(evt.error) })
  })
  const start = performance.now()
  await send(stream, header('u', data.byteLength), { signal })
  for (let at = 0; at < data.byteLength; at += RAW_CHUNK) await send(stream, data.subarray(at, at + RAW_CHUNK), { signal })
  await done
  const ms = performance.now() - start
  await stream.close().catch(() => {})
  return ms
}

/** Client: asks the relay for `size` bytes and resolves (with ms) once all have arrived. */
export async function rawDownload (conn: Connection, size: number, signal: AbortSignal): Promise<number> {
  const stream = await conn.newStream(RAW_PROTOCOL, { signal })
  let got = 0
  const done = new Promise<void>((resolve, reject) => {
    stream.addEventListener('message', (evt) => {
      got += evt.data.byteLength
      if (got >= size) resolve()
    })
    stream.addEventListener('close', (evt) => { if (evt.error != null) reject(evt.error) })
  })
  const start = performance.now()
  await send(stream, header('d', size), { signal })
  await done
  const ms = performance.now() - start
  await stream.close().catch(() => {})
  return ms
}
