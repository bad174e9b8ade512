import { Worker } from 'node:worker_threads'
import type { WorkerOptions } from 'node:worker_threads'

/** A worker as the shared pools (task sandboxes, Hashcash) drive it. */
export interface PooledWorker<M> {
  postMessage: (message: M, transfer?: ArrayBuffer[]) => void
  onmessage: ((event: { data: unknown }) => void) | null
  onerror: ((event: { message?: string, error?: unknown }) => void) | null
  terminate: () => void
  ref: () => void
  unref: () => void
}

/** Wraps a worker_threads Worker for a pool: an exit the pool did not ask for is an error. */
export function adaptNodeWorker<M> (worker: Worker): PooledWorker<M> {
  let terminated = false
  const like: PooledWorker<M> = {
    postMessage: (message, transfer) => { worker.postMessage(message, transfer) },
    onmessage: null,
    onerror: null,
    terminate: () => {
      terminated = true
      void worker.terminate()
    },
    ref: () => { worker.ref() },
    unref: () => { worker.unref() }
  }
  worker.on('message', (data: unknown) => { like.onmessage?.({ data }) })
  worker.on('error', (error: Error) => { like.onerror?.({ message: error.message, error }) })
  worker.on('exit', (code) => {
    if (!terminated) like.onerror?.({ message: `worker exited with code ${code}` })
  })
  return like
}

/** Starts a worker for a pool, unref'd: an idle one must not keep the process alive (the pool refs it while it works). */
export function spawnNodeWorker<M> (url: URL, options: WorkerOptions = {}): PooledWorker<M> {
  const worker = new Worker(url, options)
  worker.unref()
  return adaptNodeWorker(worker)
}
