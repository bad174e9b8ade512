/**
 * The Hashcash solver pool in the tab: one module Web Worker per core
 * (navigator.hardwareConcurrency by default). Vite bundles the worker from
 * the `new Worker(new URL(...), { type: 'module' })` pattern below.
 */
import { createHashcashSolver } from '../../../shared/hashcash/index.ts'
import { adaptBrowserWorker } from '../workers/browser-worker.ts'
import type { HashcashSolver, HashcashSolverInit, WorkerLike } from '../../../shared/hashcash/index.ts'

export function spawnBrowserHashcashWorker (): WorkerLike {
  const worker = new Worker(new URL('./hashcash.worker.ts', import.meta.url), { type: 'module', name: 'hashcash' })
  return adaptBrowserWorker(worker, 'hashcash worker')
}

export function createBrowserHashcashSolver (init: HashcashSolverInit = {}): HashcashSolver {
  return createHashcashSolver(init, { spawnWorker: spawnBrowserHashcashWorker })
}
