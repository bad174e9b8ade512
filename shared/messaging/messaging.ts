import { lpStream } from '@libp2p/utils'
import { TypedEventEmitter } from 'main-event'
import { InvalidMessageError, ProtocolError } from '../errors.ts'
import { connectionKind } from '../connection/index.ts'
import { decodeJson, encodeJson, MESSAGE_PROTOCOL } from '../wire/index.ts'
import { MAX_MESSAGE_FRAME, MAX_TEXT_LENGTH, validateAckFrame, validateTextFrame } from './message-codec.ts'
import { MsgQueue } from '../msg-queue/index.ts'
import type { MsgQueueInit, Priority } from '../msg-queue/index.ts'
import type { ConnectionKind } from '../connection/index.ts'
import type { AbortOptions, ComponentLogger, Connection, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import type { SessionManager } from '../peer-session/index.ts'

export interface MessagingInit {
  /** Time allowed for one delivery attempt and its ack, in ms. @default 10_000 */
  timeout?: number
  /** Concurrent inbound message streams per connection. @default 8 */
  maxInboundStreams?: number
  /** Outbound queue: bounds and how long messages wait for an offline peer. */
  queue?: MsgQueueInit
}

export interface SendOptions extends AbortOptions {
  /** @default 'task' */
  priority?: Priority
  /** How long to keep trying while the peer is offline, in ms. */
  ttl?: number
  /** Called when the peer can't be reached now and the message waits for it. */
  onQueued?: () => void
}

interface Outgoing {
  peer: PeerId
  frame: { v: 1, type: 'text', id: string, text: string, sentAt: number }
  result?: SendResult
}

export interface MessagingComponents {
  logger: ComponentLogger
  sessions: SessionManager
}

export interface DirectMessage {
  id: string
  from: string
  text: string
  sentAt: number
  receivedAt: number
  /** The transport the message travelled over. */
  kind: ConnectionKind
}

export interface SendResult {
  id: string
  /** Time from writing the message to reading the ack, in ms. */
  rtt: number
  kind: ConnectionKind
}

export interface MessagingEvents {
  message: CustomEvent<DirectMessage>
  /** A peer sent a frame that failed to decode; the stream was refused. */
  'message:refused': CustomEvent<{ from: string, error: Error }>
}

/**
 * Direct text messages between two peers: one stream per message, the
 * receiver acks it. Runs on relayed connections too (RELAYED_LINKS), so a
 * Node peer can reach a tab through the relay.
 */
export class Messaging extends TypedEventEmitter<MessagingEvents> implements Startable {
  private readonly components: MessagingComponents
  private readonly log: Logger
  private readonly timeout: number
  private readonly maxInboundStreams: number
  private readonly queue: MsgQueue<Outgoing>
  /** Recently received message IDs per peer: delivery is at-least-once. */
  private readonly seen = new Map<string, string[]>()
  private started = false

  constructor (components: MessagingComponents, init: MessagingInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('golem-clay:messaging')
    this.timeout = init.timeout ?? 10_000
    this.maxInboundStreams = init.maxInboundStreams ?? 8
    this.queue = new MsgQueue<Outgoing>({ deliver: async (_peer, item, signal) => { await this.deliver(item, signal) } }, init.queue)
  }

  readonly [Symbol.toStringTag] = '@golem-clay/messaging'

  async start (): Promise<void> {
    await this.components.sessions.handle(MESSAGE_PROTOCOL, (stream, conn) => {
      this.onStream(stream, conn).catch(err => { this.log.error('inbound message failed - %e', err) })
    }, { maxInboundStreams: this.maxInboundStreams })
    this.components.sessions.addEventListener('session:open', this.onSessionOpen)
    this.started = true
  }

  async stop (): Promise<void> {
    this.components.sessions.removeEventListener('session:open', this.onSessionOpen)
    this.queue.stop()
    await this.components.sessions.unhandle(MESSAGE_PROTOCOL)
    this.started = false
  }

  /** Messages waiting for peers that are offline right now. */
  get queued (): number {
    return this.queue.totalSize
  }

  private readonly onSessionOpen = (evt: CustomEvent<{ remotePeer: string }>): void => {
    this.queue.online(evt.detail.remotePeer)
  }

  isStarted (): boolean {
    return this.started
  }

  /**
   * Sends `text` to `peer` and resolves once the peer has acknowledged it.
   * A peer that is offline gets the message when it comes back, within the
   * TTL (MessageExpiredError after that).
   */
  async send (peer: PeerId, text: string, options: SendOptions = {}): Promise<SendResult> {
    if (text.length === 0 || text.length > MAX_TEXT_LENGTH) {
      throw new InvalidMessageError(`Message text must be 1..${MAX_TEXT_LENGTH} characters`)
    }
    const item: Outgoing = { peer, frame: { v: 1, type: 'text', id: crypto.randomUUID(), text, sentAt: Date.now() } }
    const { delivered } = await this.queue.push(peer.toString(), item, {
      priority: options.priority,
      ttl: options.ttl,
      size: text.length,
      signal: options.signal,
      onQueued: options.onQueued
    })
    await delivered
    if (item.result == null) throw new ProtocolError('Delivery finished without a result')
    return item.result
  }

  private async deliver (item: Outgoing, outer: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeout), outer])
    const { stream, connection: conn } = await this.components.sessions.open(item.peer, MESSAGE_PROTOCOL, { signal })
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_FRAME })
    try {
      const start = performance.now()
      await lp.write(encodeJson(item.frame, MAX_MESSAGE_FRAME), { signal })
      const ack = decodeJson(await lp.read({ signal }), validateAckFrame)
      const rtt = performance.now() - start
      if (ack.id !== item.frame.id) throw new ProtocolError('Peer acknowledged a different message')
      await stream.close({ signal })
      item.result = { id: item.frame.id, rtt: Math.round(rtt * 10) / 10, kind: connectionKind(conn) }
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }

  private firstSighting (peer: string, id: string): boolean {
    const ids = this.seen.get(peer) ?? []
    if (ids.includes(id)) return false
    ids.push(id)
    if (ids.length > SEEN_PER_PEER) ids.shift()
    this.seen.set(peer, ids)
    if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value as string)
    return true
  }

  private async onStream (stream: Stream, conn: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.timeout)
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_FRAME })
    try {
      const frame = decodeJson(await lp.read({ signal }), validateTextFrame)
      const message: DirectMessage = {
        id: frame.id,
        from: conn.remotePeer.toString(),
        text: frame.text,
        sentAt: frame.sentAt,
        receivedAt: Date.now(),
        kind: connectionKind(conn)
      }
      await lp.write(encodeJson({ v: 1, type: 'ack', id: frame.id }, MAX_MESSAGE_FRAME), { signal })
      await stream.close({ signal })
      if (this.firstSighting(message.from, frame.id)) this.safeDispatchEvent('message', { detail: message })
    } catch (err: any) {
      stream.abort(err)
      if (err.name !== 'AbortError' && err.name !== 'TimeoutError') this.components.sessions.report(conn.remotePeer, err.name === 'InvalidMessageError' ? 'bad-frame' : 'oversized-frame')
      this.safeDispatchEvent('message:refused', { detail: { from: conn.remotePeer.toString(), error: err } })
      throw err
    }
  }
}

/** Keeps the last IDs per peer so a retried delivery is shown once. */
const SEEN_PER_PEER = 256

export function messaging (init: MessagingInit = {}): (components: MessagingComponents) => Messaging {
  return (components) => new Messaging(components, init)
}
