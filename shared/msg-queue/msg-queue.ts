import { GolemClayError } from '../errors.ts'
import { TypedEventEmitter } from 'main-event'
import { Backoff } from '../util/index.ts'

export type Priority = 'control' | 'task' | 'bulk'
const PRIORITIES: readonly Priority[] = ['control', 'task', 'bulk']

export interface MsgQueueInit {
  /** Most messages waiting per peer, all priorities together. @default 256 */
  maxPerPeer?: number
  /** Most bytes waiting per peer. @default 4 MiB */
  maxBytesPerPeer?: number
  /** How long a message waits for a peer that is offline, in ms. @default 300_000 */
  ttl?: number
  /** Retry pacing while a peer stays unreachable. */
  retry?: { initialDelay?: number, maxDelay?: number }
  now?: () => number
}

export interface MsgQueueComponents<T> {
  /** Hands one message to the peer; rejects if the peer can't be reached now. */
  deliver: (peer: string, message: T, signal: AbortSignal) => Promise<void>
}

export interface PushOptions {
  priority?: Priority
  /** Size counted against the byte bound. @default 1 */
  size?: number
  /** Overrides the queue's TTL for this message, in ms. */
  ttl?: number
  /** Aborts waiting for room in a full queue. */
  signal?: AbortSignal
  /** Called when the first attempt fails and the message waits for the peer. */
  onQueued?: () => void
}

/** The message waited longer than its TTL for its peer. */
export class MessageExpiredError extends GolemClayError { override name = 'MessageExpiredError'; override readonly code = 'MESSAGE_EXPIRED' }

/** The queue was stopped before the message could be delivered. */
export class QueueClosedError extends GolemClayError { override name = 'QueueClosedError'; override readonly code = 'QUEUE_CLOSED' }

/** A message alone is larger than the per-peer byte bound. */
export class MessageTooLargeForQueueError extends GolemClayError { override name = 'MessageTooLargeForQueueError'; override readonly code = 'MESSAGE_TOO_LARGE_FOR_QUEUE' }

interface Entry<T> {
  message: T
  priority: Priority
  size: number
  expiresAt: number
  resolve: () => void
  reject: (err: Error) => void
  onQueued?: () => void
  attempts: number
}

interface PeerQueue<T> {
  lanes: Record<Priority, Array<Entry<T>>>
  count: number
  bytes: number
  pumping: boolean
  backoff: Backoff
  wake?: () => void
  roomWaiters: Array<() => void>
}

export interface MsgQueueEvents {
  'message:expired': CustomEvent<{ peer: string }>
}

/**
 * Per-peer outbound queue. Ordering: for one peer, messages of one priority
 * go out in push order; a waiting higher-priority message goes before any
 * lower one not yet started (control > task > bulk); one delivery at a time
 * per peer. A failed delivery stays at the head of its lane and is retried
 * when the peer is back (`online`) or after a backoff, so delivery is
 * at-least-once: receivers drop duplicates by message ID. Bounded per peer:
 * `push` waits for room (backpressure) instead of growing without limit.
 */
export class MsgQueue<T> extends TypedEventEmitter<MsgQueueEvents> {
  private readonly peers = new Map<string, PeerQueue<T>>()
  private readonly maxPerPeer: number
  private readonly maxBytes: number
  private readonly ttl: number
  private readonly retry: { initialDelay?: number, maxDelay?: number }
  private readonly now: () => number
  private readonly controller = new AbortController()

  constructor (private readonly components: MsgQueueComponents<T>, init: MsgQueueInit = {}) {
    super()
    this.maxPerPeer = init.maxPerPeer ?? 256
    this.maxBytes = init.maxBytesPerPeer ?? 4 * 1024 * 1024
    this.ttl = init.ttl ?? 300_000
    this.retry = init.retry ?? {}
    this.now = init.now ?? Date.now
  }

  /**
   * Queues `message` for `peer`. Resolves with a promise that settles when the
   * message is delivered (or expires); the outer promise waits while the
   * peer's queue is full.
   */
  async push (peer: string, message: T, options: PushOptions = {}): Promise<{ delivered: Promise<void> }> {
    const size = options.size ?? 1
    if (size > this.maxBytes) throw new MessageTooLargeForQueueError(`Message of ${size} bytes exceeds the ${this.maxBytes} byte queue bound`)
    if (this.controller.signal.aborted) throw new QueueClosedError('Queue stopped')
    const q = this.queueFor(peer)
    while (q.count >= this.maxPerPeer || q.bytes + size > this.maxBytes) {
      await this.waitForRoom(q, options.signal)
    }
    let resolve!: () => void
    let reject!: (err: Error) => void
    const delivered = new Promise<void>((res, rej) => { resolve = res; reject = rej })
    delivered.catch(() => {}) // callers that only care about acceptance must not see unhandled rejections
    const entry: Entry<T> = { message, priority: options.priority ?? 'task', size, expiresAt: this.now() + (options.ttl ?? this.ttl), resolve, reject, onQueued: options.onQueued, attempts: 0 }
    q.lanes[entry.priority].push(entry)
    q.count++
    q.bytes += size
    void this.pump(peer, q)
    return { delivered }
  }

