import { mount } from 'svelte'
import App from './App.svelte'
import { exposeDebugApi } from './node/debug-api.ts'
import { exposeMarketHooks } from './market/market-hooks.ts'
import { exposeStorageHooks } from './storage/storage-hooks.ts'
import { PageState } from './page-state.ts'
import type { PageOptions } from './page-state.ts'
import { UsageError } from '../../shared/errors.ts'
import './app.css'

export interface AppOptions {
  /** Seams for other builds of the page (the test build's); the page itself passes none. */
  node?: PageOptions
}

/**
 * Makes the page's one state, installs its window globals (the debug and
 * test API), mounts the page on `#app` and starts the node.
 */
export function startApp (options: AppOptions = {}): PageState {
  if (window.golemClay != null) throw new UsageError('startApp runs once per page')
  const page = new PageState(options.node)
  exposeDebugApi(page.node, async () => { await page.stop() })
  exposeMarketHooks(page.compute, page.node)
  exposeStorageHooks(page.storage)
  // say goodbye (Disconnect: ShuttingDown) instead of leaving peers to time out
  window.addEventListener('pagehide', () => { void page.stop() }, { once: true, signal: page.signal })
  mount(App, { target: document.getElementById('app') as HTMLElement, props: { page } })
  void page.boot()
  return page
}
