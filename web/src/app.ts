import { mount } from 'svelte'
import App from './App.svelte'
import { exposeDebugApi } from './node/debug-api.ts'
import { NodeState } from './node/node-state.svelte.ts'
import type { NodeOptions } from './node/node-state.svelte.ts'
import './app.css'

export interface AppOptions {
  /** Seams for other builds of the page (the test build's); the page itself passes none. */
  node?: NodeOptions
}

/** Mounts the page on `#app` and starts its node. */
export function startApp (options: AppOptions = {}): NodeState {
  const state = new NodeState(options.node)
  exposeDebugApi(state)
  mount(App, { target: document.getElementById('app') as HTMLElement, props: { app: state } })
  void state.boot()
  return state
}
