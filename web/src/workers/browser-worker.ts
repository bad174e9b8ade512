/** A Web Worker as the shared pools (task sandboxes, Hashcash) drive it. */
export interface PooledWorker<M> {
  postMessage: (message: M, transfer?: Transferable[]) => void
  onmessage: ((event: { data: unknown }) => void) | null
  onerror: ((event: { message?: string, error?: unknown }) => void) | null
  terminate: () => void
}

/**
 * Wraps a module Web Worker for a pool; `what` names it in errors. A script
 * that fails to load (or is blocked) or throws at the top level, and a
 * message that can't be decoded, are the worker's errors.
 */
export function adaptBrowserWorker<M> (worker: Worker, what: string): PooledWorker<M> {
  const like: PooledWorker<M> = {
    postMessage: (message, transfer) => { worker.postMessage(message, transfer ?? []) },
    onmessage: null,
    onerror: null,
    terminate: () => { worker.terminate() }
  }
  worker.onmessage = (event) => { like.onmessage?.({ data: event.data }) }
  worker.onerror = (event) => {
    event.preventDefault()
    like.onerror?.({ message: event.message !== '' ? event.message : `${what} script failed to load`, error: event.error })
  }
  worker.onmessageerror = () => { like.onerror?.({ message: `undecodable message from the ${what}` }) }
  return like
}
