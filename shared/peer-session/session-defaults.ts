import { CHAIN_PROTOCOL, DIRECTORY_PROTOCOL, MARKET_PROTOCOL, MESSAGE_PROTOCOL } from '../wire/index.ts'
import type { SessionManagerInit } from './session-manager-init.ts'
import type { NodeRole } from './session-codec.ts'

/**
 * How long `sessions.open` may take, link, session and stream together,
 * unless its caller says otherwise: enough for a proof of work at a loaded
 * relay's difficulty (the circuit relay transport waits as long for a
 * reservation behind one).
 */
export const OPEN_TIMEOUT = 70_000

/** The relay's circuit relay v2 hop protocol: reservations need a verified session. */
export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'

/**
 * Per-role session defaults. Relays take many peers and set the real price
 * of entry; tabs take few. The relay's base difficulty is what a tab on a
 * 2-core machine solves in ~0.2 s on average (see BENCHMARKS.md).
 */
export const SESSION_DEFAULTS: Record<NodeRole, Omit<SessionManagerInit, 'verify' | 'roles'>> = {
  relay: {
    maxSessions: 1024,
    maxPendingHandshakes: 64,
    // a dialer opens its session stream at once; an idle connection holds a slot everyone shares
    handshakeTimeout: 5_000,
    difficulty: { base: 22, max: 28, normalRate: 5 },
    extraGatedProtocols: [HOP_PROTOCOL]
  },
  tab: {
    maxSessions: 64,
    maxPendingHandshakes: 8,
    difficulty: { base: 16, max: 24, normalRate: 1 }
  },
  node: {
    maxSessions: 256,
    maxPendingHandshakes: 32,
    difficulty: { base: 18, max: 26, normalRate: 2 }
  }
}

/** Per-peer stream limits on the chattier protocols. */
export const PROTOCOL_RATE_LIMITS: SessionManagerInit['perProtocol'] = {
  [MESSAGE_PROTOCOL]: { points: 20, duration: 1 },
  [DIRECTORY_PROTOCOL]: { points: 5, duration: 10 },
  // offers, assignments, reports and verdicts: a few per subtask
  [MARKET_PROTOCOL]: { points: 60, duration: 1 },
  // deposit checks (cached by the asker), deposits' transactions, cashing
  [CHAIN_PROTOCOL]: { points: 20, duration: 1 }
}
