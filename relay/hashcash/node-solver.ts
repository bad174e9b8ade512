/**
 * The Hashcash solver pool on Node: worker_threads running
 * hashcash-worker.ts. Our entry points run TypeScript through
 * `node --import tsx`, but Node 20 does not apply loader flags to worker
 * threads (neither inherited nor via `execArgv`, nodejs/node#47747), so each
 * worker starts from a plain .mjs that registers tsx itself. That also
 * works under Vitest and whatever the current directory.
 */
import { availableParallelism } from 'node:os'
import { createHashcashSolver } from '../../shared/hashcash/index.ts'
import { spawnNodeWorker } from '../workers/node-worker.ts'
import type { HashcashSolver, HashcashSolverInit, WorkerLike } from '../../shared/hashcash/index.ts'

export interface NodeHashcashSolverInit extends HashcashSolverInit {
  /** Default `os.availableParallelism()`. */
  workers?: number
}

const WORKER_URL = new URL('./hashcash-worker-bootstrap.mjs', import.meta.url)

export function spawnNodeHashcashWorker (): WorkerLike {
  return spawnNodeWorker(WORKER_URL)
}

export function createNodeHashcashSolver (init: NodeHashcashSolverInit = {}): HashcashSolver {
  return createHashcashSolver({ ...init, workers: init.workers ?? availableParallelism() }, {
    spawnWorker: spawnNodeHashcashWorker
  })
}
