import { connectionKind } from '../../shared/connection/index.ts'
import { CLIENT_VERSION, PROTOCOL_VERSION } from '../../shared/version.ts'
import { estimateNetwork, routingTableSummary } from '../../shared/peer-keeper/index.ts'
import type { NetworkEstimate } from '../../shared/peer-keeper/index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { SessionStats } from '../../shared/peer-session/index.ts'
import type { StorageStatus } from '../storage/relay-storage.ts'

export interface RelayStatusReport {
  peerId: string
  /** The relay's payment account: the Ethereum address bound to its peer ID. */
  paymentAddress: string
  version: string
  protocolVersion: string
  multiaddrs: string[]
  connectedPeers: number
  /** Connections by kind (websocket, tcp, …). */
  connections: Record<string, number>
  /** Only for a caller with the status token: who is connected, and how. */
  peers?: Array<{ peerId: string, kinds: string[] }>
  reservations: number
  /** What the hardening did: reservations released with their holder, relays dialed back, PEX records refused past a source's share. */
  limits: { reservationsReleased: number, relayProbes: { verified: number, failed: number }, keeperRefusedFromSources: number }
  directorySubscribers: number
  /** The session layer: verified sessions, the difficulty asked of dialers now, refusals by kind. */
  session: SessionStats
  /** PeerKeeper and the DHT: what this relay knows of the network. */
  network: { kept: number, estimate: NetworkEstimate, routingTable: { peers: number, buckets: number }, seeds: Array<{ peerId?: string, state: string }> }
  startedAt: string
  uptime: number
  /** Hyperdrive storage: objects, bytes, quotas, transfers, refusals, replication. */
  storage?: StorageStatus
}

/** Peers listed individually in /status; the count is always exact. */
const MAX_LISTED_PEERS = 200

/** Anonymous callers get counts; identities need the status token. */
export function relayStatus (node: RelayNode, startedAt: number, detailed = false): RelayStatusReport {
  const byPeer = new Map<string, Set<string>>()
  const connections: Record<string, number> = {}
  for (const conn of node.getConnections()) {
    const key = conn.remotePeer.toString()
    const kinds = byPeer.get(key) ?? new Set<string>()
    const kind = connectionKind(conn)
    kinds.add(kind)
    byPeer.set(key, kinds)
    connections[kind] = (connections[kind] ?? 0) + 1
  }
  return {
    peerId: node.peerId.toString(),
    paymentAddress: node.services.payments.address,
    version: CLIENT_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    multiaddrs: node.getMultiaddrs().map(ma => ma.toString()),
    connectedPeers: byPeer.size,
    connections,
    ...(detailed ? { peers: [...byPeer].slice(0, MAX_LISTED_PEERS).map(([peerId, kinds]) => ({ peerId, kinds: [...kinds] })) } : {}),
    reservations: node.services.relay.reservations.size,
    limits: {
      reservationsReleased: node.services.reservationGuard.released,
      relayProbes: { verified: node.services.relayProbe.verified, failed: node.services.relayProbe.failed },
      keeperRefusedFromSources: node.services.keeper.refusedFromSources
    },
    directorySubscribers: node.services.directory.size,
    session: node.services.sessions.stats,
    network: {
      kept: node.services.keeper.size,
      estimate: estimateNetwork(node.services.keeper, 'relay'),
      routingTable: (({ peers, buckets }) => ({ peers, buckets: buckets.length }))(routingTableSummary(node.services.dht)),
      seeds: node.services.seeds.status.map(s => ({ peerId: s.peerId, state: s.state }))
    },
    startedAt: new Date(startedAt).toISOString(),
    uptime: Math.round((Date.now() - startedAt) / 1000),
    storage: node.services.storage?.status
  }
}
