/**
 * Messages between the solver pool and its workers, and the worker side of
 * the conversation, shared by the browser (Web Worker) and Node
 * (worker_threads) entry points so those stay a few lines each.
 *
 * A worker runs one job at a time: it searches its share of the nonce space
 * in chunks, reports progress after each chunk and yields to its event loop
 * in between, so a `stop` or a newer `solve` is seen within one chunk.
 * Chunks are sized from the worker's measured hash rate to take about
 * `chunkMs`: short enough that a worker busy with a finished job joins the
 * next one promptly (which matters for short solves), long enough that the
 * per-chunk messages cost well under 1%.
 */
import { createSearch, loadWasmKernel } from './sha256-search.ts'
import type { SearchKernel } from './sha256-search.ts'

/** Start (or replace) the worker's job. */
export interface SolveRequest {
  type: 'solve'
  /** Job id; every reply carries it so the pool can drop stale ones. */
  id: number
  challenge: Uint8Array
  difficulty: number
  /**
   * This worker's share of the nonce space: high words startHi,
   * startHi + strideHi, ... each with the full low-word range.
   */
  startHi: number
  strideHi: number
  /** Upper bound on nonces per chunk; a power of two no larger than 2^32. */
  maxChunk: number
  /** Target duration of one chunk, ms. */
  chunkMs: number
}

export interface StopRequest {
  type: 'stop'
  id: number
}

export type PoolToWorker = SolveRequest | StopRequest

/** Sent once the kernel is loaded (WASM compiled or given up on). */
export interface ReadyMessage {
  type: 'ready'
  kernel: SearchKernel
}

/** Hashes done so far in job `id` (cumulative), after each chunk. */
export interface ProgressMessage {
  type: 'progress'
  id: number
  hashes: number
}

export interface FoundMessage {
  type: 'found'
  id: number
  nonceHi: number
  nonceLo: number
  /** Hashes done in this job, including the winning one. */
  hashes: number
}

export interface ErrorMessage {
  type: 'error'
  /** The job that failed, when the failure belongs to one. */
  id?: number
  message: string
}

export type WorkerToPool = ReadyMessage | ProgressMessage | FoundMessage | ErrorMessage

/** Validates a message from the pool; workers get structured clones, so check the shape. */
export function isPoolToWorker (data: unknown): data is PoolToWorker {
  if (typeof data !== 'object' || data == null) return false
  const m = data as Record<string, unknown>
  if (m.type === 'stop') return typeof m.id === 'number'
  return m.type === 'solve' && typeof m.id === 'number' && m.challenge instanceof Uint8Array &&
    typeof m.difficulty === 'number' && typeof m.startHi === 'number' && typeof m.strideHi === 'number' &&
    typeof m.maxChunk === 'number' && typeof m.chunkMs === 'number'
}

/** Validates a message from a worker. */
export function isWorkerToPool (data: unknown): data is WorkerToPool {
  if (typeof data !== 'object' || data == null) return false
  const m = data as Record<string, unknown>
  switch (m.type) {
    case 'ready': return m.kernel === 'wasm-simd' || m.kernel === 'js'
    case 'progress': return typeof m.id === 'number' && typeof m.hashes === 'number'
    case 'found': return typeof m.id === 'number' && typeof m.nonceHi === 'number' && typeof m.nonceLo === 'number' && typeof m.hashes === 'number'
    case 'error': return typeof m.message === 'string'
    default: return false
  }
}

/**
 * Lets queued messages run between chunks. setTimeout(0) would do, but
 * browsers clamp nested timers to 4 ms, a sizeable share of a ~8 ms chunk;
 * a MessageChannel round trip (or setImmediate on Node) is not clamped.
 */
function createYielder (): () => Promise<void> {
  const setImmediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate
  if (setImmediate != null) {
    return async () => { await new Promise<void>(resolve => { setImmediate(resolve) }) }
  }
  const channel = new MessageChannel()
  const waiting: Array<() => void> = []
  channel.port1.onmessage = () => { waiting.shift()?.() }
  return async () => {
    await new Promise<void>(resolve => {
      waiting.push(resolve)
      channel.port2.postMessage(null)
    })
  }
}

