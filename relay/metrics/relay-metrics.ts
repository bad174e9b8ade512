import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { connectionKind } from '../../shared/connection/index.ts'
import { estimateNetwork, routingTableSummary } from '../../shared/peer-keeper/index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { StorageStatus } from '../storage/relay-storage.ts'

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
type ReplicationOrigin = StorageStatus['replication']['replicateFrom'][number]
type Labelled = <L extends string>(kind: 'gauge' | 'counter', name: string, help: string, labelNames: L[], read: (node: RelayNode) => Array<[Record<L, string>, number]>) => void

/** Seconds from our challenge to a valid proof: tens of ms at low difficulty, up to a minute for a slow tab at the cap. */
const SOLVE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

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
  labelled('counter', 'golem_clay_handshakes_total', 'Handshakes ended, by direction (inbound: dialers paying our challenge) and outcome (verified, refused, abandoned)', ['direction', 'outcome'], n =>
    Object.entries(n.services.sessions.stats.handshakes).flatMap(([direction, outcomes]) =>
      Object.entries(outcomes).map(([outcome, value]): [{ direction: string, outcome: string }, number] => [{ direction, outcome }, value])))
  // observed as sessions open: a histogram cannot be read back from state at scrape time
  const solve = new Histogram({ name: 'golem_clay_handshake_solve_seconds', help: 'Inbound handshakes verified: seconds from sending the Hashcash challenge to holding a valid proof (the dialer\'s solve plus a round trip)', buckets: SOLVE_BUCKETS, registers: [registry] })
  node.services.sessions.addEventListener('session:open', (evt) => {
    if (!evt.detail.dialer && evt.detail.solveMs != null) solve.observe(evt.detail.solveMs / 1000)
  })
  gauge('golem_clay_bans', 'Peers banned now', n => n.services.sessions.stats.bans)
  gauge('golem_clay_address_bans', 'Network addresses banned now', n => n.services.sessions.stats.addressBans)
  gauge('golem_clay_reservations', 'Circuit relay reservations held', n => n.services.relay.reservations.size)
  counter('golem_clay_reservations_released_total', 'Reservations released because their holder left', n => n.services.reservationGuard.released)
  gauge('golem_clay_directory_subscribers', 'Peers subscribed to the peer directory', n => n.services.directory.size)
  gauge('golem_clay_peer_keeper_peers', 'Peers PeerKeeper keeps', n => n.services.keeper.size)
  gauge('golem_clay_network_relays', 'Relays in the network, as this relay estimates it', n => estimateNetwork(n.services.keeper, 'relay').relays)
  gauge('golem_clay_dht_routing_table_peers', 'Peers in the DHT routing table', n => routingTableSummary(n.services.dht).peers)
  gauge('golem_clay_market_tasks_seen', 'Task headers this relay has seen and keeps', n => n.services.market.seen.size)
  counter('golem_clay_market_task_headers_relayed_total', 'Valid task headers gossip brought, repeats included; gossipsub passes each on to the relay\'s mesh peers', n => n.services.market.router.headers)
  storageMetrics(gauge, counter, labelled)
  return { registry, scrape: async () => await registry.metrics(), contentType: registry.contentType }
}

function storageMetrics (gauge: (name: string, help: string, read: Read) => void, counter: (name: string, help: string, read: Read) => void, labelled: Labelled): void {
  const s = (n: RelayNode): NonNullable<RelayNode['services']['storage']>['status'] | undefined => n.services.storage?.status
  // what counts against the quota: objects uploaded here, replicas held, uploads in progress
  const used = (n: RelayNode): number => { const st = s(n); return st == null ? 0 : st.bytes + st.replicatedBytes + st.pendingBytes }
  gauge('golem_clay_storage_objects', 'Stored objects', n => s(n)?.objects ?? 0)
  gauge('golem_clay_storage_bytes', 'Bytes of the objects uploaded to this relay (replicas and uploads in progress not included)', n => s(n)?.bytes ?? 0)
  gauge('golem_clay_storage_quota_bytes', 'Storage quota', n => s(n)?.quota ?? 0)
  gauge('golem_clay_storage_used_bytes', 'Bytes counted against the quota: objects uploaded here, replicas held, uploads in progress', used)
  gauge('golem_clay_storage_quota_used_ratio', 'Share of the storage quota in use, 0..1', n => { const quota = s(n)?.quota ?? 0; return quota > 0 ? used(n) / quota : 0 })
  gauge('golem_clay_storage_uploads_in_progress', 'Uploads begun and not yet committed', n => s(n)?.pendingUploads ?? 0)
  counter('golem_clay_storage_uploads_total', 'Uploads received in full and verified', n => s(n)?.uploads ?? 0)
  counter('golem_clay_storage_downloads_total', 'Downloads served to their end', n => s(n)?.downloads ?? 0)
  counter('golem_clay_storage_received_bytes_total', 'Object bytes received from uploaders', n => s(n)?.bytesIn ?? 0)
  counter('golem_clay_storage_sent_bytes_total', 'Object bytes sent to downloaders', n => s(n)?.bytesOut ?? 0)
  // the figures' running total: status.replicatedBytes is what is held now, and shrinks as replicas expire
  counter('golem_clay_storage_replicated_bytes_total', 'Bytes replicated from other relays', n => s(n)?.replication.replicated.bytes ?? 0)
  labelled('counter', 'golem_clay_storage_refusals_total', 'Storage requests refused, by kind', ['kind'], n =>
    Object.entries(s(n)?.refusals ?? {}).map(([kind, value]) => [{ kind }, value]))
  const origins = (read: (r: ReplicationOrigin) => number) => (n: RelayNode): Array<[{ relay: string }, number]> =>
    (s(n)?.replication.replicateFrom ?? []).map(r => [{ relay: r.relay }, read(r)])
  labelled('gauge', 'golem_clay_storage_replication_linked', 'Relays this relay copies: 1 while the replication link is up', ['relay'], origins(r => r.linked ? 1 : 0))
  labelled('gauge', 'golem_clay_storage_replication_behind_objects', 'Replication lag: live objects the origin\'s drives list (as far as their metadata reached this relay) whose bytes are not here yet', ['relay'], origins(r => r.behind.objects))
  labelled('gauge', 'golem_clay_storage_replication_behind_bytes', 'Replication lag: bytes of those objects', ['relay'], origins(r => r.behind.bytes))
}
