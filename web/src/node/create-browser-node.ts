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
import { verifySolution } from '../../../shared/hashcash/hashcash.ts'
import { BanList } from '../../../shared/peer-session/ban-list.ts'
import { PROTOCOL_RATE_LIMITS, SESSION_DEFAULTS } from '../../../shared/peer-session/session-defaults.ts'
import { sessionManager } from '../../../shared/peer-session/session-manager.ts'
import type { DirectoryClient } from '../../../shared/directory/directory-client.ts'
import type { Messaging } from '../../../shared/messaging/messaging.ts'
import type { ChallengeSolver } from '../../../shared/peer-session/handshake.ts'
import type { SessionManager, SessionManagerInit } from '../../../shared/peer-session/session-manager.ts'
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
  /** Hashcash solver pool (Web Workers) that pays for the sessions this tab opens. */
  solver: ChallengeSolver
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
  relays: RelayConnector
  dialer: DirectDialer
}

export type BrowserNode = Libp2p<BrowserServices>

/**
 * The tab's libp2p node: WebSockets to relays, a circuit relay reservation
 * so others can reach it, and WebRTC straight to other tabs.
 */
export async function createBrowserNode (init: BrowserNodeInit): Promise<BrowserNode> {
  const banList = new BanList()
  const defaults = SESSION_DEFAULTS.tab
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
        capabilities: ['webrtc', 'messaging'],
        cores: navigator.hardwareConcurrency ?? 0,
        verify: verifySolution,
        solver: init.solver,
        banList,
        perProtocol: PROTOCOL_RATE_LIMITS
      }),
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
