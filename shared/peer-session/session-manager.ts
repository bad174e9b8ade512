import { TypedEventEmitter } from 'main-event'
import { relayedLinkRule, SESSION_PROTOCOL } from '../wire/index.ts'
import { CLIENT_VERSION } from '../version.ts'
import { anySignal } from '../util/index.ts'
import { AddressKeys } from '../connection/index.ts'
import { AdaptiveDifficulty } from './adaptive-difficulty.ts'
import { BanList } from './ban-list.ts'
import { SessionClosedError, SessionRefusedError } from './disconnect.ts'
import { UngatedProtocolError } from './errors.ts'
import { HandshakeTracker } from './handshake-tracker.ts'
import { HandshakeError } from './handshake.ts'
import { InboundGate } from './inbound-gate.ts'
import { InboundHandshakes } from './inbound-handshakes.ts'
import { openStream } from './open-stream.ts'
import { OutboundHandshakes } from './outbound-handshakes.ts'
import { PeerSession } from './peer-session.ts'
import { RefusalCounters } from './refusals.ts'
import { refuseHandshake } from './refuse.ts'
import { SessionGate } from './session-gate.ts'
import { UnverifiedConnections } from './unverified-connections.ts'
import type { DisconnectReason } from './disconnect.ts'
import type { HandshakeResult, LocalNodeInfo } from './handshake.ts'
import type { LinkSession, OpenedStream, OpenOptions, OpenTarget } from './open-stream.ts'
import type { SessionEnd } from './peer-session.ts'
import type { RefusalKind } from './refusals.ts'
import type { HelloFrame } from './session-codec.ts'
import type { SessionManagerComponents, SessionManagerEvents, SessionManagerInit, SessionLimits, SessionStats } from './session-manager-init.ts'
import type { AbortOptions, Connection, Logger, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type { HandshakeOutcomes, SessionClosed, SessionManagerComponents, SessionManagerEvents, SessionManagerInit, SessionLimits, SessionStats } from './session-manager-init.ts'

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
  private readonly inboundGate: InboundGate
  private readonly sessions = new Map<string, PeerSession>()
  /** How the session of each connection that had one ended: such a link gets no other (weak: it goes with its connection). */
  private readonly endedOn = new WeakMap<Connection, SessionEnd>()
  private readonly pending = new HandshakeTracker()
  private readonly info: LocalNodeInfo
  private controller = new AbortController()
  private readonly listener: InboundHandshakes
  private readonly dialer: OutboundHandshakes
  private readonly unverified: UnverifiedConnections
  /** Set by drain(): new handshakes are refused. */
  draining = false
  /** Peers whose goodbye is being applied to their other links. */
  private readonly leaving = new Set<string>()
  private readonly handshakes: SessionStats['handshakes'] = {
    inbound: { verified: 0, refused: 0, abandoned: 0 },
    outbound: { verified: 0, refused: 0, abandoned: 0 }
  }

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
    this.gate = new SessionGate(init, this.counters, (peer, reason) => { this.ban(peer, reason) }, (address, reason) => { this.banAddress(address, reason) })
    this.inboundGate = new InboundGate({
      extra: init.extraGatedProtocols,
      wait: init.gateWait,
      limits: this.gate,
      counters: this.counters,
      log: this.log,
      ensure: async (conn, options) => await this.ensure(conn, options),
      addressOf: (conn) => this.addressOf(conn),
      stopped: () => this.controller.signal
    })
    this.info = { roles: init.roles, capabilities: init.capabilities ?? [], cores: init.cores ?? 0, clientVersion: CLIENT_VERSION, protocolVersion: init.protocolVersion }
    this.dialer = new OutboundHandshakes({
      init,
      self: components.peerId,
      info: this.info,
      connectionManager: components.connectionManager,
      pending: this.pending,
      stopped: () => this.controller.signal,
      onChallenge: (peer, difficulty) => { this.safeDispatchEvent('session:challenge', { detail: { peer, difficulty } }) },
      onProgress: (peer, progress) => { this.safeDispatchEvent('session:progress', { detail: { peer, progress } }) },
      register: (conn, stream, result, dialer) => this.register(conn, stream, result, dialer),
      fail: async (conn, stream, err) => { await this.fail(conn, stream, err) }
    })
    this.listener = new InboundHandshakes({
      init,
      self: components.peerId,
      info: this.info,
      counters: this.counters,
      limits: this.gate,
      banList: this.banList,
      addressBans: this.addressBans,
      difficulty: this.difficulty,
      addresses: this.addresses,
      log: this.log,
      pending: this.pending,
      stopped: () => this.controller.signal,
      load: () => this.load,
      sessionCount: () => this.sessions.size,
      draining: () => this.draining,
      hasOpenSession: (conn) => this.sessions.get(conn.id)?.open === true,
      addressOf: (conn) => this.addressOf(conn),
      register: (conn, stream, result, dialer) => this.register(conn, stream, result, dialer),
      fail: async (conn, stream, err, address) => { await this.fail(conn, stream, err, address) }
    })
  }

  readonly [Symbol.toStringTag] = '@golem-clay/session-manager'

  async start (): Promise<void> {
    this.controller = new AbortController()
    await this.handle(SESSION_PROTOCOL, (stream, conn) => {
      this.listener.run(stream, conn).catch(err => { this.log('inbound handshake from %p failed - %e', conn.remotePeer, err) })
    }, { maxInboundStreams: 1 })
    this.components.events.addEventListener('connection:open', this.onConnectionOpen)
  }

  /** Every Golem Clay handler registered by now must be behind the gate: one that went around it is a bug, found here. */
  afterStart (): void {
    const ungated = this.inboundGate.ungated(this.components.registrar)
    if (ungated.length > 0) throw new UngatedProtocolError(`Registered without the session gate (use sessions.handle): ${ungated.join(', ')}`)
  }

  async stop (): Promise<void> {
    this.components.events.removeEventListener('connection:open', this.onConnectionOpen)
    await Promise.all([...this.sessions.values()].map(async s => { await s.disconnect('ShuttingDown') }))
    this.controller.abort()
    await this.components.registrar.unhandle(SESSION_PROTOCOL)
  }

  /**
   * Registers `handler` for `protocol` with the session gate around it once
   * (every Golem Clay protocol but the handshake's, and `extraGatedProtocols`):
   * a stream without a verified session is refused and its peer struck.
   * Whether the handler runs on relayed links is the protocol's rule in
   * RELAYED_LINKS, when it has one.
   */
  async handle (protocol: string, handler: StreamHandler, options: StreamHandlerOptions = {}): Promise<void> {
    const rule = relayedLinkRule(protocol)
    const opts = rule == null ? options : { ...options, runOnLimitedConnection: rule === 'relayed-ok' }
    const gated = this.inboundGate.gates(protocol) ? this.inboundGate.wrap(protocol, handler) : handler
    await this.components.registrar.handle(protocol, gated, opts)
  }

  async unhandle (protocol: string, options: AbortOptions = {}): Promise<void> {
    await this.components.registrar.unhandle(protocol, options)
  }

  /**
   * A `protocol` stream to `target` on a connection with a verified session,
   * the one way every client opens one: reuses a connection (relayed ones
   * only where the protocol's rule in RELAYED_LINKS allows) or dials,
   * waits for the session, opens the stream; within `options.timeout`
   * (OPEN_TIMEOUT) and the caller's signal.
   */
  async open (target: OpenTarget, protocol: string, options: OpenOptions = {}): Promise<OpenedStream> {
    return await openStream({
      connectionManager: this.components.connectionManager,
      ensure: async (conn, opts) => await this.ensure(conn, opts),
      sessionOf: (conn) => this.sessionOf(conn),
      stopped: this.controller.signal
    }, target, protocol, options)
  }

  get stats (): SessionStats {
    const verified = this.list()
    this.difficulty.setLoad(verified.length / (this.init.maxSessions ?? 256))
    return {
      sessions: verified.length,
      pendingHandshakes: this.pending.size,
      pendingInbound: this.listener.size,
      difficulty: this.difficulty.current,
      handshakeRate: Math.round(this.difficulty.rate * 100) / 100,
      refusals: this.counters.toJSON(),
      bans: this.banList.list().length,
      addressBans: this.addressBans.list().length,
      handshakes: { inbound: { ...this.handshakes.inbound }, outbound: { ...this.handshakes.outbound } }
    }
  }

  /**
   * Limits an operator may change while the node runs (a relay's SIGHUP):
   * they apply to what comes next; nobody already in is dropped.
   */
  setLimits (limits: SessionLimits): void {
    if (limits.maxSessions != null) this.init.maxSessions = limits.maxSessions
    if (limits.maxPendingHandshakes != null) this.init.maxPendingHandshakes = limits.maxPendingHandshakes
    if (limits.maxPendingHandshakesPerAddress != null) this.init.maxPendingHandshakesPerAddress = limits.maxPendingHandshakesPerAddress
    this.listener.setLimits({ max: limits.maxPendingHandshakes, maxPerAddress: limits.maxPendingHandshakesPerAddress })
    if (limits.difficulty != null) this.difficulty.setRange(limits.difficulty)
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

  /** Says ShuttingDown to every peer and refuses new handshakes from now on, so peers move elsewhere before the node stops. */
  drain (): void {
    this.draining = true
    this.goodbyeAll('ShuttingDown')
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
    // a connection has one handshake: once its session ended (replaced by a newer link, say) none comes
    const end = this.endedOn.get(conn)
    if (end != null) throw new SessionClosedError(end.reason, end.remote, 'its connection is closing')
    const pending = this.pending.get(conn)
    if (pending != null) return await pending
    if (conn.direction === 'outbound') return await this.dialer.run(conn)
    await this.waitForHandshake(conn, options)
    return await this.ensure(conn, options)
  }

  /**
   * Dials `addrs` on a connection of its own and reads the Hello `peer`
   * answers with there, without becoming its session: how a relay checks
   * that a peer which says it is a relay answers as one.
   */
  async checkHello (peer: PeerId, addrs: Multiaddr[], options: AbortOptions = {}): Promise<HelloFrame> {
    return await this.dialer.checkHello(peer, addrs, options)
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

  /** Where `conn`'s session stands: what `open` picks links by. */
  sessionOf (conn: Connection): LinkSession {
    if (this.forConnection(conn) != null) return 'verified'
    return this.endedOn.has(conn) ? 'ended' : 'pending'
  }

  private async waitForHandshake (conn: Connection, options: AbortOptions): Promise<void> {
    if (this.pending.has(conn) || this.forConnection(conn) != null) return
    // the dialer starts its handshake at once, or the connection is closed for it (onConnectionOpen): no longer than that
    await this.pending.waitForStart(conn, anySignal([options.signal], this.init.handshakeTimeout ?? 10_000))
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
      if (!this.dialer.isChecking(peer)) this.dialer.run(conn).catch(() => {})
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

  private register (conn: Connection, stream: Stream, result: HandshakeResult, dialer: boolean): PeerSession {
    const { lp, remoteHello, difficulty, solveMs } = result
    const session = new PeerSession({ connection: conn, stream, lp, dialer, remoteHello, difficulty, solveMs, heartbeat: this.init.heartbeat, log: this.log, load: () => this.load })
    this.handshakes[dialer ? 'outbound' : 'inbound'].verified++
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
      this.endedOn.set(conn, evt.detail)
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
    // a handshake cut short by our own stop is no outcome
    if (!this.controller.signal.aborted) this.handshakes[inbound ? 'inbound' : 'outbound'][err instanceof HandshakeError ? 'refused' : 'abandoned']++
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
