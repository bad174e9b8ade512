/** Hashcash: the SHA-256 search kernels, one-hash verification and the solver pool (workers live in web/ and relay/). */
export * from './errors.ts'
export { verifySolution } from './hashcash.ts'
export { createSearch } from './sha256-search.ts'
export type { SearchKernel } from './sha256-search.ts'
export { createHashcashSolver } from './solver.ts'
export type { HashcashProgress, HashcashSolver, HashcashSolverInit, WorkerLike } from './solver.ts'
export { handleWorkerMessages } from './worker-protocol.ts'
