import type { ConnectionInfo } from '../../../shared/connection/index.ts'
import type { DialOutcome } from '../../../shared/p2p-service/index.ts'
import type { RelayStatus } from '../../../shared/p2p-service/index.ts'
import type { NetworkGraph } from './network-graph.ts'
import type { ChatMessage, NodeState, Notice, PeerView, SessionView, WorkState } from './node-state.svelte.ts'

/**
 * A read-mostly view of the node for tests and curious users
 * (`window.golemClay` in the console). It hands out plain data only,
 * never the node object or its keys.
 */
export interface DebugApi {
  phase: () => string
  peerId: () => string | undefined
  /** This tab's payment account (an Ethereum address, bound to the peer ID); never its key. */
  paymentAddress: () => string | undefined
  connections: () => ConnectionInfo[]
  relays: () => RelayStatus[]
  /** Attempts to read the serving relay's /status before the node starts. */
  locate: () => { attempts: number, error?: string }
  /** The last finished dial rounds to peers (MAX_DIALS), with their attempt counts. */
  dials: () => DialOutcome[]
  peers: () => PeerView[]
  messages: () => ChatMessage[]
  multiaddrs: () => string[]
  send: (peer: string, text: string) => Promise<ChatMessage>
  /** The proof of work of the last session this tab opened. */
  work: () => WorkState | undefined
  notices: () => Notice[]
  /** Verified sessions: peer, transport, who paid, difficulty, heartbeat RTT. */
  sessions: () => SessionView[]
  /** The network as drawn on the page: nodes, links, DHT routing table, size estimate. */
  network: () => NetworkGraph | undefined
  /** Leaves the network as a closing tab does, and releases the page's timers and listeners. */
  stop: () => Promise<void>
}

declare global {
  interface Window {
    golemClay?: DebugApi
  }
}

export function exposeDebugApi (state: NodeState, stop: () => Promise<void>): void {
  const api: DebugApi = {
    phase: () => state.phase,
    peerId: () => state.peerId,
    paymentAddress: () => state.paymentAddress,
    connections: () => state.connections(),
    relays: () => state.relays.map(r => ({ ...r })),
    locate: () => ({ attempts: state.locate.attempts, error: state.locate.error }),
    dials: () => state.dials.map(d => ({ ...d })),
    peers: () => state.peers.map(p => ({ ...p })),
    messages: () => state.messages.map(m => ({ ...m })),
    multiaddrs: () => state.multiaddrs(),
    send: async (peer, text) => await state.send(peer, text),
    work: () => state.work == null ? undefined : { ...state.work },
    notices: () => state.notices.map(n => ({ ...n })),
    sessions: () => state.sessions(),
    network: () => state.network == null ? undefined : JSON.parse(JSON.stringify(state.network)) as NetworkGraph,
    stop: async () => { await stop() }
  }
  Object.defineProperty(window, 'golemClay', { value: Object.freeze(api), configurable: false, writable: false })
}
