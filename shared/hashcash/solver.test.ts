import { describe, expect, it } from 'vitest'
import { HashcashAbortedError, HashcashInvalidError, HashcashWorkerError } from './errors.ts'
import { verifySolution } from './hashcash.ts'
import { createHashcashSolver } from './solver.ts'
import { handleWorkerMessages } from './worker-protocol.ts'
import type { HashcashProgress, WorkerLike } from './solver.ts'
import type { PoolToWorker, WorkerToPool } from './worker-protocol.ts'
import { randomBytes } from '../testing/index.ts'

/**
 * A worker running the real worker-side code on this thread; messages are
 * delivered asynchronously as between threads.
 */
class InThreadWorker implements WorkerLike {
  onmessage: ((event: { data: unknown }) => void) | null = null
  onerror: ((event: { message?: string, error?: unknown }) => void) | null = null
  terminated = false
  /** Drops what the worker says, as a worker too busy to answer would. */
  muted = false
  readonly sent: PoolToWorker[] = []
  private readonly deliver: (data: unknown) => void

  constructor (rewrite?: (message: WorkerToPool) => WorkerToPool) {
    this.deliver = handleWorkerMessages({
      post: (message) => {
        setTimeout(() => {
          if (!this.terminated && !this.muted) this.onmessage?.({ data: rewrite?.(message) ?? message })
        })
      }
    })
  }

  postMessage (message: PoolToWorker): void {
    this.sent.push(message)
    setTimeout(() => { if (!this.terminated) this.deliver(structuredClone(message)) })
  }

  terminate (): void {
    this.terminated = true
    // stop the job loop the way killing the thread would
    this.deliver({ type: 'stop', id: (this.sent.at(-1) as { id?: number } | undefined)?.id ?? 0 })
  }
}

function pool (init: Parameters<typeof createHashcashSolver>[0] = {}, make = (): InThreadWorker => new InThreadWorker()) {
  const spawned: InThreadWorker[] = []
  const solver = createHashcashSolver({ workers: 2, chunkSize: 2 ** 12, ...init }, {
    spawnWorker: () => {
      const worker = make()
      spawned.push(worker)
      return worker
    }
  })
  return { solver, spawned }
}

