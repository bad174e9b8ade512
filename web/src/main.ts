import { mount } from 'svelte'
import App from './App.svelte'
import { NodeState } from './node/node-state.svelte.ts'
import { exposeDebugApi } from './node/debug-api.ts'
import './app.css'

const state = new NodeState()
exposeDebugApi(state)
mount(App, { target: document.getElementById('app') as HTMLElement, props: { app: state } })
void state.boot()
