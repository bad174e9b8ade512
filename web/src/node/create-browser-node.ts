// first: patches RTCPeerConnection before @libp2p/webrtc reads it
import './webrtc-init-channel.ts'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify, identifyPush } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { kadDHT } from '@libp2p/kad-dht'
import { WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher'
import { createLibp2p } from 'libp2p'
import { dhtConfig, peerExchange, peerFinder, peerKeeper } from '../../../shared/peer-keeper/index.ts'
import { directoryClient } from '../../../shared/directory/index.ts'
import { messaging } from '../../../shared/messaging/index.ts'
import { createConnectionGater, directDialer, pacedRandomWalk, relayConnector } from '../../../shared/p2p-service/index.ts'
import { storageClient } from '../../../shared/storage/index.ts'
import { market, marketPubsub } from '../../../shared/market/index.ts'
import { createBrowserTaskRunner } from '../compute/browser-task-runner.ts'
import type { Market } from '../../../shared/market/index.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { StorageClient, StorageClientInit } from '../../../shared/storage/index.ts'
import type { TaskRunner } from '../../../shared/compute/index.ts'
import { CLIENT_VERSION } from '../../../shared/version.ts'
import { verifySolution } from '../../../shared/hashcash/index.ts'
import { BanList, PROTOCOL_RATE_LIMITS, SESSION_DEFAULTS, sessionManager } from '../../../shared/peer-session/index.ts'
import type { DirectoryClient } from '../../../shared/directory/index.ts'
import type { Messaging } from '../../../shared/messaging/index.ts'
import type { KeeperStore } from '../../../shared/peer-keeper/index.ts'
import type { PeerKeeper } from '../../../shared/peer-keeper/index.ts'
import type { PeerExchange } from '../../../shared/peer-keeper/index.ts'
import type { PeerFinder } from '../../../shared/peer-keeper/index.ts'
import type { KadDHT } from '@libp2p/kad-dht'
import type { ChallengeSolver } from '../../../shared/peer-session/index.ts'
import type { SessionManager, SessionManagerInit } from '../../../shared/peer-session/index.ts'
import type { DirectDialer } from '../../../shared/p2p-service/index.ts'
import type { RelayConnector } from '../../../shared/p2p-service/index.ts'
import type { Identify, IdentifyPush } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Libp2p } from 'libp2p'

export interface BrowserNodeInit {
  privateKey: PrivateKey
  /** Lending this tab's CPU: subtasks at once, whether to offer at all, and the runner. @default cores - 1, on, sandboxed Web Workers */
  compute?: { cores?: number, enabled?: boolean, runner?: TaskRunner }
  /** Storage client options (retries, timeouts, a transfer tap). */
  storage?: StorageClientInit
  relays: string[]
  iceServers?: RTCIceServer[]
  /** Hashcash solver pool (Web Workers) that pays for the sessions this tab opens. */
  solver: ChallengeSolver
  /** Where PeerKeeper keeps its records between visits. @default memory only */
  keeperStore?: KeeperStore
  /** Relays to keep reservations on: two, so one going down never cuts the tab off. @default 2 */
  maxRelays?: number
  /** Session layer overrides; defaults in SESSION_DEFAULTS.tab. */
  session?: Partial<Omit<SessionManagerInit, 'verify' | 'roles' | 'solver'>>
}

export type BrowserServices = {
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
  dialer: DirectDialer
  storage: StorageClient
  pubsub: GossipSub
  market: Market
}

export type BrowserNode = Libp2p<BrowserServices>

/**
 * The tab's libp2p node: WebSockets to relays, a circuit relay reservation
 * so others can reach it, and WebRTC straight to other tabs.
 */
export async function createBrowserNode (init: BrowserNodeInit): Promise<BrowserNode> {
  const banList = new BanList()
  const defaults = SESSION_DEFAULTS.tab
  const maxRelays = init.maxRelays ?? 2
  const secure = globalThis.location?.protocol === 'https:'
  return await createLibp2p({
    privateKey: init.privateKey,
    start: false,
    nodeInfo: { name: 'golem-clay-tab', version: CLIENT_VERSION },
    addresses: {
      // a reservation on each chosen relay, and WebRTC on top of them
      listen: [...Array.from({ length: maxRelays }, () => '/p2p-circuit'), '/webrtc']
    },
    transports: [
      webSockets(),
      webRTC({ rtcConfiguration: { iceServers: init.iceServers ?? [] } }),
      // the relay grants reservations only to verified sessions: allow for the proof of work
      circuitRelayTransport({ reservationCompletionTimeout: 70_000 })
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater({ banList }),
    // RTT only: the session heartbeat decides when a peer is gone
    connectionMonitor: { pingInterval: 5_000, abortConnectionOnPingFailure: false },
    services: {
      sessions: sessionManager({
        ...defaults,
        ...init.session,
        difficulty: { ...defaults.difficulty, ...init.session?.difficulty },
        roles: ['tab'],
        capabilities: ['webrtc', 'messaging', 'compute'],
        cores: navigator.hardwareConcurrency ?? 0,
        verify: verifySolution,
        solver: init.solver,
        banList,
        perProtocol: PROTOCOL_RATE_LIMITS
      }),
      identify: identify(),
      identifyPush: identifyPush(),
      // the connection monitor, kad's contact checks and our RTT probes may ping at once
      ping: ping({ maxInboundStreams: 4, maxOutboundStreams: 4 }),
      messaging: messaging(),
      directory: directoryClient({ role: 'tab' }),
      keeper: peerKeeper({ store: init.keeperStore, maxPeers: 256 }),
      pex: peerExchange(),
      dht: kadDHT(dhtConfig(false)),
      // replaces libp2p's own: the relay transport's search for more relays must not flood a lone relay
      randomWalk: pacedRandomWalk(),
      finder: peerFinder(),
      relays: relayConnector({
        relays: init.relays,
        maxRelays,
        // a page can only open WebSockets (secure ones from an https page)
        acceptAddr: (ma) => secure ? WebSocketsSecure.matches(ma) : WebSockets.matches(ma) || WebSocketsSecure.matches(ma)
      }),
      dialer: directDialer(),
      storage: storageClient(init.storage),
      pubsub: marketPubsub(),
      // other people's subtasks run in sandboxed Workers: no network, DOM, storage or keys
      market: market({ provider: { runtime: 'browser', enabled: init.compute?.enabled ?? true, runner: init.compute?.runner ?? createBrowserTaskRunner({ cores: init.compute?.cores }) } })
    }
  })
}
