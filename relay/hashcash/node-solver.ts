/**
 * The Hashcash solver pool on Node: worker_threads running
 * hashcash-worker.ts. Our entry points run TypeScript through
 * `node --import tsx`, but Node 20 does not apply loader flags to worker
 * threads (neither inherited nor via `execArgv`, nodejs/node#47747), so each
 * worker starts from a plain .mjs that registers tsx itself. That also
 * works under Vitest and whatever the current directory.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { createHashcashSolver } from '../../shared/hashcash/index.ts'
import type { HashcashSolver, HashcashSolverInit, WorkerLike } from '../../shared/hashcash/index.ts'

export interface NodeHashcashSolverInit extends HashcashSolverInit {
  /** Default `os.availableParallelism()`. */
  workers?: number
}

const WORKER_URL = new URL('./hashcash-worker-bootstrap.mjs', import.meta.url)

/** Wraps a worker_threads Worker into the pool's WorkerLike. */
export function adaptNodeWorker (worker: Worker): WorkerLike {
  let terminated = false
  const like: WorkerLike = {
    postMessage: (message) => { worker.postMessage(message) },
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

export function spawnNodeHashcashWorker (): WorkerLike {
  const worker = new Worker(WORKER_URL)
  // idle workers must not keep the process alive; the pool refs them while they work
  worker.unref()
  return adaptNodeWorker(worker)
}

export function createNodeHashcashSolver (init: NodeHashcashSolverInit = {}): HashcashSolver {
  return createHashcashSolver({ ...init, workers: init.workers ?? availableParallelism() }, {
    spawnWorker: spawnNodeHashcashWorker
  })
}
