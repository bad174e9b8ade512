/**
 * The sandbox Web Worker that runs task modules; spawned by
 * browser-task-runner.ts. It only ever receives module bytes and inputs
 * (never the node's keys), and it strips its own global scope before it
 * takes the first job.
 */
import { handleSandboxMessages } from '../../../shared/compute/index.ts'
import { lockdown, scopeReport } from './lockdown.ts'

// the project compiles against the DOM lib; this is the slice of a worker's global scope in use
interface WorkerScope {
  postMessage: (message: unknown, transfer: Transferable[]) => void
  onmessage: ((event: MessageEvent) => void) | null
}

const scope = self as unknown as WorkerScope
lockdown()
const onMessage = handleSandboxMessages({
  post: (message, transfer) => { scope.postMessage(message, transfer ?? []) },
  probe: () => scopeReport()
})
scope.onmessage = (event) => { onMessage(event.data) }