  /** The peer is reachable again: retry its queue now. */
  online (peer: string): void {
    const q = this.peers.get(peer)
    if (q == null) return
    q.backoff.reset()
    q.wake?.()
  }

  size (peer: string): number {
    return this.peers.get(peer)?.count ?? 0
  }

  get totalSize (): number {
    let n = 0
    for (const q of this.peers.values()) n += q.count
    return n
  }

  stop (): void {
    this.controller.abort()
    for (const q of this.peers.values()) {
      for (const lane of PRIORITIES) for (const e of q.lanes[lane]) e.reject(new QueueClosedError('Queue stopped'))
      q.wake?.()
      for (const w of q.roomWaiters) w()
    }
    this.peers.clear()
  }

  private newBackoff (): Backoff {
    const initialDelay = this.retry.initialDelay ?? 1_000
    return new Backoff({ initialDelay, maxDelay: Math.max(this.retry.maxDelay ?? 30_000, initialDelay) })
  }

  private queueFor (peer: string): PeerQueue<T> {
    let q = this.peers.get(peer)
    if (q == null) {
      q = { lanes: { control: [], task: [], bulk: [] }, count: 0, bytes: 0, pumping: false, backoff: this.newBackoff(), roomWaiters: [] }
      this.peers.set(peer, q)
    }
    return q
  }

  private async waitForRoom (q: PeerQueue<T>, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        q.roomWaiters = q.roomWaiters.filter(w => w !== done)
        reject(signal?.reason)
      }
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      q.roomWaiters.push(done)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    if (this.controller.signal.aborted) throw new QueueClosedError('Queue stopped')
  }

  private head (q: PeerQueue<T>): Entry<T> | undefined {
    for (const lane of PRIORITIES) {
      const first = q.lanes[lane][0]
      if (first != null) return first
    }
    return undefined
  }

  private remove (q: PeerQueue<T>, entry: Entry<T>): void {
    const lane = q.lanes[entry.priority]
    const i = lane.indexOf(entry)
    if (i >= 0) lane.splice(i, 1)
    q.count--
    q.bytes -= entry.size
    q.roomWaiters.shift()?.()
  }

  private expire (peer: string, q: PeerQueue<T>): void {
    const now = this.now()
    for (const lane of PRIORITIES) {
      for (const entry of [...q.lanes[lane]]) {
        if (entry.expiresAt > now) continue
        this.remove(q, entry)
        entry.reject(new MessageExpiredError(`Message for ${peer} expired after waiting ${entry.attempts} attempts`))
        this.safeDispatchEvent('message:expired', { detail: { peer } })
      }
    }
  }

  private async pump (peer: string, q: PeerQueue<T>): Promise<void> {
    if (q.pumping) return
    q.pumping = true
    try {
      while (!this.controller.signal.aborted) {
        this.expire(peer, q)
        const entry = this.head(q)
        if (entry == null) break
        entry.attempts++
        try {
          const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(Math.max(entry.expiresAt - this.now(), 1))])
          await this.components.deliver(peer, entry.message, signal)
          this.remove(q, entry)
          q.backoff.reset()
          entry.resolve()
        } catch {
          if (entry.attempts === 1) entry.onQueued?.()
          await this.sleep(q, Math.min(q.backoff.next(), Math.max(this.nextExpiry(q) - this.now(), 0)))
        }
      }
    } finally {
      q.pumping = false
      if (q.count === 0) this.peers.delete(peer)
    }
  }

  private nextExpiry (q: PeerQueue<T>): number {
    let min = Infinity
    for (const lane of PRIORITIES) for (const e of q.lanes[lane]) min = Math.min(min, e.expiresAt)
    return min
  }

  private async sleep (q: PeerQueue<T>, ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, ms)
      function done (): void { clearTimeout(timer); resolve() }
      q.wake = done
    })
    q.wake = undefined
  }
}
