/**
 * worker_threads entry of the Node task runner; spawned by
 * node-task-runner.ts. Task modules get no imports but their memory and
 * `env.progress`, so they cannot reach anything; dropping the network
 * globals and the process handle here is defence in depth, done after the
 * sandbox code is loaded (it needs no more than WebAssembly and crypto).
 */
import { parentPort } from 'node:worker_threads'
import { handleSandboxMessages } from '../../shared/compute/index.ts'

const port = parentPort
if (port == null) throw new Error('sandbox-worker.ts must run in a worker thread')

const REMOVED = ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest', 'BroadcastChannel', 'Request', 'Response', 'Headers', 'require', 'process', 'Buffer']

function lockdown (): void {
  for (const name of REMOVED) {
    try {
      Object.defineProperty(globalThis, name, { value: undefined, writable: false, configurable: false })
    } catch {}
  }
}

function probe (): Record<string, string> {
  const g = globalThis as Record<string, unknown>
  const report: Record<string, string> = {}
  for (const name of REMOVED) report[name] = typeof g[name]
  return report
}

const onMessage = handleSandboxMessages({ post: (message, transfer) => { port.postMessage(message, transfer ?? []) }, probe })
lockdown()
port.on('message', onMessage)
