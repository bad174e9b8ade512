import { connectionKind } from '../../../shared/connection/index.ts'
import { estimateNetwork, routingTableSummary } from '../../../shared/peer-keeper/index.ts'
import type { BrowserNode } from './create-browser-node.ts'
import type { ConnectionKind } from '../../../shared/connection/index.ts'
import type { NetworkEstimate, RoutingTableSummary } from '../../../shared/peer-keeper/index.ts'

export interface GraphNode {
  id: string
  role: 'self' | 'relay' | 'tab' | 'node'
  /** We hold a connection (or, for relays, a reservation) to it. */
  linked: boolean
}

export interface GraphLink {
  from: string
  to: string
  kind: ConnectionKind | 'reservation' | 'via-relay'
}

/** Who is there right now, as this tab can tell: linked to it, or listed by a relay it uses (this tab counts as one tab). */
export interface LiveCount {
  tabs: number
  nodes: number
  /** Relays this tab is connected to. */
  relays: number
}

export interface NetworkGraph {
  nodes: GraphNode[]
  links: GraphLink[]
  routing: RoutingTableSummary
  /** Seen within the last 2 minutes: a peer that left stays in it that long. */
  estimate: NetworkEstimate
  live: LiveCount
}

const RECENT = 120_000

/** The relay a circuit address goes through: `/p2p/<relay>/p2p-circuit`. */
function relayOf (addr: string): string | undefined {
  return /\/p2p\/([^/]+)\/p2p-circuit/.exec(addr)?.[1]
}

/**
 * The network as this tab sees it: its relays and the peers PeerKeeper
 * knows, with this tab's own links (and their transports) and which relay
 * each peer is reserved on.
 */
export function networkGraph (node: BrowserNode): NetworkGraph {
  const self = node.peerId.toString()
  const now = Date.now()
  const keeper = node.services.keeper
  const nodes = new Map<string, GraphNode>([[self, { id: self, role: 'self', linked: true }]])
  const links: GraphLink[] = []
  const connected = new Map<string, ConnectionKind>()
  for (const conn of node.getConnections()) {
    if (conn.status !== 'open') continue
    const kind = connectionKind(conn)
    const id = conn.remotePeer.toString()
    if (connected.get(id) == null || kind === 'webrtc') connected.set(id, kind)
  }
  for (const relay of keeper.relays()) nodes.set(relay.id, { id: relay.id, role: 'relay', linked: connected.has(relay.id) })
  for (const peer of keeper.list()) {
    if (peer.roles.includes('relay') || now - peer.lastSeen > RECENT) continue
    const role = peer.roles.includes('tab') ? 'tab' : 'node'
    nodes.set(peer.id, { id: peer.id, role, linked: connected.has(peer.id) })
    for (const relay of new Set(peer.multiaddrs.map(relayOf).filter((r): r is string => r != null))) {
      if (!nodes.has(relay)) nodes.set(relay, { id: relay, role: 'relay', linked: connected.has(relay) })
      links.push({ from: peer.id, to: relay, kind: 'via-relay' })
    }
  }
  const reserved = new Set(node.getMultiaddrs().map(ma => relayOf(ma.toString())).filter((r): r is string => r != null))
  for (const [id, kind] of connected) {
    if (!nodes.has(id)) continue
    links.push({ from: self, to: id, kind: reserved.has(id) ? 'reservation' : kind })
  }
  return {
    nodes: [...nodes.values()],
    links,
    routing: routingTableSummary(node.services.dht),
    estimate: estimateNetwork(keeper, 'tab', RECENT),
    live: liveCount(node, connected)
  }
}

/**
 * Peers that are here now: relays drop a peer from their directory as soon
 * as its session ends, and a link closes with it, so unlike the keeper's
 * "seen lately" this never counts a tab that left.
 */
function liveCount (node: BrowserNode, connected: Map<string, ConnectionKind>): LiveCount {
  const keeper = node.services.keeper
  const roles = new Map<string, 'tab' | 'node'>()
  for (const peer of node.services.directory.peers) roles.set(peer.id.toString(), peer.role)
  let relays = 0
  for (const id of connected.keys()) {
    const kept = keeper.get(id)?.roles ?? []
    if (kept.includes('relay')) relays++
    else if (!roles.has(id) && (kept.includes('tab') || kept.includes('node'))) roles.set(id, kept.includes('tab') ? 'tab' : 'node')
  }
  const count = (role: 'tab' | 'node'): number => [...roles.values()].filter(r => r === role).length
  return { tabs: count('tab') + 1, nodes: count('node'), relays }
}
