import { CHUNK_SIZE } from '../../../bench/transport/bench-protocol.ts'
import { sleep } from '../../../bench/common/timing.ts'

/**
 * The raw baselines' tiny sink protocol, shared by RTCDataChannel and
 * WebSocket: binary messages are counted, the text "end" asks for the count,
 * which comes back as decimal text.
 */
// method syntax on purpose: it lets RTCDataChannel's overloaded send() fit
export interface RawChannel {
  readonly bufferedAmount: number
  send(data: string | Uint8Array<ArrayBuffer>): void
  addEventListener(type: 'message', listener: (evt: MessageEvent) => void): void
  removeEventListener(type: 'message', listener: (evt: MessageEvent) => void): void
}

/** Makes `channel` the counting end of the raw protocol. */
export function attachRawSink (channel: RawChannel): void {
  let count = 0
  channel.addEventListener('message', (evt) => {
    const data: unknown = evt.data
    if (typeof data === 'string') {
      if (data === 'end') {
        channel.send(String(count))
        count = 0
      } else if (data === 'open') {
        // the raw forwarder pairs a new TCP socket with us: start afresh, confirm
        count = 0
        channel.send('ok')
      }
    } else if (data instanceof ArrayBuffer) {
      count += data.byteLength
    }
  })
}

/**
 * Sends `bytes` in CHUNK_SIZE messages, pausing above `highWater` until
 * `waitLow` says the buffer drained, then asks for the count and resolves
 * with the ms from the first send to the reply.
 */
export async function rawTransfer (channel: RawChannel, bytes: number, highWater: number, waitLow: () => Promise<void>, signal: AbortSignal): Promise<number> {
  const reply = nextText(channel, signal)
  const chunk = new Uint8Array(CHUNK_SIZE)
  const start = performance.now()
  let sent = 0
  while (sent < bytes) {
    signal.throwIfAborted()
    if (channel.bufferedAmount > highWater) await waitLow()
    const n = Math.min(CHUNK_SIZE, bytes - sent)
    channel.send(n === CHUNK_SIZE ? chunk : chunk.slice(0, n))
    sent += n
  }
  channel.send('end')
  const total = Number(await reply)
  const ms = performance.now() - start
  if (total !== bytes) throw new Error(`raw sink counted ${total} bytes, sent ${bytes}`)
  return ms
}

/** The next text message on `channel`. */
export async function nextText (channel: RawChannel, signal: AbortSignal): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const onMessage = (evt: MessageEvent): void => {
      if (typeof evt.data !== 'string') return
      done()
      resolve(evt.data)
    }
    const onAbort = (): void => { done(); reject(signal.reason) }
    const done = (): void => {
      channel.removeEventListener('message', onMessage)
      signal.removeEventListener('abort', onAbort)
    }
    channel.addEventListener('message', onMessage)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Resolves at `target`'s 'open' event; rejects with `failure()` at its
 * `failEvent`, or with the signal's reason when it aborts first.
 */
export async function untilOpen (target: EventTarget, failEvent: 'error' | 'close', failure: () => Error, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      target.removeEventListener('open', onOpen)
      target.removeEventListener(failEvent, onFail)
      signal.removeEventListener('abort', onAbort)
    }
    const onOpen = (): void => { done(); resolve() }
    const onFail = (): void => { done(); reject(failure()) }
    const onAbort = (): void => { done(); reject(signal.reason) }
    target.addEventListener('open', onOpen)
    target.addEventListener(failEvent, onFail)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * WebSocket has no "buffer drained" event: poll, as libp2p's WebSocket
 * transport does, but resume at `lowWater` instead of waiting for empty.
 */
export async function pollBelow (ws: WebSocket, lowWater: number, signal: AbortSignal): Promise<void> {
  while (ws.bufferedAmount > lowWater) {
    signal.throwIfAborted()
    await sleep(1)
  }
}
