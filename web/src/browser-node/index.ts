/**
 * The browser node as a library: one entry point that joins a tab to the
 * Golem Clay network and hands out the node, its state and its events. The
 * page (NodeState) and an embedded widget both build on it; neither reaches
 * into the other's components.
 *
 * @example
 * const peer = createBrowserPeer({ identity: 'memory' })
 * peer.addEventListener('phase', (evt) => { console.log(evt.detail.phase) })
 * const node = await peer.start()
 * // …
 * await peer.stop()
 */
import { createBrowserHashcashSolver } from '../hashcash/browser-solver.ts'
import { createBrowserNode } from '../node/create-browser-node.ts'
import { idbKeeperStore } from '../node/idb-keeper-store.ts'
import { openTabLedgers } from '../node/idb-ledger-stores.ts'
import { claimIdentity } from '../node/identity-store.ts'
import { BrowserPeer } from './join-network.ts'
import { locateServingRelay } from './locate-relay.ts'
import { storageUnavailable } from './storage-fallback.ts'
import type { BrowserPeerInit } from './join-network.ts'

export type { BrowserPeer }
export type { StopOptions, BrowserPeerEvents, BrowserPeerInit, BrowserPeerNotice, BrowserPeerPhase, BrowserPeerPhaseDetail, LedgersState, NetworkInit, PeerIdentity } from './join-network.ts'
export { locateServingRelay } from './locate-relay.ts'
export { LOCATE_INITIAL_DELAY_MS, LOCATE_MAX_DELAY_MS, LOCATE_TIMEOUT_MS, STATUS_PATH } from './constants.defaults.ts'
export { createBrowserNode } from '../node/create-browser-node.ts'
export type { BrowserNode, BrowserNodeInit, BrowserServices } from '../node/create-browser-node.ts'
export { createBrowserTaskRunner } from '../compute/browser-task-runner.ts'
export type { TaskRunner } from '../../../shared/compute/index.ts'
export type { StorageClientInit } from '../../../shared/storage/index.ts'
export { fetchServingRelay, readPageConfig } from '../node/page-config.ts'
export type { PageConfig } from '../node/page-config.ts'

/** A peer for this tab, on the browser's own storage, workers and transports; `start()` joins. */
export function createBrowserPeer (init: BrowserPeerInit = {}): BrowserPeer {
  return new BrowserPeer(init, {
    claimIdentity: async () => await claimIdentity(),
    storageUnavailable: async () => await storageUnavailable(),
    openLedgers: openTabLedgers,
    keeperStore: idbKeeperStore,
    createSolver: () => createBrowserHashcashSolver(),
    createNode: createBrowserNode,
    locate: locateServingRelay
  })
}
