// first: patches RTCPeerConnection before @libp2p/webrtc reads it
import './webrtc-init-channel.ts'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { identify, identifyPush } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { directoryClient } from '../../../shared/directory/directory-client.ts'
import { messaging } from '../../../shared/messaging/messaging.ts'
import { createConnectionGater } from '../../../shared/p2p-service/connection-gater.ts'
import { directDialer } from '../../../shared/p2p-service/direct-dialer.ts'
import { relayConnector } from '../../../shared/p2p-service/relay-connector.ts'
import { CLIENT_VERSION } from '../../../shared/version.ts'
import type { DirectoryClient } from '../../../shared/directory/directory-client.ts'
import type { Messaging } from '../../../shared/messaging/messaging.ts'
import type { DirectDialer } from '../../../shared/p2p-service/direct-dialer.ts'
import type { RelayConnector } from '../../../shared/p2p-service/relay-connector.ts'
import type { Identify, IdentifyPush } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Libp2p } from 'libp2p'

export interface BrowserNodeInit {
  privateKey: PrivateKey
  relays: string[]
  iceServers?: RTCIceServer[]
}

export type BrowserServices = {
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  messaging: Messaging
  directory: DirectoryClient
  relays: RelayConnector
  dialer: DirectDialer
}

export type BrowserNode = Libp2p<BrowserServices>

/**
 * The tab's libp2p node: WebSockets to relays, a circuit relay reservation
 * so others can reach it, and WebRTC straight to other tabs.
 */
export async function createBrowserNode (init: BrowserNodeInit): Promise<BrowserNode> {
  return await createLibp2p({
    privateKey: init.privateKey,
    start: false,
    nodeInfo: { name: 'golem-clay-tab', version: CLIENT_VERSION },
    addresses: {
      // one reservation on whichever relay we reach, and WebRTC on top of it
      listen: ['/p2p-circuit', '/webrtc']
    },
    transports: [
      webSockets(),
      webRTC({ rtcConfiguration: { iceServers: init.iceServers ?? [] } }),
      circuitRelayTransport()
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater(),
    connectionMonitor: { pingInterval: 5_000 },
    services: {
      identify: identify(),
      identifyPush: identifyPush(),
      ping: ping(),
      messaging: messaging(),
      directory: directoryClient({ role: 'tab' }),
      relays: relayConnector({ relays: init.relays }),
      dialer: directDialer()
    }
  })
}
