// A simulated tab: the node a page builds (peerPreset, role "tab") with what
// a Node process can run of its platform: WebSockets to the relay, from a
// loopback address of its own; no WebRTC. The directory client and peer
// exchange are stand-ins that load the relay alike (see sink-services.ts),
// and pub/sub's heartbeat is slower (see below).
import { WebSockets } from '@multiformats/multiaddr-matcher'
import { createLibp2p } from 'libp2p'
import { marketPubsub } from '../../shared/market/index.ts'
import { peerPreset } from '../../shared/node-preset/index.ts'
import { boundWebSockets } from './bound-websockets.ts'
import { directorySink, pexSink } from './sink-services.ts'
import type { DirectorySink, PexSink } from './sink-services.ts'
import type { PeerServices, RoleServices, SessionOverrides } from '../../shared/node-preset/index.ts'
import type { ChallengeSolver } from '../../shared/peer-session/index.ts'
import type { Libp2p } from 'libp2p'

export type SimTabServices = Omit<PeerServices, 'directory' | 'pex'> & { directory: DirectorySink, pex: PexSink }

export type SimTab = Libp2p<SimTabServices>

export interface SimTabInit {
  /** The relay's WebSocket multiaddr, with /p2p/. */
  relay: string
  /** The loopback address this tab dials from. */
  localAddress: string
  /** One pool per process: at the bench's difficulty a solve is a few hundred hashes. */
  solver: ChallengeSolver
  session?: SessionOverrides
  /**
   * Reservations the tab wants (a page: 2). With one relay and 2 wanted, the
   * circuit relay transport's discovery never ends and dials every peer the
   * tab hears of (directory, PEX) through the relay, looking for a second
   * relay; the bench asks for the one there is. @default 1
   */
  maxRelays?: number
}

export async function createSimTab (init: SimTabInit): Promise<SimTab> {
  // replaces the preset's `directory` and `pex` (services given here win over the preset's); and
  // pub/sub's own bookkeeping every 10 s instead of every second: with no tasks published the relay
  // sees the same (a tab's GRAFT when it joins, again after each PRUNE's backoff), and it was a
  // sixth of what a simulated tab cost its process
  const sinks = { directory: directorySink(), pex: pexSink(), pubsub: marketPubsub({ heartbeatInterval: 10_000 }) } as unknown as RoleServices<PeerServices, PeerServices>
  const node = await createLibp2p(peerPreset<PeerServices>({
    role: 'tab',
    transports: [boundWebSockets(init.localAddress)],
    // as a page does (create-browser-node.ts)
    relays: [init.relay],
    maxRelays: init.maxRelays ?? 1,
    acceptAddr: (ma) => WebSockets.matches(ma),
    capabilities: ['messaging'],
    cores: 2,
    solver: init.solver,
    session: init.session
  }, sinks))
  return node as unknown as SimTab
}

/** Whether `tab` holds a reservation on the relay `relayId` (its circuit address is up). */
export function isReserved (tab: SimTab, relayId: string): boolean {
  return tab.getMultiaddrs().some(ma => ma.toString().includes(`${relayId}/p2p-circuit`))
}
