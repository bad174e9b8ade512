import { identify, identifyPush } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { yamux } from '@libp2p/yamux'
import { verifySolution } from '../hashcash/index.ts'
import { marketPubsub } from '../market/index.ts'
import { createConnectionGater } from '../p2p-service/index.ts'
import { paymentAccount } from '../payments/index.ts'
import { dhtConfig, peerExchange, peerKeeper } from '../peer-keeper/index.ts'
import { BanList, gatedServices, PROTOCOL_RATE_LIMITS, SESSION_DEFAULTS, sessionManager } from '../peer-session/index.ts'
import { CLIENT_VERSION } from '../version.ts'
import { ROLE_PRESETS } from './role-presets.ts'
import type { GaterInit } from '../p2p-service/index.ts'
import type { Hex, PaymentAccount } from '../payments/index.ts'
import type { KeeperStore, PeerExchange, PeerKeeper } from '../peer-keeper/index.ts'
import type { ChallengeSolver, NodeRole, SessionManager, SessionManagerInit } from '../peer-session/index.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify, IdentifyPush } from '@libp2p/identify'
import type { PrivateKey, ServiceMap } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Libp2pOptions, ServiceFactoryMap } from 'libp2p'

/** Session layer settings over the role's SESSION_DEFAULTS (`difficulty` is merged field by field). */
export type SessionOverrides = Partial<Omit<SessionManagerInit, 'verify' | 'roles'>>

export interface NodePresetInit {
  role: NodeRole
  /** The node's key; libp2p makes a fresh one when absent. */
  privateKey?: PrivateKey
  /** The node's payment key (secp256k1, 0x hex), bound to its peer ID. @default a fresh one: an account for this run only */
  paymentKey?: Hex
  addresses: Libp2pOptions['addresses']
  /** The platform's transports (TCP and WebSockets on Node, WebSockets and WebRTC in a tab); Noise and Yamux are added. */
  transports: NonNullable<Libp2pOptions['transports']>
  /** What this node offers, told to peers in its Hello. */
  capabilities: string[]
  /** CPU cores offered, told to peers. */
  cores: number
  /** Pays for the sessions this node dials: Web Workers in a tab, worker threads on Node. */
  solver?: ChallengeSolver
  session?: SessionOverrides
  /** The connection gater besides the ban list it shares with the session layer (relays: per-address limits, reservations). */
  gater?: Omit<GaterInit, 'banList'>
  connectionManager?: Libp2pOptions['connectionManager']
  /** Over `{ abortConnectionOnPingFailure: false }`: the monitor measures RTT, the session heartbeat decides when a peer is gone. */
  connectionMonitor?: Libp2pOptions['connectionMonitor']
  /** Where PeerKeeper keeps its records between runs. @default memory only */
  keeperStore?: KeeperStore
}

/** The services every Golem Clay node runs, whatever its role. */
export type BaseServices = {
  sessions: SessionManager
  payments: PaymentAccount
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  keeper: PeerKeeper
  pex: PeerExchange
  dht: KadDHT
  pubsub: GossipSub
}

/** The factories of a role's own services: those of `T` beyond `Base`. */
export type RoleServices<T extends Base, Base extends ServiceMap = BaseServices> = Omit<ServiceFactoryMap<T>, keyof Base>

/**
 * The libp2p options every Golem Clay node starts from, for its role: the
 * session layer sharing its ban list with the connection gater, identify,
 * ping, PeerKeeper with peer exchange, the Golem Clay DHT and pub/sub,
 * Noise and Yamux; `services` adds the role's own. Every service but the
 * session layer sees a registrar that registers through `sessions.handle`
 * (gatedServices), so each Golem Clay protocol is gated the moment its
 * handler is registered, whoever registers it.
 */
export function nodePreset<T extends BaseServices> (init: NodePresetInit, services: RoleServices<T>): Libp2pOptions<T> {
  const preset = ROLE_PRESETS[init.role]
  const defaults = SESSION_DEFAULTS[init.role]
  const banList = new BanList()
  const sessions = sessionManager({
    ...defaults,
    ...init.session,
    difficulty: { ...defaults.difficulty, ...init.session?.difficulty },
    roles: [init.role],
    capabilities: init.capabilities,
    cores: init.cores,
    verify: verifySolution,
    solver: init.solver,
    banList,
    perProtocol: PROTOCOL_RATE_LIMITS
  })
  const shared = {
    // before the market, which takes it from the components as it is made
    payments: paymentAccount({ privateKey: init.paymentKey }),
    identify: identify(),
    identifyPush: identifyPush(),
    // the connection monitor, kad's contact checks and our RTT probes may ping at once
    ping: ping({ maxInboundStreams: 4, maxOutboundStreams: 4 }),
    keeper: peerKeeper({ store: init.keeperStore, maxPeers: preset.maxPeers }),
    pex: peerExchange(preset.pex),
    dht: kadDHT(dhtConfig(preset.dhtServer)),
    pubsub: marketPubsub()
  }
  return {
    ...(init.privateKey != null ? { privateKey: init.privateKey } : {}),
    start: false,
    nodeInfo: { name: preset.name, version: CLIENT_VERSION },
    addresses: init.addresses,
    transports: init.transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater({ ...init.gater, banList }),
    ...(init.connectionManager != null ? { connectionManager: init.connectionManager } : {}),
    connectionMonitor: { abortConnectionOnPingFailure: false, ...init.connectionMonitor },
    // the factories take their parts' own components; libp2p hands them all of them
    services: { sessions, ...gatedServices({ ...shared, ...services }) } as unknown as ServiceFactoryMap<T>
  }
}
