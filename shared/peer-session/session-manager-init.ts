import type { AddressKeys } from '../connection/index.ts'
import type { AdaptiveDifficultyInit } from './adaptive-difficulty.ts'
import type { BanList } from './ban-list.ts'
import type { DisconnectReason } from './disconnect.ts'
import type { ChallengeSolver, SolutionVerifier, SolveProgress } from './handshake.ts'
import type { HeartbeatInit, PeerSession, SessionEnd } from './peer-session.ts'
import type { RefusalCounters, RefusalKind } from './refusals.ts'
import type { NodeRole } from './session-codec.ts'
import type { SessionGateInit } from './session-gate.ts'
import type { SolveBudgetInit } from './solve-budget.ts'
import type { ComponentLogger, Libp2pEvents, PeerId, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

/** What `SessionManager.setLimits` may change while running. */
export interface SessionLimits {
  maxSessions?: number
  maxPendingHandshakes?: number
  maxPendingHandshakesPerAddress?: number
  difficulty?: { base: number, max: number }
}

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

/** Handshakes that came to an end, by how. */
export interface HandshakeOutcomes {
  /** A verified session. */
  verified: number
  /** A Disconnect, from us or from the peer: a wrong proof, no room, too slow… */
  refused: number
  /** No verdict: the stream or the connection went away mid-handshake. */
  abandoned: number
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
  /** Handshakes ended since start: `inbound` are dialers paying our challenge, `outbound` our own. */
  handshakes: { inbound: HandshakeOutcomes, outbound: HandshakeOutcomes }
}
