/**
 * The Hashcash solver pool in the tab: one module Web Worker per core
 * (navigator.hardwareConcurrency by default). Vite bundles the worker from
 * the `new Worker(new URL(...), { type: 'module' })` pattern below.
 */
import { createHashcashSolver } from '../../../shared/hashcash/index.ts'
import type { HashcashSolver, HashcashSolverInit, WorkerLike } from '../../../shared/hashcash/index.ts'

/** Wraps a browser Worker into the pool's WorkerLike. */
export function adaptBrowserWorker (worker: Worker): WorkerLike {
  const like: WorkerLike = {
    postMessage: (message) => { worker.postMessage(message) },
    onmessage: null,
    onerror: null,
    terminate: () => { worker.terminate() }
  }
  worker.onmessage = (event) => { like.onmessage?.({ data: event.data }) }
  // a script that fails to load or throws at the top level
  worker.onerror = (event) => {
    event.preventDefault()
    like.onerror?.({ message: event.message !== '' ? event.message : 'worker script failed to load', error: event.error })
  }
  worker.onmessageerror = () => { like.onerror?.({ message: 'undecodable message from worker' }) }
  return like
}

export function spawnBrowserHashcashWorker (): WorkerLike {
  const worker = new Worker(new URL('./hashcash.worker.ts', import.meta.url), { type: 'module', name: 'hashcash' })
  return adaptBrowserWorker(worker)
}

export function createBrowserHashcashSolver (init: HashcashSolverInit = {}): HashcashSolver {
  return createHashcashSolver(init, { spawnWorker: spawnBrowserHashcashWorker })
}
