// first: patches RTCPeerConnection before @libp2p/webrtc reads it
import './webrtc-init-channel.ts'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher'
import { createLibp2p } from 'libp2p'
import { peerPreset } from '../../../shared/node-preset/index.ts'
import { directDialer } from '../../../shared/p2p-service/index.ts'
import { createBrowserTaskRunner } from '../compute/browser-task-runner.ts'
import type { TaskRunner } from '../../../shared/compute/index.ts'
import type { SubtaskGate } from '../../../shared/market/index.ts'
import type { PeerServices, SessionOverrides } from '../../../shared/node-preset/index.ts'
import type { DirectDialer } from '../../../shared/p2p-service/index.ts'
import type { Address, Hex, LedgerStores } from '../../../shared/payments/index.ts'
import type { KeeperStore } from '../../../shared/peer-keeper/index.ts'
import type { ChallengeSolver } from '../../../shared/peer-session/index.ts'
import type { StorageClientInit } from '../../../shared/storage/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'

export interface BrowserNodeInit {
  privateKey: PrivateKey
  /** The tab's payment key (secp256k1, 0x hex), kept beside its identity (payment-key-store.ts). @default a fresh one: an account for this page only */
  paymentKey?: Hex
  /** Lending this tab's CPU: subtasks at once, whether to offer at all, the runner, a gate that holds subtasks back (the widget's duty cycle), and whom its work is paid to (the widget's site owner). @default cores - 1, on, sandboxed Web Workers, none, this tab's own account */
  compute?: { cores?: number, enabled?: boolean, runner?: TaskRunner, gate?: SubtaskGate, payee?: Address }
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
  session?: Omit<SessionOverrides, 'solver'>
  /** Where the cheque book and cheque wallet are kept (idb-ledger-stores.ts). @default memory: this page only */
  ledgers?: LedgerStores
}

export type BrowserServices = PeerServices & {
  dialer: DirectDialer
}

export type BrowserNode = Libp2p<BrowserServices>

/**
 * The tab's libp2p node: WebSockets to relays, a circuit relay reservation
 * so others can reach it, and WebRTC straight to other tabs.
 */
export async function createBrowserNode (init: BrowserNodeInit): Promise<BrowserNode> {
  const secure = globalThis.location?.protocol === 'https:'
  return await createLibp2p(peerPreset<BrowserServices>({
    role: 'tab',
    privateKey: init.privateKey,
    paymentKey: init.paymentKey,
    // WebRTC on top of the reservations
    listen: ['/webrtc'],
    transports: [webSockets(), webRTC({ rtcConfiguration: { iceServers: init.iceServers ?? [] } })],
    relays: init.relays,
    maxRelays: init.maxRelays,
    // a page can only open WebSockets (secure ones from an https page)
    acceptAddr: (ma) => secure ? WebSocketsSecure.matches(ma) : WebSockets.matches(ma) || WebSocketsSecure.matches(ma),
    capabilities: ['webrtc', 'messaging', 'compute'],
    cores: navigator.hardwareConcurrency ?? 0,
    solver: init.solver,
    session: init.session,
    keeperStore: init.keeperStore,
    storage: init.storage,
    // other people's subtasks run in sandboxed Workers: no network, DOM, storage or keys
    market: { ledgers: init.ledgers, provider: { runtime: 'browser', enabled: init.compute?.enabled ?? true, runner: init.compute?.runner ?? createBrowserTaskRunner({ cores: init.compute?.cores }), ...(init.compute?.gate != null ? { gate: init.compute.gate } : {}), ...(init.compute?.payee != null ? { payee: init.compute.payee } : {}) } }
  }, {
    dialer: directDialer()
  }))
}
