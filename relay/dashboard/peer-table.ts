import { connectionKind } from '../../shared/connection/index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'

/** One connected peer, for an operator holding the status token. */
export interface PeerRow {
  peerId: string
  /** What its session Hello said it is (relay, tab, node); empty before the session is verified. */
  roles: string[]
  /** Connection kinds to it (websocket, tcp, relayed, …). */
  kinds: string[]
  connections: number
  /** Remote address of the first of its connections the node lists, without its peer ID. */
  address: string
  /** When its session was verified (ms since the epoch); absent while it has none. */
  since?: number
  /** Hashcash bits its session paid. */
  difficulty?: number
  clientVersion?: string
}

export interface SeedRow {
  state: string
  failures: number
  /** Only with the status token: who the seed is. */
  peerId?: string
  addr?: string
  rtt?: number
}

/** Peers listed one by one; `total` is always exact. @default as /status */
const MAX_LISTED_PEERS = 200

/** Who is connected and how, oldest session first, read from the node now. */
export function peerTable (node: RelayNode, max = MAX_LISTED_PEERS): { peers: PeerRow[], total: number } {
  const byPeer = new Map<string, PeerRow>()
  for (const conn of node.getConnections()) {
    const peerId = conn.remotePeer.toString()
    // the address ends in the peer's own ID, which has a column of its own
    const address = conn.remoteAddr.toString().replace(new RegExp(`/p2p/${peerId}$`), '')
    const row = byPeer.get(peerId) ?? { peerId, roles: [], kinds: [], connections: 0, address }
    byPeer.set(peerId, row)
    row.connections++
    const kind = connectionKind(conn)
    if (!row.kinds.includes(kind)) row.kinds.push(kind)
    const session = node.services.sessions.forConnection(conn)
    if (session != null && (row.since == null || session.establishedAt < row.since)) {
      Object.assign(row, { roles: [...session.remoteHello.roles], since: session.establishedAt, difficulty: session.difficulty, clientVersion: session.remoteHello.clientVersion })
    }
  }
  const peers = [...byPeer.values()].sort((a, b) => (a.since ?? Infinity) - (b.since ?? Infinity))
  return { peers: peers.slice(0, max), total: peers.length }
}

/** The configured seed relays' states; who they are only for an operator. */
export function seedTable (node: RelayNode, operator: boolean): SeedRow[] {
  return node.services.seeds.status.map(s => ({
    state: s.state,
    failures: s.failures,
    ...(operator ? { peerId: s.peerId, addr: s.addr, rtt: s.rtt } : {})
  }))
}
