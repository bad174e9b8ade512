import { randomBytes } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { createSearch, HashcashAbortedError, verifySolution } from '../../shared/hashcash/index.ts'
import { until } from '../testing/wait.ts'
import { createNodeHashcashSolver } from './node-solver.ts'
import type { HashcashProgress, HashcashSolver } from '../../shared/hashcash/index.ts'

const CHUNK = 2 ** 10

/**
 * A challenge whose first difficulty-16 solution lies at least `minChunks`
 * chunks into both workers' shares, so the solve reports progress before it
 * ends, whatever the timing.
 */
function slowChallenge (minChunks: number): Uint8Array {
  for (;;) {
    const challenge = randomBytes(32)
    const search = createSearch(challenge)
    const worker0 = search.search(0, 0, minChunks * CHUNK, 16)
    const worker1 = search.search(1, 0, minChunks * CHUNK, 16)
    if (!worker0.found && !worker1.found) return challenge
  }
}

describe('node hashcash solver (worker_threads)', () => {
  let solver: HashcashSolver | undefined
  afterEach(async () => { await solver?.stop() })

  it('loads the TypeScript worker and the WASM kernel in each thread', async () => {
    solver = createNodeHashcashSolver({ workers: 2 })
    await solver.start()
    expect(solver.workers).toBe(2)
    expect(solver.kernel()).toBe('wasm-simd')
  })

  it('solves difficulty 16 with 2 workers, with monotonic progress', async () => {
    solver = createNodeHashcashSolver({ workers: 2, chunkSize: CHUNK, progressInterval: 0 })
    const challenge = slowChallenge(8)
    const events: HashcashProgress[] = []
    const solution = await solver.solve(challenge, 16, { onProgress: (p) => { events.push(p) } })
    expect(verifySolution(challenge, solution.nonce, 16)).toBe(true)
    expect(solution.workers).toBe(2)
    // the winner alone went through at least 8 chunks
    expect(solution.hashes).toBeGreaterThan(8 * CHUNK)
    expect(events.length).toBeGreaterThanOrEqual(8)
    for (let i = 1; i < events.length; i++) {
      expect((events[i] as HashcashProgress).hashes).toBeGreaterThan((events[i - 1] as HashcashProgress).hashes)
      expect((events[i] as HashcashProgress).elapsedMs).toBeGreaterThanOrEqual((events[i - 1] as HashcashProgress).elapsedMs)
    }
    for (const p of events) {
      expect(p.rate).toBeGreaterThan(0)
      expect(p.expectedMs).toBeCloseTo(2 ** 16 / p.rate * 1000, 6)
    }
    expect((events.at(-1) as HashcashProgress).hashes).toBeLessThanOrEqual(solution.hashes)
  })

  it('aborts within a chunk and stays usable', async () => {
    // the pool's threads, to watch what they send and whether they are busy
    const threads: Worker[] = []
    const onWorker = (worker: Worker): void => { threads.push(worker) }
    process.on('worker', onWorker)
    try {
      solver = createNodeHashcashSolver({ workers: 2 })
      await solver.start()
    } finally {
      process.off('worker', onWorker)
    }
    expect(threads).toHaveLength(2)
    const sent = threads.map(() => [] as Array<{ type: string }>)
    threads.forEach((thread, i) => { thread.on('message', (message: { type: string }) => { sent[i]?.push(message) }) })

    const controller = new AbortController()
    let hashes = 0
    const solving = solver.solve(randomBytes(32), 64, { signal: controller.signal, onProgress: (p) => { hashes = p.hashes } })
    // every thread is hashing: it reported a chunk, and from then on it only yields with setImmediate,
    // so its event loop never idles (waits for events) until the job ends
    await until(() => hashes > 0 && sent.every(messages => messages.some(m => m.type === 'progress')), 'both threads to report progress')
    const busy = threads.map(thread => thread.performance.eventLoopUtilization())
    const heard = sent.map(messages => messages.length)
    controller.abort()
    await expect(solving).rejects.toThrow(HashcashAbortedError)
    // the solve ended on the abort itself, not on anything the threads said after it
    expect(sent.map(messages => messages.length)).toEqual(heard)
    // the threads really stopped hashing: each event loop goes idle, which a hashing one never does
    await until(() => threads.every((thread, i) => thread.performance.eventLoopUtilization(busy[i]).idle > 0), 'both threads to go idle')
    const challenge = randomBytes(32)
    const solution = await solver.solve(challenge, 12)
    expect(verifySolution(challenge, solution.nonce, 12)).toBe(true)
  })
})