describe('hashcash solver pool', () => {
  it('solves, splitting the nonce space between the workers', async () => {
    const { solver, spawned } = pool()
    const challenge = randomBytes(32)
    const solution = await solver.solve(challenge, 12)
    expect(verifySolution(challenge, solution.nonce, 12)).toBe(true)
    expect(solution.workers).toBe(2)
    expect(solution.hashes).toBeGreaterThan(0)
    expect(solution.kernel).toBe('wasm-simd')
    const requests = spawned.map(w => w.sent.find(m => m.type === 'solve'))
    expect(requests.map(r => r?.type === 'solve' ? [r.startHi, r.strideHi] : undefined)).toEqual([[0, 2], [1, 2]])
    // the winner stops the others
    for (const worker of spawned) expect(worker.sent.at(-1)).toEqual({ type: 'stop', id: requests[0]?.id })
    await solver.stop()
    expect(spawned.every(w => w.terminated)).toBe(true)
  })

  it('keeps its workers between solves', async () => {
    const { solver, spawned } = pool()
    await solver.start()
    expect(solver.isStarted()).toBe(true)
    for (let i = 0; i < 3; i++) await solver.solve(randomBytes(32), 8)
    expect(spawned).toHaveLength(2)
    await solver.stop()
    expect(solver.isStarted()).toBe(false)
  })

  it('reports monotonic, throttled progress', async () => {
    const { solver } = pool({ chunkSize: 2 ** 10, progressInterval: 20 })
    const events: HashcashProgress[] = []
    const controller = new AbortController()
    await expect(solver.solve(randomBytes(32), 64, {
      signal: controller.signal,
      onProgress: (p) => {
        events.push(p)
        if (events.length === 5) controller.abort()
      }
    })).rejects.toThrow(HashcashAbortedError)
    // none after the abort
    expect(events).toHaveLength(5)
    for (let i = 1; i < events.length; i++) {
      const [prev, cur] = [events[i - 1], events[i]] as [HashcashProgress, HashcashProgress]
      expect(cur.hashes).toBeGreaterThan(prev.hashes)
      // throttled: at least progressInterval apart
      expect(cur.elapsedMs - prev.elapsedMs).toBeGreaterThanOrEqual(19.99)
    }
    const last = events.at(-1) as HashcashProgress
    expect(last.rate).toBeCloseTo(last.hashes / (last.elapsedMs / 1000), 3)
    expect(last.expectedMs).toBeCloseTo(2 ** 64 / last.rate * 1000, -10)
    await solver.stop()
  })

  it('aborts promptly and stops every worker', async () => {
    const { solver, spawned } = pool()
    await solver.start()
    const controller = new AbortController()
    let searching!: () => void
    const progressed = new Promise<void>(resolve => { searching = resolve })
    // 64 bits are never found: only the abort can end this solve
    const solving = solver.solve(randomBytes(32), 64, { signal: controller.signal, onProgress: () => { searching() } })
    await progressed
    // promptly: the solve ends without a word from the busy workers
    for (const worker of spawned) worker.muted = true
    controller.abort(new Error('enough'))
    const err = await solving.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HashcashAbortedError)
    expect((err as Error).cause).toEqual(new Error('enough'))
    for (const worker of spawned) expect(worker.sent.at(-1)).toEqual({ type: 'stop', id: (worker.sent.at(-2) as { id: number }).id })
    for (const worker of spawned) worker.muted = false
    // the pool is still usable
    const challenge = randomBytes(32)
    expect(verifySolution(challenge, (await solver.solve(challenge, 8)).nonce, 8)).toBe(true)
    await solver.stop()
  })

  it('rejects at once for an already aborted signal, without starting workers', async () => {
    const { solver, spawned } = pool()
    await expect(solver.solve(randomBytes(32), 10, { signal: AbortSignal.abort() })).rejects.toThrow(HashcashAbortedError)
    expect(spawned).toHaveLength(0)
  })

  it('resolves difficulty 0 immediately without workers', async () => {
    const { solver, spawned } = pool()
    const solution = await solver.solve(randomBytes(32), 0)
    expect(solution.nonce).toHaveLength(8)
    expect(solution.hashes).toBe(0)
    expect(spawned).toHaveLength(0)
  })

  it('rejects malformed input with HashcashInvalidError', async () => {
    const { solver } = pool()
    await expect(solver.solve(new Uint8Array(31), 10)).rejects.toThrow(HashcashInvalidError)
    await expect(solver.solve(new Uint8Array(32), 65)).rejects.toThrow(HashcashInvalidError)
    expect(() => createHashcashSolver({ workers: 0 }, { spawnWorker: () => new InThreadWorker() })).toThrow(HashcashInvalidError)
    expect(() => createHashcashSolver({ chunkSize: 0.5 }, { spawnWorker: () => new InThreadWorker() })).toThrow(HashcashInvalidError)
    expect(() => createHashcashSolver({ chunkMs: 0 }, { spawnWorker: () => new InThreadWorker() })).toThrow(HashcashInvalidError)
  })

  it('runs solves one at a time; one aborted while queued leaves the others alone', async () => {
    const { solver } = pool()
    const first = solver.solve(randomBytes(32), 14)
    const controller = new AbortController()
    const second = solver.solve(randomBytes(32), 10, { signal: controller.signal })
    const third = solver.solve(randomBytes(32), 10)
    controller.abort()
    await expect(second).rejects.toThrow(HashcashAbortedError)
    const [a, c] = await Promise.all([first, third])
    expect(a.hashes).toBeGreaterThan(0)
    expect(c.hashes).toBeGreaterThan(0)
    await solver.stop()
  })

  it('stop() rejects the solve in progress and a later solve starts fresh workers', async () => {
    const { solver, spawned } = pool()
    let searching!: () => void
    const progressed = new Promise<void>(resolve => { searching = resolve })
    const solving = solver.solve(randomBytes(32), 64, { onProgress: () => { searching() } })
    await progressed
    await solver.stop()
    await expect(solving).rejects.toThrow(HashcashAbortedError)
    const challenge = randomBytes(32)
    expect(verifySolution(challenge, (await solver.solve(challenge, 8)).nonce, 8)).toBe(true)
    expect(spawned).toHaveLength(4)
    await solver.stop()
  })

  it('fails with HashcashWorkerError when a worker dies, then recovers', async () => {
    let failNext = true
    const { solver, spawned } = pool({}, () => {
      if (!failNext) return new InThreadWorker()
      failNext = false
      // dies mid-search, as its first chunk's progress comes in
      const worker: InThreadWorker = new InThreadWorker((message) => {
        if (message.type === 'progress') worker.onerror?.({ message: 'boom' })
        return message
      })
      return worker
    })
    await expect(solver.solve(randomBytes(32), 64)).rejects.toThrow(HashcashWorkerError)
    expect(spawned.slice(0, 2).every(w => w.terminated)).toBe(true)
    const challenge = randomBytes(32)
    expect(verifySolution(challenge, (await solver.solve(challenge, 8)).nonce, 8)).toBe(true)
    await solver.stop()
  })

  it('never returns a nonce that does not verify', async () => {
    const { solver } = pool({}, () => new InThreadWorker((message) =>
      message.type === 'found' ? { ...message, nonceLo: (message.nonceLo + 1) >>> 0 } : message))
    await expect(solver.solve(randomBytes(32), 16)).rejects.toThrow(/does not verify/)
    await solver.stop()
  })
})