export interface HashcashWorkerInit {
  /** Sends a message to the pool. */
  post: (message: WorkerToPool) => void
}

const TWO_32 = 2 ** 32
/** Chunk before the worker has measured its rate: about 1 ms with the WASM kernel. */
const FIRST_CHUNK = 2 ** 13
const MIN_CHUNK = 2 ** 10

/**
 * The worker side: call once at worker start-up, feed every incoming message
 * to the returned function. Loads the kernel and posts `ready`.
 */
export function handleWorkerMessages (init: HashcashWorkerInit): (data: unknown) => void {
  const { post } = init
  const yieldToEventLoop = createYielder()
  let current: { id: number, stopped: boolean } | undefined
  // hashes per ms, kept across jobs
  let hashesPerMs = 0

  /** The largest power of two not above `chunkMs` worth of hashes, within [MIN_CHUNK, maxChunk]. */
  function chunkSize (request: SolveRequest): number {
    const wanted = hashesPerMs > 0 ? 2 ** Math.floor(Math.log2(Math.max(1, hashesPerMs * request.chunkMs))) : FIRST_CHUNK
    return Math.max(Math.min(wanted, request.maxChunk), Math.min(MIN_CHUNK, request.maxChunk))
  }

  const kernelReady = loadWasmKernel().then(() => {
    // ask for the kernel the searches will really use
    post({ type: 'ready', kernel: createSearch(new Uint8Array(32)).kernel })
  })

  async function run (request: SolveRequest, job: { id: number, stopped: boolean }): Promise<void> {
    await kernelReady
    const search = createSearch(request.challenge)
    let hi = request.startHi
    let lo = 0
    let hashes = 0
    while (!job.stopped) {
      if (hi >= TWO_32) {
        post({ type: 'error', id: job.id, message: 'nonce space exhausted' })
        return
      }
      // never cross into the next high word: that one may belong to another worker
      const n = Math.min(chunkSize(request), TWO_32 - lo)
      const t0 = performance.now()
      const result = search.search(hi, lo, n, request.difficulty)
      const ms = performance.now() - t0
      hashes += result.hashes
      if (result.found) {
        post({ type: 'found', id: job.id, nonceHi: result.nonceHi, nonceLo: result.nonceLo, hashes })
        return
      }
      if (ms >= 2) {
        hashesPerMs = hashesPerMs > 0 ? 0.7 * hashesPerMs + 0.3 * (n / ms) : n / ms
      } else {
        // too short to time with coarse browser clocks (100 µs or worse): grow the next chunk
        hashesPerMs = Math.max(hashesPerMs, 2 * n / request.chunkMs)
      }
      lo += n
      if (lo >= TWO_32) {
        lo = 0
        hi += request.strideHi
      }
      post({ type: 'progress', id: job.id, hashes })
      await yieldToEventLoop()
    }
  }

  return (data: unknown): void => {
    if (!isPoolToWorker(data)) {
      post({ type: 'error', message: 'malformed message from pool' })
      return
    }
    if (data.type === 'stop') {
      if (current?.id === data.id) current.stopped = true
      return
    }
    if (current != null) current.stopped = true
    const job = { id: data.id, stopped: false }
    current = job
    const { maxChunk, chunkMs } = data
    if (!Number.isInteger(maxChunk) || maxChunk < 1 || maxChunk > TWO_32 || !(chunkMs > 0)) {
      post({ type: 'error', id: job.id, message: 'maxChunk must be an integer in 1..2^32 and chunkMs positive' })
      return
    }
    run(data, job)
      .catch((err: any) => { post({ type: 'error', id: job.id, message: String(err?.message ?? err) }) })
      .finally(() => { if (current === job) current = undefined })
  }
}
