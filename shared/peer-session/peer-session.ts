import * as lp from 'it-length-prefixed'
import { TypedEventEmitter } from 'main-event'
import { decodeJson, encodeJson } from '../wire/index.ts'
import { connectionKind } from '../connection/index.ts'
import { SessionClosedError } from './disconnect.ts'
import { MAX_SESSION_FRAME, validateSessionFrame } from './session-codec.ts'
import type { ConnectionKind } from '../connection/index.ts'
import type { DisconnectReason, SessionEndReason } from './disconnect.ts'
import type { HelloFrame, SessionFrame } from './session-codec.ts'
import type { Connection, Logger, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

export interface HeartbeatInit {
  /** Ping a session that has been quiet this long, in ms. @default 2_500 */
  interval?: number
  /** Consecutive quiet intervals before the session is dropped. @default 3 */
  missedBeats?: number
}

export interface PeerSessionInit {
  connection: Connection
  stream: Stream
  lp: LengthPrefixedStream<Stream>
  /** We opened the connection (and paid the proof of work). */
  dialer: boolean
  remoteHello: HelloFrame
  difficulty: number
  /** How long the proof of work took, ms (see HandshakeResult.solveMs). */
  solveMs?: number
  heartbeat?: HeartbeatInit
  log: Logger
  /** Our current load, 0..1, sent with heartbeats. */
  load?: () => number
}

export interface SessionEnd {
  reason: SessionEndReason
  /** The peer sent the reason; otherwise we decided. */
  remote: boolean
  message?: string
}

export interface PeerSessionEvents {
  'session:rtt': CustomEvent<number>
  'session:end': CustomEvent<SessionEnd>
}

/**
 * One verified Golem Clay session on top of one libp2p connection. The
 * handshake stream stays open as the control channel: heartbeats keep the
 * session honest and a Disconnect frame says why it ends.
 */
export class PeerSession extends TypedEventEmitter<PeerSessionEvents> {
  readonly connection: Connection
  readonly remotePeer: string
  readonly remoteHello: HelloFrame
  readonly dialer: boolean
  readonly difficulty: number
  /** How long the proof of work took, ms: on the listener from challenge sent to valid proof, on the dialer its own search. */
  readonly solveMs?: number
  readonly kind: ConnectionKind
  readonly establishedAt = Date.now()
  rtt?: number
  /** The peer's load as of its last heartbeat (or its Hello). */
  remoteLoad?: number
  lastSeen = Date.now()
  end?: SessionEnd
  private readonly stream: Stream
  private readonly lp: LengthPrefixedStream<Stream>
  private readonly interval: number
  private readonly missedBeats: number
  private readonly log: Logger
  private readonly load?: () => number
  private timer?: ReturnType<typeof setInterval>
  private seq = 0
  private readonly pending = new Map<number, number>()
  private missed = 0

  constructor (init: PeerSessionInit) {
    super()
    this.connection = init.connection
    this.remotePeer = init.connection.remotePeer.toString()
    this.remoteHello = init.remoteHello
    this.dialer = init.dialer
    this.difficulty = init.difficulty
    if (init.solveMs != null) this.solveMs = init.solveMs
    this.kind = connectionKind(init.connection)
    this.stream = init.stream
    this.lp = init.lp
    this.interval = init.heartbeat?.interval ?? 2_500
    this.missedBeats = init.heartbeat?.missedBeats ?? 3
    this.log = init.log
    this.load = init.load
    this.remoteLoad = init.remoteHello.load
  }

  get open (): boolean {
    return this.end == null
  }

  /** Starts reading control frames and the heartbeat. */
  start (): void {
    this.timer = setInterval(() => { this.beat() }, this.interval)
    this.readLoop().catch(() => {})
    this.stream.addEventListener('close', () => { this.finish({ reason: 'ConnectionLost', remote: false }) }, { once: true })
  }

  /** Sends Disconnect(reason), then closes the connection. */
  async disconnect (reason: DisconnectReason, message?: string): Promise<void> {
    if (this.end != null) return
    this.finish({ reason, remote: false, message })
    try {
      await this.lp.write(encodeJson({ v: 1, type: 'disconnect', reason, ...(message != null ? { message } : {}) }, MAX_SESSION_FRAME), { signal: AbortSignal.timeout(1_000) })
      await this.stream.close({ signal: AbortSignal.timeout(1_000) })
    } catch {}
    await this.connection.close({ signal: AbortSignal.timeout(2_000) }).catch(err => { this.connection.abort(err) })
  }

  /**
   * Queues Disconnect(reason) on the stream synchronously, for moments with no
   * time to await anything (a tab being closed); the connection is left to
   * the caller.
   */
  goodbye (reason: DisconnectReason): void {
    if (this.end != null) return
    this.finish({ reason, remote: false })
    try {
      this.stream.send(lp.encode.single(encodeJson({ v: 1, type: 'disconnect', reason }, MAX_SESSION_FRAME)))
    } catch {}
  }

  /**
   * Ends the session on the peer's word: it said Disconnect here or, when
   * leaving the network, on another link. Nothing is flushed: the peer may be
   * gone already, and a graceful close would wait on it.
   */
  ended (end: SessionEnd): void {
    if (this.end != null) return
    this.finish(end)
    this.connection.abort(new SessionClosedError(end.reason, end.remote, end.message))
  }

  private beat (): void {
    if (this.end != null) return
    if (Date.now() - this.lastSeen < this.interval) {
      this.missed = 0
      return
    }
    this.missed++
    if (this.missed >= this.missedBeats) {
      this.log('%s missed %d heartbeats', this.remotePeer, this.missed)
      void this.disconnect('Timeout', `no heartbeat for ${this.missed * this.interval} ms`)
      return
    }
    const seq = ++this.seq
    this.pending.set(seq, performance.now())
    if (this.pending.size > 16) this.pending.delete(this.pending.keys().next().value as number)
    this.send({ v: 1, type: 'ping', seq, ...this.loadField() })
  }

  private loadField (): { load?: number } {
    const load = this.load?.()
    return load == null ? {} : { load: Math.round(Math.min(Math.max(load, 0), 1) * 1000) / 1000 }
  }

  private send (frame: SessionFrame): void {
    this.lp.write(encodeJson(frame, MAX_SESSION_FRAME)).catch(() => {})
  }

  private async readLoop (): Promise<void> {
    try {
      for (;;) {
        const frame = decodeJson(await this.lp.read(), validateSessionFrame)
        this.lastSeen = Date.now()
        this.missed = 0
        switch (frame.type) {
          case 'ping':
            if (frame.load != null) this.remoteLoad = frame.load
            this.send({ v: 1, type: 'pong', seq: frame.seq, ...this.loadField() })
            break
          case 'pong': {
            if (frame.load != null) this.remoteLoad = frame.load
            const sentAt = this.pending.get(frame.seq)
            if (sentAt != null) {
              this.pending.delete(frame.seq)
              this.rtt = Math.round((performance.now() - sentAt) * 10) / 10
              this.safeDispatchEvent('session:rtt', { detail: this.rtt })
            }
            break
          }
          case 'disconnect':
            this.ended({ reason: frame.reason, remote: true, message: frame.message })
            return
          default:
            // handshake frames after the handshake break the protocol
            await this.disconnect('BadProtocol', `unexpected ${frame.type} frame`)
            return
        }
      }
    } catch (err: any) {
      if (this.end != null) return
      if (err.name === 'InvalidMessageError' || err.name === 'InvalidDataLengthError' || err.name === 'InvalidDataLengthLengthError') {
        await this.disconnect('BadProtocol', err.message)
        return
      }
      this.finish({ reason: 'ConnectionLost', remote: false })
    }
  }

  private finish (end: SessionEnd): void {
    if (this.end != null) return
    this.end = end
    clearInterval(this.timer)
    this.log('session with %s ended: %s%s', this.remotePeer, end.reason, end.remote ? ' (by peer)' : '')
    this.safeDispatchEvent('session:end', { detail: end })
  }

  /** Rejects with the reason once the session has ended. */
  get closedError (): SessionClosedError | undefined {
    return this.end == null ? undefined : new SessionClosedError(this.end.reason, this.end.remote, this.end.message)
  }
}
