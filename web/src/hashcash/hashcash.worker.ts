/** Web Worker entry of the browser hashcash pool; spawned by browser-solver.ts. */
import { handleWorkerMessages } from '../../../shared/hashcash/index.ts'

// the project compiles against the DOM lib; this is the slice of a worker's global scope in use
interface WorkerScope {
  postMessage: (message: unknown) => void
  onmessage: ((event: MessageEvent) => void) | null
}

const scope = self as unknown as WorkerScope
const onMessage = handleWorkerMessages({ post: (message) => { scope.postMessage(message) } })
scope.onmessage = (event) => { onMessage(event.data) }