describe('hashcash worker side', () => {
  function startWorker (): { messages: WorkerToPool[], send: (m: unknown) => void, next: (pred: (m: WorkerToPool) => boolean) => Promise<WorkerToPool> } {
    const messages: WorkerToPool[] = []
    const waiters: Array<{ pred: (m: WorkerToPool) => boolean, resolve: (m: WorkerToPool) => void }> = []
    const send = handleWorkerMessages({
      post: (m) => {
        messages.push(m)
        for (const w of [...waiters]) {
          if (w.pred(m)) {
            waiters.splice(waiters.indexOf(w), 1)
            w.resolve(m)
          }
        }
      }
    })
    const next = async (pred: (m: WorkerToPool) => boolean): Promise<WorkerToPool> =>
      await new Promise(resolve => { waiters.push({ pred, resolve }) })
    return { messages, send, next }
  }

  const solve = (id: number, extra: Partial<PoolToWorker> = {}): PoolToWorker =>
    ({ type: 'solve', id, challenge: randomBytes(32), difficulty: 64, startHi: 0, strideHi: 1, maxChunk: 2 ** 22, chunkMs: 20, ...extra }) as PoolToWorker

  it('sizes chunks as powers of two from its measured rate, within the bounds', async () => {
    const w = startWorker()
    w.send(solve(1))
    let count = 0
    await w.next(m => m.type === 'progress' && ++count === 12)
    w.send({ type: 'stop', id: 1 })
    const totals = w.messages.filter(m => m.type === 'progress').map(m => (m as { hashes: number }).hashes)
    const chunks = totals.map((t, i) => t - (totals[i - 1] ?? 0))
    for (const c of chunks) {
      expect(Math.log2(c) % 1).toBe(0)
      expect(c).toBeGreaterThanOrEqual(2 ** 10)
      expect(c).toBeLessThanOrEqual(2 ** 22)
    }
    // it grew from the first guess towards ~20 ms of work
    expect(Math.max(...chunks)).toBeGreaterThan(chunks[0] as number)
  })

  it('respects maxChunk', async () => {
    const w = startWorker()
    w.send(solve(1, { maxChunk: 2 ** 11 }))
    let count = 0
    await w.next(m => m.type === 'progress' && ++count === 5)
    w.send({ type: 'stop', id: 1 })
    const totals = w.messages.filter(m => m.type === 'progress').map(m => (m as { hashes: number }).hashes)
    expect(totals.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map(i => i * 2 ** 11))
  })

  it('drops a job when told to stop or given a new one', async () => {
    const w = startWorker()
    w.send(solve(1))
    await w.next(m => m.type === 'progress')
    w.send(solve(2))
    await w.next(m => m.type === 'progress' && m.id === 2)
    w.send({ type: 'stop', id: 2 })
    const seen = w.messages.length
    // a second worker's chunks are the clock: a loop that missed the stop would
    // take its turns between them, each one posting progress
    const clock = startWorker()
    clock.send(solve(9))
    let ticks = 0
    await clock.next(m => m.type === 'progress' && ++ticks === 5)
    clock.send({ type: 'stop', id: 9 })
    expect(w.messages.length).toBe(seen)
    const lastOfJob1 = w.messages.findLastIndex(m => m.type === 'progress' && m.id === 1)
    const firstOfJob2 = w.messages.findIndex(m => m.type === 'progress' && m.id === 2)
    expect(lastOfJob1).toBeLessThan(firstOfJob2)
  })

  it('answers a malformed message with an error', async () => {
    const w = startWorker()
    // errors are posted synchronously, so wait before sending
    const malformed = w.next(m => m.type === 'error')
    w.send({ type: 'solve', id: 1 })
    expect(await malformed).toEqual({ type: 'error', message: 'malformed message from pool' })
    const badChunk = w.next(m => m.type === 'error' && m.id === 3)
    w.send(solve(3, { maxChunk: 0 }))
    expect(await badChunk).toMatchObject({ type: 'error', id: 3 })
  })
})
