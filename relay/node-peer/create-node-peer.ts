import { availableParallelism } from 'node:os'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify, identifyPush } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { kadDHT } from '@libp2p/kad-dht'
import { TCP } from '@multiformats/multiaddr-matcher'
import { createLibp2p } from 'libp2p'
import { dhtConfig, peerExchange, peerFinder, peerKeeper } from '../../shared/peer-keeper/index.ts'
import { directoryClient } from '../../shared/directory/index.ts'
import { messaging } from '../../shared/messaging/index.ts'
import { createConnectionGater, pacedRandomWalk, relayConnector } from '../../shared/p2p-service/index.ts'
import { storageClient } from '../../shared/storage/index.ts'
import { market, marketPubsub } from '../../shared/market/index.ts'
import { createNodeTaskRunner } from '../compute/node-task-runner.ts'
import type { Market } from '../../shared/market/index.ts'
import type { MarketInit, ProviderInit } from '../../shared/market/index.ts'
import type { TaskRunner } from '../../shared/compute/index.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { StorageClient, StorageClientInit } from '../../shared/storage/index.ts'
import { CLIENT_VERSION } from '../../shared/version.ts'
import { verifySolution } from '../../shared/hashcash/index.ts'
import { BanList, PROTOCOL_RATE_LIMITS, SESSION_DEFAULTS, sessionManager } from '../../shared/peer-session/index.ts'
import { createNodeHashcashSolver } from '../hashcash/node-solver.ts'
import type { DirectoryClient } from '../../shared/directory/index.ts'
import type { Messaging } from '../../shared/messaging/index.ts'
import type { KeeperStore } from '../../shared/peer-keeper/index.ts'
import type { PeerKeeper } from '../../shared/peer-keeper/index.ts'
import type { PeerExchange } from '../../shared/peer-keeper/index.ts'
import type { PeerFinder, PeerFinderInit } from '../../shared/peer-keeper/index.ts'
import type { KadDHT } from '@libp2p/kad-dht'
import type { ChallengeSolver } from '../../shared/peer-session/index.ts'
import type { SessionManager, SessionManagerInit } from '../../shared/peer-session/index.ts'
import type { RelayConnector } from '../../shared/p2p-service/index.ts'
import type { Identify, IdentifyPush } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Libp2p } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface NodePeerInit {
  /** Persistent key; a fresh one is made when absent. */
  privateKey?: PrivateKey
  /** Relays to join through (TCP or WebSocket multiaddrs with /p2p/). */
  relays: Array<string | Multiaddr>
  /** Session layer overrides; defaults in SESSION_DEFAULTS.node. */
  session?: Partial<Omit<SessionManagerInit, 'verify' | 'roles'>>
  /** Solver pool; by default one worker thread per core. */
  solver?: ChallengeSolver
  /** Where PeerKeeper keeps its records between runs. @default memory only */
  keeperStore?: KeeperStore
  /** Relays to keep reservations on. @default 2 */
  maxRelays?: number
  /** Overrides for finding peers on other relays (intervals). */
  finder?: PeerFinderInit
  /** Run other people's subtasks on worker threads. @default off */
  provider?: Omit<ProviderInit, 'runtime'> & { cores?: number, runner?: TaskRunner }
  /** Storage client options (retries, timeouts, a transfer tap). */
  storage?: StorageClientInit
  /** Market options beyond the provider (a request tap). */
  market?: Pick<MarketInit, 'tap'>
}

export type NodePeerServices = {
  sessions: SessionManager
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  messaging: Messaging
  directory: DirectoryClient
  keeper: PeerKeeper
  pex: PeerExchange
  dht: KadDHT
  finder: PeerFinder
  relays: RelayConnector
  storage: StorageClient
  pubsub: GossipSub
  market: Market
}

export type NodePeer = Libp2p<NodePeerServices>

/**
 * A headless Node.js peer: joins through a relay over TCP, holds a
 * reservation there so tabs can reach it, and talks to tabs through the
 * relay. The seed of the CLI requestor/provider.
 */
export async function createNodePeer (init: NodePeerInit): Promise<NodePeer> {
  const banList = new BanList()
  const defaults = SESSION_DEFAULTS.node
  const maxRelays = init.maxRelays ?? 2
  return await createLibp2p({
    ...(init.privateKey != null ? { privateKey: init.privateKey } : {}),
    start: false,
    nodeInfo: { name: 'golem-clay-node', version: CLIENT_VERSION },
    addresses: { listen: Array.from({ length: maxRelays }, () => '/p2p-circuit') },
    // the relay grants reservations only to verified sessions: allow for the proof of work
    transports: [tcp(), webSockets(), circuitRelayTransport({ reservationCompletionTimeout: 70_000 })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater({ banList }),
    // RTT only: the session heartbeat decides when a peer is gone
    connectionMonitor: { abortConnectionOnPingFailure: false },
    services: {
      sessions: sessionManager({
        ...defaults,
        ...init.session,
        difficulty: { ...defaults.difficulty, ...init.session?.difficulty },
        roles: ['node'],
        capabilities: init.provider != null ? ['messaging', 'compute'] : ['messaging'],
        cores: availableParallelism(),
        verify: verifySolution,
        solver: init.solver ?? createNodeHashcashSolver(),
        banList,
        perProtocol: PROTOCOL_RATE_LIMITS
      }),
      identify: identify(),
      identifyPush: identifyPush(),
      // the connection monitor, kad's contact checks and our RTT probes may ping at once
      ping: ping({ maxInboundStreams: 4, maxOutboundStreams: 4 }),
      messaging: messaging(),
      directory: directoryClient({ role: 'node' }),
      keeper: peerKeeper({ store: init.keeperStore, maxPeers: 512 }),
      pex: peerExchange(),
      dht: kadDHT(dhtConfig(false)),
      // replaces libp2p's own: the relay transport's search for more relays must not flood a lone relay
      randomWalk: pacedRandomWalk(),
      finder: peerFinder(init.finder),
      relays: relayConnector({ relays: init.relays, maxRelays, acceptAddr: (ma) => TCP.exactMatch(ma) }),
      storage: storageClient(init.storage),
      pubsub: marketPubsub(),
      market: market({
        ...init.market,
        provider: init.provider == null ? undefined : { ...init.provider, runtime: 'node', runner: init.provider.runner ?? createNodeTaskRunner({ cores: init.provider.cores }) }
      })
    }
  })
}
