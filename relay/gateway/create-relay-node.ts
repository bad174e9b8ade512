import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { tcp } from '@libp2p/tcp'
import { TCP } from '@multiformats/multiaddr-matcher'
import { createLibp2p } from 'libp2p'
import { AddressKeys } from '../../shared/connection/index.ts'
import { InvalidConfigError } from '../../shared/errors.ts'
import { marketRouter } from '../../shared/market/index.ts'
import { nodePreset } from '../../shared/node-preset/index.ts'
import { relayConnector } from '../../shared/p2p-service/index.ts'
import { relayProbe } from '../../shared/peer-keeper/index.ts'
import { BanList, RefusalCounters } from '../../shared/peer-session/index.ts'
import { createNodeHashcashSolver } from '../hashcash/node-solver.ts'
import { relayStorage } from '../storage/relay-storage.ts'
import { secureWebSockets } from '../tls/index.ts'
import { directoryServer } from './directory-server.ts'
import { widgetBoard } from '../widget/index.ts'
import { forwardedForRequest } from './forwarded-for.ts'
import { relayLimits } from './relay-limits.ts'
import { reservationGuard } from './reservation-guard.ts'
import type { Market } from '../../shared/market/index.ts'
import type { BaseServices, SessionOverrides } from '../../shared/node-preset/index.ts'
import type { Hex } from '../../shared/payments/index.ts'
import type { RelayConnector } from '../../shared/p2p-service/index.ts'
import type { KeeperStore, RelayProbe } from '../../shared/peer-keeper/index.ts'
import type { ChainServer, ChainServerInit } from '../chain/chain-server.ts'
import type { RelayChain } from '../chain/relay-chain.ts'
import type { RelayStorage, RelayStorageInit } from '../storage/relay-storage.ts'
import type { SecureContextTarget } from '../tls/index.ts'
import type { DirectoryServer } from './directory-server.ts'
import type { WidgetBoard } from '../widget/index.ts'
import type { RelayLimitsService } from './relay-limits.ts'
import type { ReservationGuard } from './reservation-guard.ts'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, Libp2pOptions } from 'libp2p'

export interface RelayNodeInit {
  privateKey: PrivateKey
  /** Payment key (secp256k1, 0x hex), from the key file in the data folder or --payment-key-file. @default a fresh one: an account for this run only */
  paymentKey?: Hex
  /** IPv4 or IPv6 address to listen on. @default '0.0.0.0' */
  host?: string
  /** @default 9091 */
  tcpPort?: number
  /** @default 9090 */
  wsPort?: number
  /** A secure WebSockets listener (`/tls/ws`) with this certificate, e.g. from TlsFiles. */
  tls?: RelayTlsInit
  /** Advertised instead of the listen addresses when non-empty. */
  announce?: Multiaddr[]
  /** @default 1024 */
  maxConnections?: number
  /** @default 512 */
  maxReservations?: number
  /** Seconds a reservation lasts unless refreshed (it also ends with its holder's last session). @default 900 */
  reservationTtl?: number
  /** Connections still in their Noise/Yamux upgrade, from everyone. @default 256 */
  maxPendingConnections?: number
  /** Per-address limits: peer IDs are free, addresses are not. */
  perAddress?: PerAddressLimits
  /**
   * Proxies (CIDRs) in front of the WebSocket port whose X-Forwarded-For
   * names the client, so per-address limits see clients, not the proxy. @default none
   */
  trustedProxies?: string[]
  /** Bytes one relayed connection may carry. @default 64 MiB */
  relayDataLimit?: number
  /** Seconds one relayed connection may stay open. @default 1800 */
  relayDurationLimit?: number
  /** Other relays to join into one network (multiaddrs ending in /p2p/<peer ID>). */
  seeds?: Multiaddr[]
  /** Where PeerKeeper keeps its records between runs. @default memory only */
  keeperStore?: KeeperStore
  /** Session layer overrides (difficulty, limits, heartbeat); defaults in SESSION_DEFAULTS.relay. */
  session?: SessionOverrides
  /** Hyperdrive storage (Corestore folder, quotas, replication); off when absent. */
  storage?: RelayStorageInit
  /** libp2p's metrics (e.g. @libp2p/prometheus-metrics). @default none */
  metrics?: Libp2pOptions['metrics']
  /** The payments chain (started already): served to peers on `/golem-clay/chain/2.0.0`. @default none */
  chain?: RelayChain
  /** How the chain is served (cheque batches, caches, timeouts). */
  chainServer?: Omit<ChainServerInit, 'chain'>
}

export interface RelayTlsInit {
  /** @default 9443 */
  port?: number
  /** The certificate and key (PEM) in use now. */
  options: { cert: string, key: string }
  /** Receives the listener's HTTPS server, whose certificate is replaced on reload. */
  serve: (server: SecureContextTarget) => void
}

export interface PerAddressLimits {
  /** Connections in their upgrade from one address. @default 8 */
  pendingConnections?: number
  /** Handshakes in progress from one address. @default 8 */
  pendingHandshakes?: number
  /** Reservations held by one address. @default 32 */
  reservations?: number
  /** CIDRs these limits skip (e.g. a trusted NAT). @default none */
  exempt?: string[]
}

export type RelayServices = BaseServices & {
  reservationGuard: ReservationGuard
  limits: RelayLimitsService
  relay: CircuitRelayService
  directory: DirectoryServer
  relayProbe: RelayProbe
  seeds: RelayConnector
  storage?: RelayStorage
  market: Market
  chain?: ChainServer
  /** Widgets' reports, for the site owner's page (GET /widget/stats). */
  widgets: WidgetBoard
}

