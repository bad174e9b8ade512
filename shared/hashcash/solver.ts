/**
 * A pool of workers solving Hashcash challenges, platform-neutral: the
 * browser (Web Workers) and Node (worker_threads) only differ in how a
 * worker is spawned, see web/src/hashcash/browser-solver.ts and
 * relay/hashcash/node-solver.ts.
 *
 * Each worker searches a disjoint share of the nonce space (high words
 * i, i + n, i + 2n, ... for worker i of n), so no hash is done twice. The
 * first solution wins and stops the others. Workers stay alive between
 * solves; `stop()` terminates them.
 */
import { HashcashAbortedError, HashcashInvalidError, HashcashWorkerError } from './errors.ts'
import { encodeNonce, expectedHashes, verifySolution } from './hashcash.ts'
import { assertChallenge, assertDifficulty, HASHCASH_NONCE_BYTES } from './sha256-search.ts'
import { isWorkerToPool } from './worker-protocol.ts'
import type { SearchKernel } from './sha256-search.ts'
import type { PoolToWorker, WorkerToPool } from './worker-protocol.ts'

/**
 * The part of a worker the pool needs. A browser `Worker` fits after
 * wrapping its events; see the two adapters.
 */
export interface WorkerLike {
  postMessage: (message: PoolToWorker) => void
  onmessage: ((event: { data: unknown }) => void) | null
  onerror: ((event: { message?: string, error?: unknown }) => void) | null
  terminate: () => void
  /** Node: keep the process alive while the worker has work (optional). */
  ref?: () => void
  /** Node: let the process exit while the worker is idle (optional). */
  unref?: () => void
}

export interface HashcashSolverInit {
  /**
   * How many workers to run. Default: `navigator.hardwareConcurrency`, or 1
   * where that is unknown (the Node factory passes `os.availableParallelism()`).
   */
  workers?: number
  /**
   * Workers hash in chunks, reporting progress and checking for a stop or a
   * new job in between; a chunk is sized from the worker's measured rate to
   * take about `chunkMs` (default 8), which bounds how late an abort or the
   * start of the next solve takes effect.
   */
  chunkMs?: number
  /** Upper bound on nonces per chunk, a positive integer up to 2^32. Default 2^22. */
  chunkSize?: number
  /** Minimum ms between `onProgress` calls. Default 100 (about 10 per second). */
  progressInterval?: number
}

export interface HashcashSolverComponents {
  /** Starts one worker running the hashcash worker entry point. */
  spawnWorker: () => WorkerLike
}

export interface HashcashProgress {
  /** Hashes done so far in this solve, over all workers. */
  hashes: number
  /** Hashes per second so far. */
  rate: number
  /** Mean time to solve this difficulty at the current rate (2^difficulty / rate). */
  expectedMs: number
  elapsedMs: number
}

export interface SolveOptions {
  signal?: AbortSignal
  /** Throttled progress; hashes and elapsedMs never decrease. */
  onProgress?: (progress: HashcashProgress) => void
}

export interface HashcashSolution {
  /** 8 bytes, big-endian. */
  nonce: Uint8Array
  /** Hashes done over all workers (what the workers had reported when the winner did). */
  hashes: number
  /** Wall time from when this solve got the pool (includes starting a stopped pool) to the solution. */
  ms: number
  workers: number
  /** Kernel the workers used ('js' when no worker was needed: difficulty 0 on a pool not started). */
  kernel: SearchKernel
}

export interface HashcashSolver {
  /** Number of workers in the pool. */
  readonly workers: number
  /** Spawns the workers and waits until each has loaded its kernel. Solving starts the pool too. */
  start: () => Promise<void>
  /** Terminates the workers; a solve in progress rejects with HashcashAbortedError. */
  stop: () => Promise<void>
  isStarted: () => boolean
  /** The kernel the workers use, once started. */
  kernel: () => SearchKernel | undefined
  /**
   * Finds a nonce for `challenge` (32 bytes) at `difficulty` (0..64 bits).
   * Solves run one at a time; a second call waits for the first.
   * Rejects with HashcashAbortedError when the signal aborts,
   * HashcashInvalidError for bad input, HashcashWorkerError when a worker fails.
   */
  solve: (challenge: Uint8Array, difficulty: number, options?: SolveOptions) => Promise<HashcashSolution>
}

const DEFAULT_CHUNK_SIZE = 2 ** 22
const DEFAULT_CHUNK_MS = 8
const DEFAULT_PROGRESS_INTERVAL = 100

