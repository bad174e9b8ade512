// The transport bench's set-up and transfer loops, run by the bench process
// (Node → relay, Node → tab) and by the bench page (tab → tab, tab → relay).
import { sleep, withTimeout } from '../common/timing.ts'

/**
 * Spaces loop iterations at least `ms` apart. libp2p refuses more than 5
 * inbound connections per second from one host, so set-up loops are paced.
 */
export function pacer (ms: number): () => Promise<void> {
  let last = 0
  return async () => {
    const wait = last + ms - performance.now()
    if (wait > 0) await sleep(wait)
    last = performance.now()
  }
}

/** A throughput run: one discarded warm-up transfer, then `reps` timed transfers of `bytes`. */
export interface ThroughputRequest {
  bytes: number
  reps: number
  /** Size of the warm-up transfer (JIT, congestion windows); 0 skips it. */
  warmupBytes: number
  /** Time allowed per transfer (ms). */
  timeoutMs: number
}

/** Runs `req` with `transfer` (resolving with its ms); returns the timed transfers' ms. */
export async function transferLoop (req: ThroughputRequest, transfer: (bytes: number, signal: AbortSignal) => Promise<number>): Promise<number[]> {
  if (req.warmupBytes > 0) await transfer(req.warmupBytes, AbortSignal.timeout(req.timeoutMs))
  const out: number[] = []
  for (let i = 0; i < req.reps; i++) out.push(await transfer(req.bytes, AbortSignal.timeout(req.timeoutMs)))
  return out
}

/** The per-rep timing of a set-up loop. */
export interface SetupSamples {
  /** ms of the successful attempt of each measured rep. */
  samples: number[]
  /** ms of each measured rep including failed attempts and their waits. */
  totals: number[]
  /** Failed attempts (timeouts or errors) that were retried, warm-up included. */
  retries: number
  /** Attempts made, warm-up included. */
  attempts: number
  /** Last error of each retried attempt, for the log. */
  errors: string[]
  /** Per measured rep, ms from the attempt's start to named milestones (if the attempt reports them). */
  marks: Array<Record<string, number>>
}

/** One successful attempt: its ms, and optionally when milestones were passed. */
export interface Attempt {
  ms: number
  marks?: Record<string, number>
}

export interface SetupLoopInit {
  reps: number
  warmup: number
  /** Time allowed per attempt (ms). */
  timeoutMs: number
  maxAttempts: number
  /** Minimum ms between attempt starts. */
  spacingMs: number
  /** One attempt: resolves with its ms; `signal` aborts it at the timeout. */
  attempt: (signal: AbortSignal) => Promise<number | Attempt>
  /** Runs (untimed) after each rep and after each failed attempt. */
  reset: () => Promise<void>
  log?: (line: string) => void
}

/** Times `reps` set-ups after `warmup` discarded ones, retrying failures. */
export async function setupLoop (init: SetupLoopInit): Promise<SetupSamples> {
  const out: SetupSamples = { samples: [], totals: [], retries: 0, attempts: 0, errors: [], marks: [] }
  const pace = pacer(init.spacingMs)
  for (let rep = 0; rep < init.warmup + init.reps; rep++) {
    // what the caller waited: every attempt of this rep, without the pacing in between
    let spent = 0
    let done: Attempt | undefined
    for (let attempt = 1; done == null; attempt++) {
      await pace()
      out.attempts++
      const start = performance.now()
      try {
        const result = await withTimeout(init.attempt(AbortSignal.timeout(init.timeoutMs)), init.timeoutMs + 2_000, 'set-up attempt')
        done = typeof result === 'number' ? { ms: result } : result
        spent += performance.now() - start
      } catch (err: any) {
        spent += performance.now() - start
        out.retries++
        out.errors.push(String(err?.message ?? err))
        init.log?.(`  attempt ${attempt} of rep ${rep + 1} failed: ${err?.message}`)
        await init.reset()
        if (attempt >= init.maxAttempts) throw new Error(`set-up failed ${attempt} times in a row: ${err?.message}`)
      }
    }
    if (rep >= init.warmup) {
      out.samples.push(done.ms)
      out.totals.push(spent)
      out.marks.push(done.marks ?? {})
    }
    await init.reset()
  }
  return out
}
