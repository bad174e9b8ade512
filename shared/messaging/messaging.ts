import { lpStream } from '@libp2p/utils'
import { TypedEventEmitter } from 'main-event'
import { InvalidMessageError, ProtocolError } from '../errors.ts'
import { MESSAGE_PROTOCOL } from '../protocols.ts'
import { connectionKind } from '../p2p-service/connection-kind.ts'
import { decodeJson, encodeJson } from '../util/json-codec.ts'
import { MAX_MESSAGE_FRAME, MAX_TEXT_LENGTH, validateAckFrame, validateTextFrame } from './message-codec.ts'
import type { ConnectionKind } from '../p2p-service/connection-kind.ts'
import type { AbortOptions, ComponentLogger, Connection, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export interface MessagingInit {
  /** Time allowed for one message and its ack, in ms. @default 10_000 */
  timeout?: number
  /** Concurrent inbound message streams per connection. @default 8 */
  maxInboundStreams?: number
}

export interface MessagingComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
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
 * receiver acks it. Runs on relayed connections too, so a Node peer can reach
 * a tab through the relay.
 */
export class Messaging extends TypedEventEmitter<MessagingEvents> implements Startable {
  private readonly components: MessagingComponents
  private readonly log: Logger
  private readonly timeout: number
  private readonly maxInboundStreams: number
  private started = false

  constructor (components: MessagingComponents, init: MessagingInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('golem-clay:messaging')
    this.timeout = init.timeout ?? 10_000
    this.maxInboundStreams = init.maxInboundStreams ?? 8
  }

  readonly [Symbol.toStringTag] = '@golem-clay/messaging'

  async start (): Promise<void> {
    await this.components.registrar.handle(MESSAGE_PROTOCOL, (stream, conn) => {
      this.onStream(stream, conn).catch(err => { this.log.error('inbound message failed - %e', err) })
    }, { runOnLimitedConnection: true, maxInboundStreams: this.maxInboundStreams })
    this.started = true
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(MESSAGE_PROTOCOL)
    this.started = false
  }

  isStarted (): boolean {
    return this.started
  }

  /** Sends `text` to `peer` and resolves once the peer has acknowledged it. */
  async send (peer: PeerId, text: string, options: AbortOptions = {}): Promise<SendResult> {
    if (text.length === 0 || text.length > MAX_TEXT_LENGTH) {
      throw new InvalidMessageError(`Message text must be 1..${MAX_TEXT_LENGTH} characters`)
    }
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeout), ...(options.signal != null ? [options.signal] : [])])
    const conn = await this.components.connectionManager.openConnection(peer, { signal })
    const stream = await conn.newStream(MESSAGE_PROTOCOL, { signal, runOnLimitedConnection: true })
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_FRAME })
    const id = crypto.randomUUID()
    try {
      const start = performance.now()
      await lp.write(encodeJson({ v: 1, type: 'text', id, text, sentAt: Date.now() }, MAX_MESSAGE_FRAME), { signal })
      const ack = decodeJson(await lp.read({ signal }), validateAckFrame)
      const rtt = performance.now() - start
      if (ack.id !== id) throw new ProtocolError('Peer acknowledged a different message')
      await stream.close({ signal })
      return { id, rtt: Math.round(rtt * 10) / 10, kind: connectionKind(conn) }
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
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
      this.safeDispatchEvent('message', { detail: message })
    } catch (err: any) {
      stream.abort(err)
      this.safeDispatchEvent('message:refused', { detail: { from: conn.remotePeer.toString(), error: err } })
      throw err
    }
  }
}

export function messaging (init: MessagingInit = {}): (components: MessagingComponents) => Messaging {
  return (components) => new Messaging(components, init)
}