interface PoolWorker {
  worker: WorkerLike
  kernel?: SearchKernel
  /** Hashes reported for the current job. */
  hashes: number
}

interface ActiveJob {
  id: number
  onMessage: (index: number, message: WorkerToPool) => void
  onFailure: (err: Error) => void
}

function abortedError (signal?: AbortSignal): HashcashAbortedError {
  return new HashcashAbortedError('hashcash solve aborted', { cause: signal?.reason })
}

/** Waits for `previous` to settle; rejects at once with HashcashAbortedError if the signal aborts first. */
async function waitTurn (previous: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (signal == null) {
    await previous
    return
  }
  if (signal.aborted) throw abortedError(signal)
  let onAbort = (): void => {}
  try {
    await Promise.race([previous, new Promise<never>((_resolve, reject) => {
      onAbort = () => { reject(abortedError(signal)) }
      signal.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function defaultWorkers (): number {
  const n = globalThis.navigator?.hardwareConcurrency
  return typeof n === 'number' && n >= 1 ? n : 1
}

export function createHashcashSolver (init: HashcashSolverInit, components: HashcashSolverComponents): HashcashSolver {
  const workerCount = init.workers ?? defaultWorkers()
  const chunkSize = init.chunkSize ?? DEFAULT_CHUNK_SIZE
  const chunkMs = init.chunkMs ?? DEFAULT_CHUNK_MS
  const progressInterval = init.progressInterval ?? DEFAULT_PROGRESS_INTERVAL
  if (!Number.isInteger(workerCount) || workerCount < 1) {
    throw new HashcashInvalidError(`workers must be a positive integer, got ${workerCount}`)
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 2 ** 32) {
    throw new HashcashInvalidError(`chunkSize must be an integer in 1..2^32, got ${chunkSize}`)
  }
  if (!(chunkMs > 0) || !Number.isFinite(chunkMs)) {
    throw new HashcashInvalidError(`chunkMs must be a positive number, got ${chunkMs}`)
  }

  let pool: PoolWorker[] | undefined
  let starting: Promise<void> | undefined
  let active: ActiveJob | undefined
  let nextJobId = 1
  // serialises solves: settles when the last queued solve is done
  let queue: Promise<void> = Promise.resolve()
  // rejects a pending start() when a worker dies or the pool is stopped
  let failStart: ((err: Error) => void) | undefined

  function spawnAll (): PoolWorker[] {
    const workers: PoolWorker[] = []
    for (let index = 0; index < workerCount; index++) {
      const worker = components.spawnWorker()
      const entry: PoolWorker = { worker, hashes: 0 }
      worker.onmessage = (event) => { onWorkerMessage(entry, index, event.data) }
      worker.onerror = (event) => {
        const err = event.error instanceof Error ? event.error : undefined
        onWorkerFailure(new HashcashWorkerError(`hashcash worker ${index} failed: ${err?.message ?? event.message ?? 'unknown error'}`, { cause: err }))
      }
      workers.push(entry)
    }
    return workers
  }

  let onReady: (() => void) | undefined

  function onWorkerMessage (entry: PoolWorker, index: number, data: unknown): void {
    if (!isWorkerToPool(data)) {
      onWorkerFailure(new HashcashWorkerError(`hashcash worker ${index} sent a malformed message`))
      return
    }
    if (data.type === 'ready') {
      entry.kernel = data.kernel
      onReady?.()
      return
    }
    if (data.type === 'error' && data.id == null) {
      onWorkerFailure(new HashcashWorkerError(`hashcash worker ${index}: ${data.message}`))
      return
    }
    if (active != null && 'id' in data && data.id === active.id) active.onMessage(index, data)
  }

  /** A broken worker takes the pool down; the next solve starts a fresh one. */
  function onWorkerFailure (err: Error): void {
    const job = active
    const startFail = failStart
    terminateAll()
    job?.onFailure(err)
    startFail?.(err)
  }

  function terminateAll (): void {
    const workers = pool
    pool = undefined
    starting = undefined
    onReady = undefined
    failStart = undefined
    for (const entry of workers ?? []) {
      entry.worker.onmessage = null
      entry.worker.onerror = null
      entry.worker.terminate()
    }
  }

  async function start (): Promise<void> {
    if (starting != null) {
      await starting
      return
    }
    const workers = spawnAll()
    pool = workers
    for (const entry of workers) entry.worker.ref?.()
    starting = new Promise<void>((resolve, reject) => {
      onReady = () => {
        if (workers.every(entry => entry.kernel != null)) {
          onReady = undefined
          failStart = undefined
          resolve()
        }
      }
      failStart = reject
    }).finally(() => {
      for (const entry of workers) entry.worker.unref?.()
    })
    await starting
  }

  async function runJob (challenge: Uint8Array, difficulty: number, options: SolveOptions): Promise<HashcashSolution> {
    const { signal, onProgress } = options
    const began = performance.now()
    await start()
    const workers = pool
    if (workers == null) throw new HashcashAbortedError('hashcash solver stopped')
    const kernel = workers[0]?.kernel ?? 'js'
    const id = nextJobId++
    const expected = expectedHashes(difficulty)
    const t0 = performance.now()
    let lastProgress = -Infinity
    for (const entry of workers) {
      entry.hashes = 0
      entry.worker.ref?.()
    }
    const total = (): number => workers.reduce((sum, entry) => sum + entry.hashes, 0)

    try {
      return await new Promise<HashcashSolution>((resolve, reject) => {
        const finish = (): void => {
          signal?.removeEventListener('abort', onAbort)
          if (active?.id === id) active = undefined
          for (const entry of workers) {
            if (pool === workers) entry.worker.postMessage({ type: 'stop', id })
          }
        }
        const onAbort = (): void => {
          finish()
          reject(abortedError(signal))
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        if (signal?.aborted === true) {
          onAbort()
          return
        }
        active = {
          id,
          onFailure: (err) => {
            finish()
            reject(err)
          },
          onMessage: (index, message) => {
            const entry = workers[index]
            if (entry == null) return
            if (message.type === 'error') {
              finish()
              reject(new HashcashWorkerError(`hashcash worker ${index}: ${message.message}`))
              return
            }
            if (message.type === 'ready') return
            entry.hashes = Math.max(entry.hashes, message.hashes)
            if (message.type === 'found') {
              const nonce = encodeNonce(message.nonceHi, message.nonceLo)
              // one hash: never hand out a wrong answer, whatever a worker says
              if (!verifySolution(challenge, nonce, difficulty)) {
                finish()
                reject(new HashcashWorkerError(`hashcash worker ${index} reported a nonce that does not verify`))
                return
              }
              finish()
              resolve({ nonce, hashes: total(), ms: performance.now() - began, workers: workers.length, kernel })
              return
            }
            const now = performance.now()
            if (onProgress != null && now - lastProgress >= progressInterval) {
              lastProgress = now
              const hashes = total()
              const elapsedMs = now - t0
              const rate = elapsedMs > 0 ? hashes / (elapsedMs / 1000) : 0
              onProgress({ hashes, rate, expectedMs: rate > 0 ? expected / rate * 1000 : Infinity, elapsedMs })
            }
          }
        }
        workers.forEach((entry, index) => {
          entry.worker.postMessage({
            type: 'solve', id, challenge, difficulty, startHi: index, strideHi: workers.length, maxChunk: chunkSize, chunkMs
          })
        })
      })
    } finally {
      for (const entry of workers) entry.worker.unref?.()
    }
  }

  return {
    workers: workerCount,
    start,
    async stop () {
      const job = active
      active = undefined
      const startFail = failStart
      terminateAll()
      job?.onFailure(new HashcashAbortedError('hashcash solver stopped'))
      startFail?.(new HashcashAbortedError('hashcash solver stopped'))
    },
    isStarted: () => pool != null,
    kernel: () => pool?.[0]?.kernel,
    async solve (challenge, difficulty, options = {}) {
      assertChallenge(challenge)
      assertDifficulty(difficulty)
      if (options.signal?.aborted === true) throw abortedError(options.signal)
      if (difficulty === 0) {
        // every nonce qualifies: no need to wake the pool (hence 0 hashes and 0 workers)
        return { nonce: new Uint8Array(HASHCASH_NONCE_BYTES), hashes: 0, ms: 0, workers: 0, kernel: pool?.[0]?.kernel ?? 'js' }
      }
      const previous = queue
      let release = (): void => {}
      queue = new Promise<void>(resolve => { release = resolve })
      try {
        await waitTurn(previous, options.signal)
        return await runJob(challenge, difficulty, options)
      } finally {
        // an abort while queued must not let the next solve overtake the running one
        void previous.then(release)
      }
    }
  }
}
