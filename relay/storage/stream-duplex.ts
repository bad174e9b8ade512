import { Duplex } from 'streamx'
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { ShuttingDownError } from '../../shared/errors.ts'

/**
 * A libp2p stream as the streamx Duplex Hypercore replicates over, with
 * backpressure both ways: our writes wait for the stream to drain, and the
 * stream is paused while Hypercore has not read what we pushed.
 */
export function streamToDuplex (stream: Stream): Duplex {
  let paused = false
  // after a pause Yamux may still deliver a full window
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, 32 * 1024 * 1024)
  const duplex = new Duplex({
    write (data: unknown, cb: (err?: Error | null) => void) {
      try {
        if (stream.send(data as Uint8Array)) cb(null)
        else stream.onDrain().then(() => { cb(null) }, cb)
      } catch (err: any) {
        cb(err)
      }
    },
    final (cb: (err?: Error | null) => void) {
      stream.close().then(() => { cb(null) }, cb)
    },
    read (cb: (err?: Error | null) => void) {
      if (paused) {
        paused = false
        try { stream.resume() } catch {}
      }
      cb(null)
    },
    predestroy () {
      if (stream.status === 'open') stream.abort(new ShuttingDownError('Replication stream closed'))
    }
  } as any)
  stream.addEventListener('message', (evt: StreamMessageEvent) => {
    const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
    if (!duplex.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)) && !paused) {
      paused = true
      try { stream.pause() } catch {}
    }
  })
  stream.addEventListener('remoteCloseWrite', () => { duplex.push(null) })
  stream.addEventListener('close', (evt: StreamCloseEvent) => {
    if (evt.error != null) duplex.destroy(evt.error)
    else duplex.push(null)
  })
  return duplex
}

/** Pipes two duplexes into each other; resolves when either side is done. */
export async function pipeBoth (a: Duplex, b: Duplex): Promise<void> {
  await new Promise<void>((resolve) => {
    let finished = false
    const done = (): void => {
      if (finished) return
      finished = true
      a.destroy()
      b.destroy()
      resolve()
    }
    for (const s of [a, b]) {
      s.on('error', done)
      s.on('close', done)
    }
    a.pipe(b)
    b.pipe(a)
  })
}
