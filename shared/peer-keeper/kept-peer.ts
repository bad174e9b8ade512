import type { NodeRole } from '../peer-session/index.ts'

/** What PeerKeeper knows about one peer. Addresses only ever come from its signed record. */
export interface KeptPeer {
  id: string
  /**
   * Roles this node trusts: verified itself (`verified`), or vouched for by
   * a relay it verified (peer exchange). Never what a peer says of itself
   * unchecked: a relay is a relay because it answered as one when dialed.
   */
  roles: NodeRole[]
  /** Roles this node verified itself: 'relay' when it dialed the peer and a relay answered; others from any session. */
  verified?: NodeRole[]
  /** The relay that vouched for this peer (peer exchange), until it is verified; each may vouch for only so many. */
  via?: string
  /** The peer's own signed peer record (libp2p envelope), the only source of addresses. */
  envelope?: Uint8Array
  /** Sequence number of that record: older ones never replace newer. */
  seq?: bigint
  multiaddrs: string[]
  /** Last time we had a session with it or heard a fresh record, ms since epoch. */
  lastSeen: number
  rtt?: number
  /** Last load it reported (relays), 0..1. */
  load?: number
  /** Reputation: sessions that worked raise it, failures and misbehaviour lower it. */
  score: number
  /** Configured as a seed: never evicted. */
  seed?: boolean
}

export const MIN_SCORE = -20
export const MAX_SCORE = 20

export type ScoreEvent = 'session' | 'dial-failed' | 'refused-us' | 'misbehaved' | 'wrong-result'

const DELTA: Record<ScoreEvent, number> = {
  session: 1,
  'dial-failed': -1,
  'refused-us': -1,
  misbehaved: -5,
  'wrong-result': -5
}

export function scored (score: number, event: ScoreEvent): number {
  return Math.min(MAX_SCORE, Math.max(MIN_SCORE, score + DELTA[event]))
}

/** A session in which a relay answered when this node dialed its own address. */
export function answeredAsRelay (session: { dialer: boolean, kind: string, remoteHello: { roles: NodeRole[] } }): boolean {
  return session.dialer && (session.kind === 'tcp' || session.kind === 'websocket') && session.remoteHello.roles.includes('relay')
}

/** A relay this node dialed and that answered as one (or a configured seed). */
export function isVerifiedRelay (p: KeptPeer | undefined): boolean {
  return p != null && (p.seed === true || p.verified?.includes('relay') === true)
}

/**
 * Which peer to forget first when the keeper is full: seeds never; relays
 * this node verified last (they are how a restarted node finds its way
 * back); then peers it verified; relays others vouched for, then peers it
 * knows nothing of, go first; within each, the lowest score, then the
 * longest unseen.
 */
export function evictionOrder (a: KeptPeer, b: KeptPeer): number {
  const weight = (p: KeptPeer): number => (p.seed === true ? 1_000 : 0) +
    (isVerifiedRelay(p) ? 100 : p.roles.includes('relay') ? 5 : 0) +
    ((p.verified?.length ?? 0) > 0 ? 10 : 0) + p.score
  return weight(a) - weight(b) || a.lastSeen - b.lastSeen
}

/** Relays ordered best first: low RTT, lightly loaded, good score. Unknown RTT counts as 250 ms. */
export function relayRank (p: KeptPeer): number {
  const rtt = p.rtt ?? 250
  const load = p.load ?? 0.5
  return rtt * (1 + 4 * load * load) - p.score * 5
}
