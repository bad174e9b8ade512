import { SessionRefusedError } from './disconnect.ts'
import { HandshakeError, listenerHandshake } from './handshake.ts'
import { PendingHandshakes } from './pending-handshakes.ts'
import { solveBudget } from './solve-budget.ts'
import { SpentChallenges } from './spent-challenges.ts'
import type { AddressKeys } from '../connection/index.ts'
import type { AdaptiveDifficulty } from './adaptive-difficulty.ts'
import type { BanList } from './ban-list.ts'
import type { HandshakeResult, LocalNodeInfo } from './handshake.ts'
import type { HandshakeTracker } from './handshake-tracker.ts'
import type { PeerSession } from './peer-session.ts'
import type { PendingHandshake } from './pending-handshakes.ts'
import type { RefusalCounters } from './refusals.ts'
import type { SessionGate } from './session-gate.ts'
import type { SessionManagerInit } from './session-manager-init.ts'
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'

/** What the listener side of the handshake needs from the session manager. */
export interface InboundHandshakesContext {
  init: SessionManagerInit
  self: PeerId
  info: LocalNodeInfo
  counters: RefusalCounters
  limits: SessionGate
  banList: BanList
  addressBans: BanList
  difficulty: AdaptiveDifficulty
  addresses: AddressKeys
  log: Logger
  /** Handshakes under way, per connection. */
  pending: HandshakeTracker
  /** Aborts when the session layer stops. */
  stopped: () => AbortSignal
  /** Share of session capacity in use, 0..1. */
  load: () => number
  /** Verified sessions held now. */
  sessionCount: () => number
  /** True once the node is saying goodbye to everyone (a relay's SIGTERM). */
  draining: () => boolean
  hasOpenSession: (conn: Connection) => boolean
  addressOf: (conn: Connection) => string | undefined
  register: (conn: Connection, stream: Stream, result: HandshakeResult, dialer: boolean) => PeerSession
  fail: (conn: Connection, stream: Stream, err: unknown, address?: string) => Promise<void>
}

/**
 * The listener side of the handshake: one per connection, ever; banned
 * peers and addresses refused; a bounded table of handshakes in progress
 * where an overdue one may be given up for a newcomer; a challenge priced
 * by load, attempt rate and the address's record, spent once.
 */
export class InboundHandshakes {
  private readonly ctx: InboundHandshakesContext
  private readonly table: PendingHandshakes
  private readonly spent = new SpentChallenges()
  /** Connections that had their one handshake already, successful or not. */
  private readonly attempted = new WeakSet<Connection>()

  constructor (ctx: InboundHandshakesContext) {
    this.ctx = ctx
    const { init } = ctx
    this.table = new PendingHandshakes({ max: init.maxPendingHandshakes, maxPerAddress: init.maxPendingHandshakesPerAddress, helloGrace: init.helloGrace })
  }

  /** Inbound handshakes waiting for a Hello or a solution. */
  get size (): number {
    return this.table.size
  }

  setLimits (limits: { max?: number, maxPerAddress?: number }): void {
    this.table.setLimits(limits)
  }

  async run (stream: Stream, conn: Connection): Promise<void> {
    const { ctx } = this
    const peer = conn.remotePeer.toString()
    const address = ctx.addressOf(conn)
    // one handshake per connection, ever: a second would let a peer shop for
    // an easier challenge, and resetting and retrying would cost it nothing
    if (this.attempted.has(conn)) {
      ctx.counters.add('repeated-handshake')
      ctx.limits.strike(peer, 'second handshake on one connection', address)
      stream.abort(new SessionRefusedError('BadProtocol', 'this connection already had its handshake'))
      if (!ctx.hasOpenSession(conn)) conn.abort(new SessionRefusedError('BadProtocol', 'a second handshake on one connection'))
      return
    }
    this.attempted.add(conn)
    if (ctx.banList.isBanned(peer)) {
      await ctx.fail(conn, stream, new HandshakeError('Banned', 'banned', 'banned for earlier misbehaviour'))
      return
    }
    if (address != null && ctx.addressBans.isBanned(address)) {
      await ctx.fail(conn, stream, new HandshakeError('Banned', 'address-banned', 'this address is banned for a while'))
      return
    }
    const entry: PendingHandshake = { peer, address, startedAt: Date.now(), controller: new AbortController() }
    const admission = this.table.admit(entry)
    if (!admission.admitted) {
      await ctx.fail(conn, stream, new HandshakeError('TooManyPeers', 'too-many-pending', 'too many handshakes in progress; try again shortly'), address)
      return
    }
    const evicted = admission.evicted
    if (evicted != null) {
      ctx.counters.add('evicted-handshake')
      ctx.log('giving up the overdue handshake of %s (%s) for a newcomer', evicted.peer, evicted.address ?? 'no address')
      evicted.controller.abort(new HandshakeError('Timeout', undefined, 'handshake overdue: given up for a newcomer'))
    }
    const attempt = (async () => {
      const signal = AbortSignal.any([ctx.stopped(), entry.controller.signal])
      try {
        const result = await listenerHandshake({
          stream,
          connection: conn,
          self: ctx.self,
          info: ctx.info,
          verify: ctx.init.verify,
          helloTimeout: ctx.init.helloTimeout ?? 5_000,
          challenge: () => this.price(conn, entry),
          spend: (salt, until) => this.spent.spend(salt, until),
          signal
        })
        return ctx.register(conn, stream, result, false)
      } catch (err: any) {
        await ctx.fail(conn, stream, err, address)
        throw err
      } finally {
        this.table.remove(entry)
      }
    })()
    await ctx.pending.track(conn, attempt)
  }

  /** The challenge a dialer that said Hello gets: its difficulty, how long it stays valid, our load. */
  private price (conn: Connection, entry: PendingHandshake): { difficulty: number, ttl: number, load: number } {
    const { ctx } = this
    const { init, difficulty: adaptive } = ctx
    if (ctx.draining()) throw new HandshakeError('ShuttingDown', 'draining', 'this node is shutting down')
    if (ctx.sessionCount() >= (init.maxSessions ?? 256)) throw new HandshakeError('TooManyPeers', 'too-many-peers', 'no room for more peers')
    // only a dialer that got this far counts toward the price, and each network only so much
    adaptive.recordAttempt(ctx.addresses.wideKeyOf(conn.remoteAddr) ?? `peer:${entry.peer}`)
    adaptive.setLoad(ctx.load())
    // an address that keeps getting refused pays more to try again
    const difficulty = Math.min(adaptive.current + ctx.limits.penalty(entry.address), adaptive.max)
    const ttl = solveBudget(difficulty, init.challengeTtl ?? 60_000, init.solveBudget)
    entry.overdueAt = Date.now() + Math.min(ttl, solveBudget(difficulty, ttl, init.overdue ?? { floor: 2_000, minRate: 4_000_000, factor: 3 }))
    return { difficulty, ttl, load: ctx.load() }
  }
}
