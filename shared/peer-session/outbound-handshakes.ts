import { SESSION_PROTOCOL } from '../wire/index.ts'
import { askHello, dialerHandshake, HandshakeError } from './handshake.ts'
import type { HandshakeTracker } from './handshake-tracker.ts'
import type { HandshakeResult, LocalNodeInfo, SolveProgress } from './handshake.ts'
import type { PeerSession } from './peer-session.ts'
import type { HelloFrame } from './session-codec.ts'
import type { SessionManagerInit } from './session-manager-init.ts'
import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

/** What the dialer side of the handshake needs from the session manager. */
export interface OutboundHandshakesContext {
  init: SessionManagerInit
  self: PeerId
  info: LocalNodeInfo
  connectionManager: ConnectionManager
  /** Handshakes under way, per connection. */
  pending: HandshakeTracker
  /** Aborts when the session layer stops. */
  stopped: () => AbortSignal
  onChallenge: (peer: string, difficulty: number) => void
  onProgress: (peer: string, progress: SolveProgress) => void
  register: (conn: Connection, stream: Stream, result: HandshakeResult, dialer: boolean) => PeerSession
  fail: (conn: Connection, stream: Stream, err: unknown) => Promise<void>
}

/**
 * The dialer side of the handshake: we pay the listener's proof of work on
 * every connection we open, once; and Hello checks on links of their own
 * that never become sessions.
 */
export class OutboundHandshakes {
  private readonly ctx: OutboundHandshakesContext
  /** Peers we are dialing only to read their Hello: no session starts on those links. */
  private readonly checking = new Set<string>()

  constructor (ctx: OutboundHandshakesContext) {
    this.ctx = ctx
  }

  /** Whether links to `peer` are being opened for a Hello check only. */
  isChecking (peer: string): boolean {
    return this.checking.has(peer)
  }

  /** Our handshake on `conn` (the one under way, if any). */
  async run (conn: Connection): Promise<PeerSession> {
    const { ctx } = this
    const running = ctx.pending.get(conn)
    if (running != null) return await running
    const peer = conn.remotePeer.toString()
    const attempt = (async () => {
      const signal = AbortSignal.any([ctx.stopped(), AbortSignal.timeout((ctx.init.challengeTtl ?? 60_000) + 30_000)])
      const stream = await conn.newStream(SESSION_PROTOCOL, { runOnLimitedConnection: true, signal })
      const solver = ctx.init.solver
      if (solver == null) throw new HandshakeError('BadProtocol', undefined, 'this node cannot solve challenges')
      try {
        const result = await dialerHandshake({
          stream,
          connection: conn,
          self: ctx.self,
          info: ctx.info,
          solver,
          maxDifficulty: ctx.init.maxAcceptedDifficulty,
          signal,
          onChallenge: (difficulty) => { ctx.onChallenge(peer, difficulty) },
          onProgress: (progress) => { ctx.onProgress(peer, progress) }
        })
        return ctx.register(conn, stream, result, true)
      } catch (err: any) {
        await ctx.fail(conn, stream, err)
        throw err
      }
    })()
    return await ctx.pending.track(conn, attempt)
  }

  /**
   * Dials `addrs` on a connection of its own and reads the Hello `peer`
   * answers with there, without becoming its session (see askHello): how a
   * relay checks that a peer which says it is a relay answers as one.
   */
  async checkHello (peer: PeerId, addrs: Multiaddr[], options: AbortOptions = {}): Promise<HelloFrame> {
    const { ctx } = this
    const key = peer.toString()
    this.checking.add(key)
    let conn: Connection
    try {
      conn = await ctx.connectionManager.openConnection(addrs, { force: true, signal: options.signal })
    } finally {
      this.checking.delete(key)
    }
    try {
      if (!conn.remotePeer.equals(peer)) throw new HandshakeError('BadProtocol', 'wrong-identity', 'another peer answered at that address')
      const stream = await conn.newStream(SESSION_PROTOCOL, { signal: options.signal })
      return await askHello({ stream, connection: conn, self: ctx.self, info: ctx.info, signal: options.signal ?? AbortSignal.timeout(10_000) })
    } finally {
      await conn.close().catch(err => { conn.abort(err) })
    }
  }
}
