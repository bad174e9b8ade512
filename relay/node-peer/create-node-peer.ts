import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify, identifyPush } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { directoryClient } from '../../shared/directory/directory-client.ts'
import { messaging } from '../../shared/messaging/messaging.ts'
import { createConnectionGater } from '../../shared/p2p-service/connection-gater.ts'
import { relayConnector } from '../../shared/p2p-service/relay-connector.ts'
import { CLIENT_VERSION } from '../../shared/version.ts'
import type { DirectoryClient } from '../../shared/directory/directory-client.ts'
import type { Messaging } from '../../shared/messaging/messaging.ts'
import type { RelayConnector } from '../../shared/p2p-service/relay-connector.ts'
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
}

export type NodePeerServices = {
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  messaging: Messaging
  directory: DirectoryClient
  relays: RelayConnector
}

export type NodePeer = Libp2p<NodePeerServices>

/**
 * A headless Node.js peer: joins through a relay over TCP, holds a
 * reservation there so tabs can reach it, and talks to tabs through the
 * relay. The seed of the CLI requestor/provider.
 */
export async function createNodePeer (init: NodePeerInit): Promise<NodePeer> {
  return await createLibp2p({
    ...(init.privateKey != null ? { privateKey: init.privateKey } : {}),
    start: false,
    nodeInfo: { name: 'golem-clay-node', version: CLIENT_VERSION },
    addresses: { listen: ['/p2p-circuit'] },
    transports: [tcp(), webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater(),
    services: {
      identify: identify(),
      identifyPush: identifyPush(),
      ping: ping(),
      messaging: messaging(),
      directory: directoryClient({ role: 'node' }),
      relays: relayConnector({ relays: init.relays })
    }
  })
}
