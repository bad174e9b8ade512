import { Lifetime } from './lifetime.ts'
import { NodeState } from './node/node-state.svelte.ts'
import { ComputeState } from './market/compute-state.svelte.ts'
import { loadComputeSettings } from './market/compute-settings.ts'
import { StorageState } from './storage/storage-state.svelte.ts'
import { WalletState } from './wallet/wallet-state.svelte.ts'
import { createBrowserTaskRunner } from './compute/browser-task-runner.ts'
import type { TaskRunner } from '../../shared/compute/index.ts'
import type { StorageClientInit } from '../../shared/storage/index.ts'

/** What other builds of the page may change (the test build's flaky network, a dishonest provider). */
export interface PageOptions {
  /** Makes the task runner for `cores` subtasks at once. @default sandboxed Web Workers */
  runner?: (cores?: number) => TaskRunner
  /** Storage client options (a transfer tap). */
  storage?: StorageClientInit
}

/**
 * The page's one state, made once by startApp: this tab's node, its side of
 * the compute market, its storage and its wallet. One Lifetime holds every timer and
 * listener of them all; `stop()` ends it and the node, once.
 */
export class PageState {
  readonly node: NodeState
  readonly compute: ComputeState
  readonly storage: StorageState
  readonly wallet: WalletState
  private readonly life = new Lifetime()
  private stopping?: Promise<void>

  constructor (options: PageOptions = {}) {
    const settings = loadComputeSettings()
    // the page makes the runner and hands it to the node, so it steers it without reaching into the market
    const runner = (options.runner ?? ((cores) => createBrowserTaskRunner({ cores })))(settings.cores)
    this.node = new NodeState({ compute: { ...settings, runner }, storage: options.storage, life: this.life })
    this.compute = new ComputeState({ runner, enabled: settings.enabled, life: this.life })
    this.storage = new StorageState(this.node)
    this.wallet = new WalletState(this.node, this.life)
  }

  /** Aborted when the page stops: for listeners that must go with it (the page's own `pagehide`). */
  get signal (): AbortSignal { return this.life.signal }

  async boot (): Promise<void> {
    // the relay's payments chain, if it runs one: asked beside the node's start, not after it
    void this.wallet.start()
    const node = await this.node.boot()
    if (node == null) return
    // its task history is kept per identity: a reload keeps the peer ID, so it keeps the tasks
    this.compute.attach(node.services.market, node.peerId.toString())
    // the cheques this tab holds as a provider (kept across reloads), for the wallet card
    this.wallet.earnings.attach(node.services.market.earnings)
    // a node stopped by anything else still takes the page's timers and listeners with it
    node.addEventListener('stop', () => { void this.stop() }, { once: true, signal: this.life.signal })
  }

  /** Releases every timer and listener, then says goodbye to peers and stops the node. Idempotent. */
  async stop (): Promise<void> {
    this.stopping ??= this.end()
    await this.stopping
  }

  private async end (): Promise<void> {
    this.life.end()
    await this.node.leave()
  }
}
