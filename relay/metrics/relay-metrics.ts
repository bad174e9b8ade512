import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import { connectionKind } from '../../shared/connection/index.ts'
import { estimateNetwork, routingTableSummary } from '../../shared/peer-keeper/index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'

export interface RelayMetricsInit {
  /** Where the metrics live; libp2p's own (@libp2p/prometheus-metrics) go in the same one. @default a new Registry */
  registry?: Registry
  /** Process metrics of prom-client (CPU, heap, event loop lag, file descriptors). @default true */
  processMetrics?: boolean
}

export interface RelayMetrics {
  registry: Registry
  /** The Prometheus text exposition of every metric, read now. */
  scrape: () => Promise<string>
  /** Content type of `scrape()`'s text. */
  contentType: string
}

type Read = (node: RelayNode) => number

/**
 * The relay's own figures as Prometheus metrics, read from the node when
 * scraped (nothing is counted twice: /status and /metrics read the same
 * state). Counters mirror monotonic counts the parts keep.
 */
export function createRelayMetrics (node: RelayNode, init: RelayMetricsInit = {}): RelayMetrics {
  const registry = init.registry ?? new Registry()
  if (init.processMetrics !== false) collectDefaultMetrics({ register: registry })
  // every metric is read from the node at scrape time; a counter is reset to the part's own monotonic count
  const labelled = <L extends string>(kind: 'gauge' | 'counter', name: string, help: string, labelNames: L[], read: (node: RelayNode) => Array<[Record<L, string>, number]>): void => {
    const collect = function (this: Gauge<L> | Counter<L>): void {
      this.reset()
      for (const [labels, value] of read(node)) {
        if (this instanceof Gauge) this.set(labels, value)
        else this.inc(labels, value)
      }
    }
    if (kind === 'gauge') new Gauge({ name, help, labelNames, registers: [registry], collect }) // eslint-disable-line no-new
    else new Counter({ name, help, labelNames, registers: [registry], collect }) // eslint-disable-line no-new
  }
  const gauge = (name: string, help: string, read: Read): void => { labelled('gauge', name, help, [], n => [[{}, read(n)]]) }
  const counter = (name: string, help: string, read: Read): void => { labelled('counter', name, help, [], n => [[{}, read(n)]]) }

  labelled('gauge', 'golem_clay_connections', 'Open connections by transport and direction', ['transport', 'direction'], (n) => {
    const counts = new Map<string, number>()
    for (const conn of n.getConnections()) {
      const key = `${connectionKind(conn)}\n${conn.direction}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return [...counts].map(([key, value]) => {
      const [transport = '', direction = ''] = key.split('\n')
      return [{ transport, direction }, value]
    })
  })
  gauge('golem_clay_sessions', 'Verified PeerSessions', n => n.services.sessions.stats.sessions)
  gauge('golem_clay_handshakes_in_progress', 'Handshakes started and not yet verified or refused', n => n.services.sessions.stats.pendingHandshakes)
  gauge('golem_clay_handshake_rate', 'Inbound handshake attempts per second, as the adaptive difficulty sees them', n => n.services.sessions.stats.handshakeRate)
  gauge('golem_clay_session_difficulty_bits', 'Hashcash difficulty asked of peers that dial now', n => n.services.sessions.stats.difficulty)
  labelled('counter', 'golem_clay_session_refusals_total', 'Refusals by the session layer, by kind', ['kind'], n =>
    Object.entries(n.services.sessions.stats.refusals).map(([kind, value]) => [{ kind }, value]))
  gauge('golem_clay_bans', 'Peers banned now', n => n.services.sessions.stats.bans)
  gauge('golem_clay_address_bans', 'Network addresses banned now', n => n.services.sessions.stats.addressBans)
  gauge('golem_clay_reservations', 'Circuit relay reservations held', n => n.services.relay.reservations.size)
  counter('golem_clay_reservations_released_total', 'Reservations released because their holder left', n => n.services.reservationGuard.released)
  gauge('golem_clay_directory_subscribers', 'Peers subscribed to the peer directory', n => n.services.directory.size)
  gauge('golem_clay_peer_keeper_peers', 'Peers PeerKeeper keeps', n => n.services.keeper.size)
  gauge('golem_clay_network_relays', 'Relays in the network, as this relay estimates it', n => estimateNetwork(n.services.keeper, 'relay').relays)
  gauge('golem_clay_dht_routing_table_peers', 'Peers in the DHT routing table', n => routingTableSummary(n.services.dht).peers)
  gauge('golem_clay_market_tasks_seen', 'Task headers this relay has seen and keeps', n => n.services.market.seen.size)
  storageMetrics(gauge, counter)
  return { registry, scrape: async () => await registry.metrics(), contentType: registry.contentType }
}

function storageMetrics (gauge: (name: string, help: string, read: Read) => void, counter: (name: string, help: string, read: Read) => void): void {
  const s = (n: RelayNode): NonNullable<RelayNode['services']['storage']>['status'] | undefined => n.services.storage?.status
  gauge('golem_clay_storage_objects', 'Stored objects', n => s(n)?.objects ?? 0)
  gauge('golem_clay_storage_bytes', 'Bytes stored, replicas included', n => s(n)?.bytes ?? 0)
  gauge('golem_clay_storage_quota_bytes', 'Storage quota', n => s(n)?.quota ?? 0)
  gauge('golem_clay_storage_uploads_in_progress', 'Uploads begun and not yet committed', n => s(n)?.pendingUploads ?? 0)
  counter('golem_clay_storage_received_bytes_total', 'Object bytes received from uploaders', n => s(n)?.bytesIn ?? 0)
  counter('golem_clay_storage_sent_bytes_total', 'Object bytes sent to downloaders', n => s(n)?.bytesOut ?? 0)
  counter('golem_clay_storage_replicated_bytes_total', 'Bytes replicated from other relays', n => s(n)?.replicatedBytes ?? 0)
}