export type RelayNode = Libp2p<RelayServices>

/** libp2p's own reservation cap; raising --max-reservations past it takes a restart. */
const RESERVATION_CEILING = 16_384

/** The relay gateway's libp2p node: TCP + WebSockets, circuit relay v2, DHT server. */
export async function createRelayNode (init: RelayNodeInit): Promise<RelayNode> {
  const host = init.host ?? '0.0.0.0'
  const family = isIP(host)
  if (family === 0) throw new InvalidConfigError(`--host must be an IPv4 or IPv6 address, got "${host}"`)
  const ip = family === 4 ? `/ip4/${host}` : `/ip6/${host}`
  const addressBans = new BanList()
  const counters = new RefusalCounters()
  const addresses = new AddressKeys({ exempt: init.perAddress?.exempt })
  let guard: ReservationGuard | undefined
  let drained: (() => boolean) | undefined
  // one object the gater reads on each connection, so SIGHUP can change it
  const inboundGuard = { addresses, addressBans, counters, maxPendingPerAddress: init.perAddress?.pendingConnections }
  // loaded only with a chain: the contracts' build comes with it
  const chainService = init.chain != null ? (await import('../chain/chain-server.ts')).chainServer({ ...init.chainServer, chain: init.chain }) : undefined
  const node = await createLibp2p({ metrics: init.metrics, ...nodePreset<RelayServices>({
    role: 'relay',
    privateKey: init.privateKey,
    paymentKey: init.paymentKey,
    addresses: {
      listen: [`${ip}/tcp/${init.tcpPort ?? 9091}`, `${ip}/tcp/${init.wsPort ?? 9090}/ws`, ...(init.tls != null ? [`${ip}/tcp/${init.tls.port ?? 9443}/tls/ws`] : [])],
      announce: (init.announce ?? []).map(ma => ma.toString())
    },
    transports: [tcp(), relayWebSockets(init)],
    capabilities: ['relay', 'dht', 'directory', ...(init.storage != null ? ['storage'] : []), ...(chainService != null ? ['chain'] : [])],
    // session heartbeats check every peer both ways already; libp2p's monitor
    // would open a ping stream to each connection every 10 s on top
    connectionMonitor: { enabled: false },
    cores: availableParallelism(),
    // relays dial each other too; workers start only when a challenge comes
    solver: createNodeHashcashSolver(),
    // the gater and the session layer share the per-address view: keys, bans, counters
    session: {
      ...init.session,
      addressBans,
      addresses,
      counters,
      maxPendingHandshakesPerAddress: init.perAddress?.pendingHandshakes ?? init.session?.maxPendingHandshakesPerAddress
    },
    gater: {
      inbound: inboundGuard,
      denyReservation: (peer) => guard?.deny(peer) ?? false,
      // draining: the peers told goodbye go elsewhere, and their reconnects must not hold up the stop
      refuseInbound: () => drained?.() === true
    },
    connectionManager: {
      maxConnections: init.maxConnections ?? 1024,
      // libp2p's default (10) is shared by everyone: a dozen half-open sockets locked tabs out
      maxIncomingPendingConnections: init.maxPendingConnections ?? 256
    },
    keeperStore: init.keeperStore
  }, {
    reservationGuard: reservationGuard({ maxPerAddress: init.perAddress?.reservations, maxReservations: init.maxReservations }),
    limits: relayLimits({ gater: inboundGuard }),
    relay: circuitRelayServer({
      reservations: {
        // fixed at start: the reservation guard enforces the operator's (changeable) cap in front of it
        maxReservations: Math.max(init.maxReservations ?? 512, RESERVATION_CEILING),
        reservationTtl: (init.reservationTtl ?? 900) * 1000,
        defaultDataLimit: BigInt(init.relayDataLimit ?? 64 * 1024 * 1024),
        defaultDurationLimit: (init.relayDurationLimit ?? 1800) * 1000
      }
    }),
    directory: directoryServer(),
    // a relay that dialed us is a relay only once it answers as one where it says it listens
    relayProbe: relayProbe({ acceptAddr: (ma) => TCP.exactMatch(ma), allowPrivate: (init.announce ?? []).length === 0 }),
    // relays stay connected to their seeds; the DHT and PEX find the rest
    seeds: relayConnector({ relays: init.seeds ?? [], acceptAddr: (ma) => TCP.exactMatch(ma) }),
    // relays carry task headers between tabs and Node peers; they neither submit nor compute
    market: marketRouter(),
    widgets: widgetBoard(),
    ...(init.storage != null ? { storage: relayStorage(init.storage) } : {}),
    ...(chainService != null ? { chain: chainService } : {})
  }) })
  guard = node.services.reservationGuard
  drained = () => node.services.sessions.draining
  return node
}

/** Plain `/ws` always; HTTPS for `/tls/ws` with the TLS files; both trust forwarded client addresses from the proxies named. */
function relayWebSockets (init: RelayNodeInit): ReturnType<typeof secureWebSockets> {
  const http = (init.trustedProxies ?? []).length > 0 ? { IncomingMessage: forwardedForRequest(init.trustedProxies ?? []) } : {}
  return secureWebSockets({ http, ...(init.tls != null ? { https: { ...http, ...init.tls.options } } : {}) }, (server) => { init.tls?.serve(server) })
}
