import type { PeerExchangeInit } from '../peer-keeper/index.ts'
import type { NodeRole } from '../peer-session/index.ts'

/** What sets one role's node apart in the parts every node runs. */
export interface RolePreset {
  /** The name libp2p announces (identify's agent version). */
  name: string
  /** Most peers PeerKeeper keeps records of. */
  maxPeers: number
  /** Kademlia in server mode (relays) or client mode (everyone else). */
  dhtServer: boolean
  pex?: PeerExchangeInit
}

export const ROLE_PRESETS: Readonly<Record<NodeRole, RolePreset>> = {
  tab: { name: 'golem-clay-tab', maxPeers: 256, dhtServer: false },
  node: { name: 'golem-clay-node', maxPeers: 512, dhtServer: false },
  relay: {
    name: 'golem-clay-relay',
    maxPeers: 2048,
    dhtServer: true,
    // relays tell each other about the peers they serve, so tabs find tabs anywhere
    pex: { gossipInterval: 10_000 }
  }
}

/** Relays a tab or Node peer keeps reservations on: two, so one going down never cuts it off. */
export const DEFAULT_MAX_RELAYS = 2

/** How long a reservation may take: the relay grants one only to a verified session, so allow for the proof of work. */
export const RESERVATION_TIMEOUT = 70_000
