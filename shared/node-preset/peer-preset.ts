import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { directoryClient } from '../directory/index.ts'
import { market } from '../market/index.ts'
import { messaging } from '../messaging/index.ts'
import { chainClient } from '../payments/index.ts'
import { pacedRandomWalk, relayConnector } from '../p2p-service/index.ts'
import { peerFinder } from '../peer-keeper/index.ts'
import { storageClient } from '../storage/index.ts'
import { nodePreset } from './node-preset.ts'
import { DEFAULT_MAX_RELAYS, RESERVATION_TIMEOUT } from './role-presets.ts'
import type { BaseServices, NodePresetInit, RoleServices } from './node-preset.ts'
import type { DirectoryClient } from '../directory/index.ts'
import type { Market, MarketInit } from '../market/index.ts'
import type { Messaging } from '../messaging/index.ts'
import type { ChainClient } from '../payments/index.ts'
import type { RelayConnector } from '../p2p-service/index.ts'
import type { PeerFinder, PeerFinderInit } from '../peer-keeper/index.ts'
import type { StorageClient, StorageClientInit } from '../storage/index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2pOptions } from 'libp2p'

export interface PeerPresetInit extends Omit<NodePresetInit, 'role' | 'addresses'> {
  role: 'tab' | 'node'
  /** Relays to join through (multiaddrs with /p2p/). */
  relays: Array<string | Multiaddr>
  /** Relays to keep reservations on. @default DEFAULT_MAX_RELAYS (2) */
  maxRelays?: number
  /** The relay addresses this platform can dial (a page: WebSockets only). */
  acceptAddr: (ma: Multiaddr) => boolean
  /** Listen addresses beside one reservation per relay (a tab's `/webrtc`). */
  listen?: string[]
  /** Finding peers on other relays (intervals). */
  finder?: PeerFinderInit
  /** Storage client options (retries, timeouts, a transfer tap). */
  storage?: StorageClientInit
  /** The market: requestor side always, provider side when it lends cores. */
  market?: MarketInit
}

/** What a tab and a Node peer run: the base, plus messaging, the directory, relays, storage and the market. */
export type PeerServices = BaseServices & {
  messaging: Messaging
  directory: DirectoryClient
  finder: PeerFinder
  relays: RelayConnector
  storage: StorageClient
  chain: ChainClient
  market: Market
}

/**
 * The libp2p options of a node that joins through relays (a tab, a Node
 * peer): a reservation on each of `maxRelays` relays through the circuit
 * relay transport, and the client side of every Golem Clay part;
 * `services` adds the platform's own (a tab's WebRTC dialer).
 */
export function peerPreset<T extends PeerServices> (init: PeerPresetInit, services: RoleServices<T, PeerServices>): Libp2pOptions<T> {
  const { relays, acceptAddr, listen, finder, storage, market: marketInit, ...rest } = init
  const maxRelays = init.maxRelays ?? DEFAULT_MAX_RELAYS
  const peer = {
    messaging: messaging(),
    directory: directoryClient({ role: init.role }),
    // replaces libp2p's own: the relay transport's search for more relays must not flood a lone relay
    randomWalk: pacedRandomWalk(),
    finder: peerFinder(finder),
    relays: relayConnector({ relays, maxRelays, acceptAddr }),
    storage: storageClient(storage),
    // before the market, which takes it from the components as it is made
    chain: chainClient(),
    market: market(marketInit)
  }
  return nodePreset<T>({
    ...rest,
    addresses: { listen: [...Array.from({ length: maxRelays }, () => '/p2p-circuit'), ...(listen ?? [])] },
    transports: [...init.transports, circuitRelayTransport({ reservationCompletionTimeout: RESERVATION_TIMEOUT })]
  }, { ...peer, ...services } as unknown as RoleServices<T>)
}
