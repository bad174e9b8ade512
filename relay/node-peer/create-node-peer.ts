import { availableParallelism } from 'node:os'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { TCP } from '@multiformats/multiaddr-matcher'
import { createLibp2p } from 'libp2p'
import { peerPreset } from '../../shared/node-preset/index.ts'
import { createNodeTaskRunner } from '../compute/node-task-runner.ts'
import { createNodeHashcashSolver } from '../hashcash/node-solver.ts'
import type { TaskRunner } from '../../shared/compute/index.ts'
import type { MarketInit, ProviderHostInit, ProviderInit } from '../../shared/market/index.ts'
import type { Hex, ProviderPaymentsInit } from '../../shared/payments/index.ts'
import type { PeerServices, SessionOverrides } from '../../shared/node-preset/index.ts'
import type { KeeperStore, PeerFinderInit } from '../../shared/peer-keeper/index.ts'
import type { ChallengeSolver } from '../../shared/peer-session/index.ts'
import type { StorageClientInit } from '../../shared/storage/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'

export interface NodePeerInit {
  /** Persistent key; a fresh one is made when absent. */
  privateKey?: PrivateKey
  /** Payment key (secp256k1, 0x hex), e.g. from a key file (relay/identity); a fresh one is made when absent. */
  paymentKey?: Hex
  /** Relays to join through (TCP or WebSocket multiaddrs with /p2p/). */
  relays: Array<string | Multiaddr>
  /** Session layer overrides; defaults in SESSION_DEFAULTS.node. */
  session?: SessionOverrides
  /** Solver pool; by default one worker thread per core. */
  solver?: ChallengeSolver
  /** Where PeerKeeper keeps its records between runs. @default memory only */
  keeperStore?: KeeperStore
  /** Relays to keep reservations on. @default 2 */
  maxRelays?: number
  /** Overrides for finding peers on other relays (intervals). */
  finder?: PeerFinderInit
  /** Run other people's subtasks on worker threads. @default off */
  provider?: Omit<ProviderInit, 'runtime'> & Pick<ProviderHostInit, 'pullInterval'> & { cores?: number, runner?: TaskRunner, payments?: ProviderPaymentsInit }
  /** Storage client options (retries, timeouts, a transfer tap). */
  storage?: StorageClientInit
  /** Market options beyond the provider (a request tap, where the payment ledgers are kept). */
  market?: Pick<MarketInit, 'tap' | 'ledgers' | 'spending' | 'announceInterval'>
}

export type NodePeerServices = PeerServices

export type NodePeer = Libp2p<NodePeerServices>

/**
 * A headless Node.js peer: joins through a relay over TCP, holds a
 * reservation there so tabs can reach it, and talks to tabs through the
 * relay. The seed of the CLI requestor/provider.
 */
export async function createNodePeer (init: NodePeerInit): Promise<NodePeer> {
  const provider = init.provider
  return await createLibp2p(peerPreset<NodePeerServices>({
    role: 'node',
    privateKey: init.privateKey,
    paymentKey: init.paymentKey,
    transports: [tcp(), webSockets()],
    relays: init.relays,
    maxRelays: init.maxRelays,
    acceptAddr: (ma) => TCP.exactMatch(ma),
    capabilities: provider != null ? ['messaging', 'compute'] : ['messaging'],
    cores: availableParallelism(),
    solver: init.solver ?? createNodeHashcashSolver(),
    session: init.session,
    keeperStore: init.keeperStore,
    finder: init.finder,
    storage: init.storage,
    market: {
      ...init.market,
      provider: provider == null ? undefined : { ...provider, runtime: 'node', runner: provider.runner ?? createNodeTaskRunner({ cores: provider.cores }) }
    }
  }, {}))
}
