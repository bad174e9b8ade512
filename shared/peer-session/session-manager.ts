import { TypedEventEmitter } from 'main-event'
import { PROTOCOL_PREFIX, SESSION_PROTOCOL } from '../wire/index.ts'
import { CLIENT_VERSION } from '../version.ts'
import { AddressKeys } from '../connection/index.ts'
import { AdaptiveDifficulty } from './adaptive-difficulty.ts'
import { BanList } from './ban-list.ts'
import { SessionClosedError, SessionRefusedError, UnverifiedSessionError } from './disconnect.ts'
import { HandshakeTracker } from './handshake-tracker.ts'
import { askHello, dialerHandshake, HandshakeError, listenerHandshake } from './handshake.ts'
import { PeerSession } from './peer-session.ts'
import { PendingHandshakes } from './pending-handshakes.ts'
import { RefusalCounters } from './refusals.ts'
import { refuseHandshake } from './refuse.ts'
import { SessionGate } from './session-gate.ts'
import { solveBudget } from './solve-budget.ts'
import { SpentChallenges } from './spent-challenges.ts'
import { UnverifiedConnections } from './unverified-connections.ts'
import type { AdaptiveDifficultyInit } from './adaptive-difficulty.ts'
import type { DisconnectReason } from './disconnect.ts'
import type { ChallengeSolver, LocalNodeInfo, SolutionVerifier, SolveProgress } from './handshake.ts'
import type { HeartbeatInit, SessionEnd } from './peer-session.ts'
import type { RefusalKind } from './refusals.ts'
import type { HelloFrame, NodeRole } from './session-codec.ts'
import type { SessionGateInit } from './session-gate.ts'
import type { PendingHandshake } from './pending-handshakes.ts'
import type { SolveBudgetInit } from './solve-budget.ts'
import type { AbortOptions, ComponentLogger, Connection, Libp2pEvents, Logger, PeerId, Startable, Stream, StreamHandler, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { LengthPrefixedStream } from '@libp2p/utils'

export interface SessionManagerInit extends SessionGateInit {
  roles: NodeRole[]
  capabilities?: string[]
  /** CPU cores offered, told to peers. @default 0 (unknown) */
  cores?: number
  /** Solves challenges when this node dials. Required unless it never dials. */
  solver?: ChallengeSolver
  /** One-hash check of a dialer's solution. */
  verify: SolutionVerifier
  difficulty?: AdaptiveDifficultyInit
  /** Most verified sessions. @default 256 */
  maxSessions?: number
  /** Most handshakes in progress on inbound connections; when full, the oldest of the busiest address goes. @default 32 */
  maxPendingHandshakes?: number
  /** Most handshakes in progress from one network address. @default 8 */
  maxPendingHandshakesPerAddress?: number
  /** An inbound connection must start its handshake within this, in ms. @default 10_000 */
  handshakeTimeout?: number
  /** Inbound connections from one address that have no verified session yet. @default 16 */
  maxUnverifiedPerAddress?: number
  /** An inbound handshake must send its Hello within this, in ms. @default 5_000 */
  helloTimeout?: number
  /** The longest a challenge stays valid, in ms (the solve budget is usually less). @default 60_000 */
  challengeTtl?: number
  /** How long a dialer gets to solve, scaled to the difficulty (see solveBudget). */
  solveBudget?: SolveBudgetInit
  /**
   * When a handshake in progress counts as overdue, so a full table may give
   * it up for a newcomer: a few mean solve times of a modest solver.
   * @default { floor: 2_000, minRate: 4_000_000, factor: 3 }
   */
  overdue?: SolveBudgetInit
  /** A dialer that has not said Hello this long is overdue, ms. @default 1_000 */
  helloGrace?: number
  /** How network addresses are grouped for per-address limits. @default each IPv4, each IPv6 /64 */
  addresses?: AddressKeys
  /** Addresses refused for a while; shared with the connection gater. */
  addressBans?: BanList
  /** Refusal counters; shared with the connection gater. */
  counters?: RefusalCounters
  /** Refuse to solve challenges above this difficulty. @default 32 */
  maxAcceptedDifficulty?: number
  heartbeat?: HeartbeatInit
  banList?: BanList
  /** How long a gated stream may wait for its connection's handshake, in ms. @default 10_000 */
  gateWait?: number
  /** Non-Golem protocols to gate as well (e.g. the relay's hop protocol). */
  extraGatedProtocols?: string[]
  /** The protocol version we announce; only tests set it. */
  protocolVersion?: string
}

export interface SessionManagerComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

export interface SessionClosed extends SessionEnd {
  peer: string
  connection: string
}

export interface SessionManagerEvents {
  'session:open': CustomEvent<PeerSession>
  'session:close': CustomEvent<SessionClosed>
  /** We were asked for proof of work by `peer`. */
  'session:challenge': CustomEvent<{ peer: string, difficulty: number }>
  'session:progress': CustomEvent<{ peer: string, progress: SolveProgress }>
  /** A handshake failed, on our side or theirs. */
  'session:refused': CustomEvent<{ peer: string, reason: DisconnectReason, remote: boolean, message: string }>
}

export interface SessionStats {
  sessions: number
  pendingHandshakes: number
  /** Inbound handshakes waiting for a Hello or a solution. */
  pendingInbound: number
  difficulty: number
  handshakeRate: number
  refusals: Record<RefusalKind, number>
  bans: number
  addressBans: number
}

/**
 * PeerSession registry: every connection must become a verified session
 * before any Golem Clay protocol runs on it. The dialer pays a Hashcash
 * proof set by the listener; streams on gated protocols wait for the
 * session and are refused without one.
 */
export class SessionManager extends TypedEventEmitter<SessionManagerEvents> implements Startable {
  readonly difficulty: AdaptiveDifficulty
  readonly counters: RefusalCounters
  readonly banList: BanList
  readonly addressBans: BanList
  readonly addresses: AddressKeys
  private readonly components: SessionManagerComponents
  private readonly init: SessionManagerInit
  private readonly log: Logger
  private readonly gate: SessionGate
  private readonly spent = new SpentChallenges()
  private readonly sessions = new Map<string, PeerSession>()
  private readonly pending = new HandshakeTracker()
  private readonly info: LocalNodeInfo
  private controller = new AbortController()
  private readonly inbound: PendingHandshakes
  /** Connections that had their one handshake already, successful or not. */
  private readonly attempted = new WeakSet<Connection>()
  private readonly unverified: UnverifiedConnections
  /** Peers whose goodbye is being applied to their other links. */
  private readonly leaving = new Set<string>()
  /** Peers we are dialing only to read their Hello: no session starts on those links. */
  private readonly checking = new Set<string>()

  constructor (components: SessionManagerComponents, init: SessionManagerInit) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('golem-clay:peer-session')
    this.difficulty = new AdaptiveDifficulty(init.difficulty)
    this.counters = init.counters ?? new RefusalCounters()
    this.banList = init.banList ?? new BanList()
    this.addressBans = init.addressBans ?? new BanList()
    this.addresses = init.addresses ?? new AddressKeys()
    this.unverified = new UnverifiedConnections(init.maxUnverifiedPerAddress ?? 16)
    this.inbound = new PendingHandshakes({ max: init.maxPendingHandshakes, maxPerAddress: init.maxPendingHandshakesPerAddress, helloGrace: init.helloGrace })
    this.gate = new SessionGate(init, this.counters, (peer, reason) => { this.ban(peer, reason) }, (address, reason) => { this.banAddress(address, reason) })
    this.info = { roles: init.roles, capabilities: init.capabilities ?? [], cores: init.cores ?? 0, clientVersion: CLIENT_VERSION, protocolVersion: init.protocolVersion }
  }

  readonly [Symbol.toStringTag] = '@golem-clay/session-manager'

  async start (): Promise<void> {
    this.controller = new AbortController()
    await this.components.registrar.handle(SESSION_PROTOCOL, (stream, conn) => {
      this.onInbound(stream, conn).catch(err => { this.log('inbound handshake from %p failed - %e', conn.remotePeer, err) })
    }, { runOnLimitedConnection: true, maxInboundStreams: 1 })
    this.components.events.addEventListener('connection:open', this.onConnectionOpen)
  }

  /** Wraps every Golem Clay handler (registered by now) so it needs a verified session. */
  async afterStart (): Promise<void> {
    const gated = this.components.registrar.getProtocols()
      .filter(p => (p.startsWith(`${PROTOCOL_PREFIX}/`) && p !== SESSION_PROTOCOL) || (this.init.extraGatedProtocols ?? []).includes(p))
    for (const protocol of gated) await this.gateProtocol(protocol)
  }

  async stop (): Promise<void> {
    this.components.events.removeEventListener('connection:open', this.onConnectionOpen)
    await Promise.all([...this.sessions.values()].map(async s => { await s.disconnect('ShuttingDown') }))
    this.controller.abort()
    await this.components.registrar.unhandle(SESSION_PROTOCOL)
  }

  get stats (): SessionStats {
    const verified = this.list()
    this.difficulty.setLoad(verified.length / (this.init.maxSessions ?? 256))
    return {
      sessions: verified.length,
      pendingHandshakes: this.pending.size,
      pendingInbound: this.inbound.size,
      difficulty: this.difficulty.current,
      handshakeRate: Math.round(this.difficulty.rate * 100) / 100,
      refusals: this.counters.toJSON(),
      bans: this.banList.list().length,
      addressBans: this.addressBans.list().length
    }
  }

  /** Share of session capacity in use, 0..1, told to peers for relay choice. */
  get load (): number {
    // the map holds open sessions only: a session leaves it when it ends
    return Math.min(this.sessions.size / (this.init.maxSessions ?? 256), 1)
  }

  /** The open verified sessions, one per connection. */
  list (): PeerSession[] {
    return [...this.sessions.values()].filter(s => s.open)
  }

  /**
   * Queues Disconnect(reason) on every open session at once, for moments with
   * no time to await anything (a tab being closed); the connections are left
   * to the caller. `stop()` is the graceful way.
   */
  goodbyeAll (reason: DisconnectReason): void {
    for (const session of this.list()) session.goodbye(reason)
  }

  forConnection (conn: Connection): PeerSession | undefined {
    const session = this.sessions.get(conn.id)
    return session?.open === true ? session : undefined
  }

  /**
   * The verified session on `conn`: starts our handshake if we dialed it, or
   * waits for the remote's if they did.
   */
  async ensure (conn: Connection, options: AbortOptions = {}): Promise<PeerSession> {
    const existing = this.forConnection(conn)
    if (existing != null) return existing
    const pending = this.pending.get(conn)
    if (pending != null) return await pending
    if (conn.direction === 'outbound') return await this.dial(conn)
    await this.waitForHandshake(conn, options)
    return await this.ensure(conn, options)
  }

  /**
   * Dials `addrs` on a connection of its own and reads the Hello `peer`
   * answers with there, without becoming its session (see askHello): how a
   * relay checks that a peer which says it is a relay answers as one.
   */
  async checkHello (peer: PeerId, addrs: Multiaddr[], options: AbortOptions = {}): Promise<HelloFrame> {
    const key = peer.toString()
    this.checking.add(key)
    let conn: Connection
    try {
      conn = await this.components.connectionManager.openConnection(addrs, { force: true, signal: options.signal })
    } finally {
      this.checking.delete(key)
    }
    try {
      if (!conn.remotePeer.equals(peer)) throw new HandshakeError('BadProtocol', 'wrong-identity', 'another peer answered at that address')
      const stream = await conn.newStream(SESSION_PROTOCOL, { signal: options.signal })
      return await askHello({ stream, connection: conn, self: this.components.peerId, info: this.info, signal: options.signal ?? AbortSignal.timeout(10_000) })
    } finally {
      await conn.close().catch(err => { conn.abort(err) })
    }
  }

  /** Counts bad input from a peer on an application protocol; repeat offenders get banned. */
  report (peer: PeerId | string, kind: RefusalKind): void {
    this.counters.add(kind)
    this.gate.strike(peer.toString(), kind, this.addressOfPeer(peer.toString()))
  }

  ban (peer: string, reason: string): void {
    this.log('banning %s: %s', peer, reason)
    const address = this.addressOfPeer(peer)
    this.banList.ban(peer, reason)
    this.counters.add('banned')
    this.dropPeer(peer, session => { void session.disconnect('Banned', reason) }, new SessionRefusedError('Banned', reason))
    this.gate.banned(address, reason)
  }

  /** Refuses new connections and handshakes from a network address for a while (sessions already verified stay). */
  banAddress (address: string, reason: string): void {
    this.log('banning address %s: %s', address, reason)
    this.addressBans.ban(address, reason)
  }

  /** The per-address limit key of a connection's remote end. */
  addressOf (conn: Pick<Connection, 'remoteAddr'>): string | undefined {
    return this.addresses.keyOf(conn.remoteAddr)
  }

  private addressOfPeer (peer: string): string | undefined {
    for (const conn of this.components.connectionManager.getConnections()) {
      if (conn.remotePeer.toString() !== peer) continue
      const address = this.addressOf(conn)
      if (address != null) return address
    }
    return undefined
  }

  /**
   * Ends every session with `peer` through `end` and aborts its connections
   * that carry none (a handshake under way, a duplicate link).
   */
  private dropPeer (peer: string, end: (session: PeerSession) => void, err: Error): void {
    const sessions = this.list().filter(s => s.remotePeer === peer)
    const carried = new Set(sessions.map(s => s.connection.id))
    for (const session of sessions) end(session)
    for (const conn of this.components.connectionManager.getConnections()) {
      if (conn.remotePeer.toString() === peer && !carried.has(conn.id)) conn.abort(err)
    }
  }

  private async gateProtocol (protocol: string): Promise<void> {
    const { handler, options } = this.components.registrar.getHandler(protocol)
    const gated: StreamHandler = async (stream, conn) => {
      const peer = conn.remotePeer.toString()
      let session: PeerSession | undefined
      try {
        session = await this.ensureWithin(conn, this.init.gateWait ?? 10_000)
      } catch {}
      if (session == null) {
        this.counters.add('unverified-stream')
        this.gate.strike(peer, 'streams without a session', this.addressOf(conn))
        stream.abort(new UnverifiedSessionError(`${protocol} needs a verified session`))
        return
      }
      if (!this.gate.allow(peer, protocol, this.addressOf(conn))) {
        this.log('refused a %s stream from %s: rate limit', protocol, peer)
        stream.abort(new SessionRefusedError('RateLimited', `too many ${protocol} streams`))
        return
      }
      await handler(stream, conn)
    }
    await this.components.registrar.handle(protocol, gated, { ...options, force: true })
  }

  private async ensureWithin (conn: Connection, ms: number): Promise<PeerSession> {
    const signal = AbortSignal.any([AbortSignal.timeout(ms), this.controller.signal])
    return await this.ensure(conn, { signal })
  }

  private async waitForHandshake (conn: Connection, options: AbortOptions): Promise<void> {
    if (this.pending.has(conn) || this.forConnection(conn) != null) return
    await this.pending.waitForStart(conn, options.signal ?? AbortSignal.timeout(this.init.handshakeTimeout ?? 10_000))
  }

  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const conn = evt.detail
    const peer = conn.remotePeer.toString()
    if (this.banList.isBanned(peer)) {
      this.counters.add('banned')
      conn.abort(new SessionRefusedError('Banned', 'this peer is banned for a while'))
      return
    }
    const address = conn.direction === 'inbound' ? this.addressOf(conn) : undefined
    if (address != null && this.addressBans.isBanned(address)) {
      this.counters.add('address-banned')
      conn.abort(new SessionRefusedError('Banned', 'this address is banned for a while'))
      return
    }
    if (conn.direction === 'outbound') {
      // a link opened only to check a peer's Hello needs no session
      if (!this.checking.has(peer)) this.dial(conn).catch(() => {})
      return
    }
    if (address != null && !this.unverified.add(conn, address)) {
      this.counters.add('unverified-connections')
      conn.abort(new SessionRefusedError('TooManyPeers', 'too many connections without a session from this address'))
      return
    }
    // an inbound connection that never starts a handshake is dropped, and held a slot for nothing
    setTimeout(() => {
      if (conn.status !== 'open' || this.pending.has(conn) || this.sessions.has(conn.id)) return
      this.counters.add('handshake-timeout')
      this.gate.strike(peer, 'no handshake', address)
      this.log('closing %p: no handshake within the timeout', conn.remotePeer)
      conn.close().catch(err => { conn.abort(err) })
    }, this.init.handshakeTimeout ?? 10_000)
  }

  private async dial (conn: Connection): Promise<PeerSession> {
    const running = this.pending.get(conn)
    if (running != null) return await running
    const peer = conn.remotePeer.toString()
    const attempt = (async () => {
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout((this.init.challengeTtl ?? 60_000) + 30_000)])
      const stream = await conn.newStream(SESSION_PROTOCOL, { runOnLimitedConnection: true, signal })
      const solver = this.init.solver
      if (solver == null) throw new HandshakeError('BadProtocol', undefined, 'this node cannot solve challenges')
      try {
        const result = await dialerHandshake({
          stream,
          connection: conn,
          self: this.components.peerId,
          info: this.info,
          solver,
          maxDifficulty: this.init.maxAcceptedDifficulty,
          signal,
          onChallenge: (difficulty) => { this.safeDispatchEvent('session:challenge', { detail: { peer, difficulty } }) },
          onProgress: (progress) => { this.safeDispatchEvent('session:progress', { detail: { peer, progress } }) }
        })
        return this.register(conn, stream, result.lp, result.remoteHello, result.difficulty, true)
      } catch (err: any) {
        await this.fail(conn, stream, err)
        throw err
      }
    })()
    return await this.pending.track(conn, attempt)
  }

  private async onInbound (stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer.toString()
    const address = this.addressOf(conn)
    // one handshake per connection, ever: a second would let a peer shop for
    // an easier challenge, and resetting and retrying would cost it nothing
    if (this.attempted.has(conn)) {
      this.counters.add('repeated-handshake')
      this.gate.strike(peer, 'second handshake on one connection', address)
      stream.abort(new SessionRefusedError('BadProtocol', 'this connection already had its handshake'))
      if (this.sessions.get(conn.id)?.open !== true) conn.abort(new SessionRefusedError('BadProtocol', 'a second handshake on one connection'))
      return
    }
    this.attempted.add(conn)
    if (this.banList.isBanned(peer)) {
      await this.fail(conn, stream, new HandshakeError('Banned', 'banned', 'banned for earlier misbehaviour'))
      return
    }
    if (address != null && this.addressBans.isBanned(address)) {
      await this.fail(conn, stream, new HandshakeError('Banned', 'address-banned', 'this address is banned for a while'))
      return
    }
    const entry: PendingHandshake = { peer, address, startedAt: Date.now(), controller: new AbortController() }
    const admission = this.inbound.admit(entry)
    if (!admission.admitted) {
      await this.fail(conn, stream, new HandshakeError('TooManyPeers', 'too-many-pending', 'too many handshakes in progress; try again shortly'), address)
      return
    }
    const evicted = admission.evicted
    if (evicted != null) {
      this.counters.add('evicted-handshake')
      this.log('giving up the overdue handshake of %s (%s) for a newcomer', evicted.peer, evicted.address ?? 'no address')
      evicted.controller.abort(new HandshakeError('Timeout', undefined, 'handshake overdue: given up for a newcomer'))
    }
    const attempt = (async () => {
      const signal = AbortSignal.any([this.controller.signal, entry.controller.signal])
      try {
        const result = await listenerHandshake({
          stream,
          connection: conn,
          self: this.components.peerId,
          info: this.info,
          verify: this.init.verify,
          helloTimeout: this.init.helloTimeout ?? 5_000,
          challenge: () => {
            if (this.sessions.size >= (this.init.maxSessions ?? 256)) throw new HandshakeError('TooManyPeers', 'too-many-peers', 'no room for more peers')
            // only a dialer that got this far counts toward the price, and each network only so much
            this.difficulty.recordAttempt(this.addresses.wideKeyOf(conn.remoteAddr) ?? `peer:${peer}`)
            this.difficulty.setLoad(this.load)
            // an address that keeps getting refused pays more to try again
            const difficulty = Math.min(this.difficulty.current + this.gate.penalty(address), this.difficulty.max)
            const ttl = solveBudget(difficulty, this.init.challengeTtl ?? 60_000, this.init.solveBudget)
            entry.overdueAt = Date.now() + Math.min(ttl, solveBudget(difficulty, ttl, this.init.overdue ?? { floor: 2_000, minRate: 4_000_000, factor: 3 }))
            return { difficulty, ttl, load: this.load }
          },
          spend: (salt, until) => this.spent.spend(salt, until),
          signal
        })
        return this.register(conn, stream, result.lp, result.remoteHello, result.difficulty, false)
      } catch (err: any) {
        await this.fail(conn, stream, err, address)
        throw err
      } finally {
        this.inbound.remove(entry)
      }
    })()
    await this.pending.track(conn, attempt)
  }

  private register (conn: Connection, stream: Stream, lp: LengthPrefixedStream<Stream>, remoteHello: HelloFrame, difficulty: number, dialer: boolean): PeerSession {
    const session = new PeerSession({ connection: conn, stream, lp, dialer, remoteHello, difficulty, heartbeat: this.init.heartbeat, log: this.log, load: () => this.load })
    // a newer session of the same kind replaces the older one (a reconnect)
    for (const old of this.list()) {
      if (old.remotePeer === session.remotePeer && old.kind === session.kind && old.connection.id !== conn.id) {
        this.counters.add('duplicate-peer')
        void old.disconnect('DuplicatePeer')
      }
    }
    this.sessions.set(conn.id, session)
    this.unverified.done(conn)
    session.addEventListener('session:end', (evt) => {
      this.sessions.delete(conn.id)
      // a connection has one handshake: one whose session stream just went away has no future
      // (a Disconnect closes its connection itself, and a goodbye leaves that to its caller)
      if (evt.detail.reason === 'ConnectionLost' && conn.status === 'open') conn.close().catch(err => { conn.abort(err) })
      this.safeDispatchEvent('session:close', { detail: { ...evt.detail, peer: session.remotePeer, connection: conn.id } })
      // a peer leaving the network takes all its links along, not only the one
      // its goodbye came on: the others would linger until a timeout
      if (evt.detail.remote && evt.detail.reason === 'ShuttingDown' && !this.leaving.has(session.remotePeer)) {
        const end = evt.detail
        this.leaving.add(session.remotePeer)
        try {
          this.dropPeer(session.remotePeer, other => { other.ended(end) }, new SessionClosedError(end.reason, true, end.message))
        } finally {
          this.leaving.delete(session.remotePeer)
        }
      }
    }, { once: true })
    session.start()
    this.log('verified session with %p (%s, %d bits)', conn.remotePeer, session.kind, difficulty)
    this.safeDispatchEvent('session:open', { detail: session })
    return session
  }

  private async fail (conn: Connection, stream: Stream, err: any, address?: string): Promise<void> {
    const peer = conn.remotePeer.toString()
    const inbound = conn.direction === 'inbound'
    if (!(err instanceof HandshakeError)) {
      stream.abort(err)
      if (inbound && !this.controller.signal.aborted) {
        // the dialer walked away mid-handshake (reset, closed): it held a slot for nothing
        this.counters.add('abandoned-handshake')
        this.gate.strike(peer, 'abandoned its handshake', address)
        conn.abort(new SessionRefusedError('Unverified', `the handshake was abandoned: ${err instanceof Error ? err.message : String(err)}`))
      }
      return
    }
    if (!err.remote) {
      if (err.refusal != null) this.counters.add(err.refusal)
      await refuseHandshake(stream, conn, err.reason, err.message)
      // a stranger that never says hello or never solves held a slot for nothing
      if (err.reason === 'InvalidProof' || err.reason === 'BadProtocol' || (inbound && err.reason === 'Timeout')) this.gate.strike(peer, err.message, address)
      if (err.refusal === 'invalid-proof' || err.refusal === 'wrong-identity') this.ban(peer, err.message)
    } else {
      conn.close().catch(e => { conn.abort(e) })
    }
    this.safeDispatchEvent('session:refused', { detail: { peer, reason: err.reason, remote: err.remote, message: err.message } })
  }
}

export function sessionManager (init: SessionManagerInit): (components: SessionManagerComponents) => SessionManager {
  return (components) => new SessionManager(components, init)
}

export { SessionClosedError }
export { solveBudget }
export type { SolveBudgetInit }
