/**
 * The hashcash benchmark page (web/bench/hashcash.html): exposes
 * `window.hashcashBench` for bench/hashcash/run.ts to drive through
 * Playwright. Everything runs through the real browser solver pool.
 */
import { createBrowserHashcashSolver } from '../src/hashcash/browser-solver.ts'
import type { SearchKernel } from '../../shared/hashcash/index.ts'
import type { HashcashProgress } from '../../shared/hashcash/index.ts'

export interface RateResult {
  workers: number
  kernel: SearchKernel | undefined
  /** Hashes per second over the measured window, all workers together. */
  rate: number
  windowMs: number
}

export interface SolveTimesResult {
  workers: number
  kernel: SearchKernel | undefined
  difficulty: number
  /** Wall time of each solve, ms. */
  ms: number[]
  /** Hashes of each solve. */
  hashes: number[]
}

function randomChallenge (): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32))
}

/**
 * Hash rate of a pool of `workers`: a solve that cannot succeed
 * (difficulty 64) runs for warmupMs + measureMs; the rate is taken from the
 * progress reports inside the measuring window, so start-up and the
 * engine's tier-up from baseline to optimised code are left out.
 */
async function rate (workers: number, warmupMs: number, measureMs: number): Promise<RateResult> {
  const solver = createBrowserHashcashSolver({ workers })
  try {
    await solver.start()
    const controller = new AbortController()
    let first: HashcashProgress | undefined
    let last: HashcashProgress | undefined
    const solving = solver.solve(randomChallenge(), 64, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.elapsedMs < warmupMs) return
        if (first == null) void window.hashcashBenchEdge?.('start')
        first ??= p
        last = p
        if (p.elapsedMs >= warmupMs + measureMs) {
          void window.hashcashBenchEdge?.('end')
          controller.abort()
        }
      }
    })
    await solving.catch((err: Error) => { if (err.name !== 'HashcashAbortedError') throw err })
    if (first == null || last == null || last === first) throw new Error('no progress reports in the measuring window')
    const windowMs = last.elapsedMs - first.elapsedMs
    return { workers, kernel: solver.kernel(), rate: (last.hashes - first.hashes) / (windowMs / 1000), windowMs }
  } finally {
    await solver.stop()
  }
}

/** `count` solves at `difficulty` with random challenges on a started, warmed-up pool. */
async function solveTimes (difficulty: number, count: number, workers?: number): Promise<SolveTimesResult> {
  const solver = createBrowserHashcashSolver(workers == null ? {} : { workers })
  try {
    await solver.start()
    // let the engine optimise the kernel before timing
    const warmUntil = performance.now() + 1000
    while (performance.now() < warmUntil) await solver.solve(randomChallenge(), 18)
    const ms: number[] = []
    const hashes: number[] = []
    for (let i = 0; i < count; i++) {
      const solution = await solver.solve(randomChallenge(), difficulty)
      ms.push(solution.ms)
      hashes.push(solution.hashes)
    }
    return { workers: solver.workers, kernel: solver.kernel(), difficulty, ms, hashes }
  } finally {
    await solver.stop()
  }
}

const api = {
  hardwareConcurrency: () => navigator.hardwareConcurrency,
  rate,
  solveTimes
}

declare global {
  interface Window {
    hashcashBench: typeof api
    /** Set by the bench runner: marks the measuring window so it can read CPU accounting around it. */
    hashcashBenchEdge?: (edge: 'start' | 'end') => Promise<void>
  }
}

window.hashcashBench = api
document.body.dataset.ready = 'true'
