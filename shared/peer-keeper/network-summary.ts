import type { PeerKeeper } from './peer-keeper.ts'
import type { KadDHT } from '@libp2p/kad-dht'

export interface RoutingTableSummary {
  mode: 'client' | 'server'
  peers: number
  /** Leaf buckets of the k-bucket trie and how full each is. */
  buckets: Array<{ prefix: string, peers: number }>
}

export interface NetworkEstimate {
  relays: number
  tabs: number
  nodes: number
  total: number
}

interface Bucket { prefix: string, peers?: unknown[], left?: Bucket, right?: Bucket }

/** What the DHT routing table holds; read defensively, the trie is not public API. */
export function routingTableSummary (dht: KadDHT): RoutingTableSummary {
  const table = (dht as unknown as { routingTable?: { size?: number, kb?: { root?: Bucket } } }).routingTable
  const buckets: RoutingTableSummary['buckets'] = []
  const walk = (b: Bucket | undefined): void => {
    if (b == null) return
    if (Array.isArray(b.peers)) {
      buckets.push({ prefix: b.prefix, peers: b.peers.length })
      return
    }
    walk(b.left)
    walk(b.right)
  }
  walk(table?.kb?.root)
  return { mode: dht.getMode(), peers: table?.size ?? 0, buckets }
}

/**
 * How big the network looks from here: relays known (they are long-lived),
 * and tabs and Node peers that someone saw within `recent` ms, counting this
 * node. Relays gossip what they serve, so this grows toward the real size.
 */
export function estimateNetwork (keeper: PeerKeeper, self: 'relay' | 'tab' | 'node', recent = 120_000): NetworkEstimate {
  const now = Date.now()
  const fresh = keeper.list().filter(p => p.roles.includes('relay') || now - p.lastSeen < recent)
  const count = (role: 'relay' | 'tab' | 'node'): number => fresh.filter(p => p.roles.includes(role)).length + (self === role ? 1 : 0)
  const relays = count('relay')
  const tabs = count('tab')
  const nodes = count('node')
  return { relays, tabs, nodes, total: relays + tabs + nodes }
}
