// One timed primes task through the market; shared by the bench page (the
// requestor tab) and the bench process (the Node requestor), so both time
// exactly the same span.
import { toString } from 'uint8arrays/to-string'
import { encodePrimesInput } from '../../tasks/primes/ranges.ts'
import type { Market } from '../../shared/market/index.ts'

/** A primes subtask: numbers n with from <= n < to. */
export type Range = [from: number, to: number]

export interface SubmitRun {
  /** `market.submit()`: hashing, storing module and inputs on the relay, signing and publishing the header. */
  uploadMs: number
  /** From `submit()` returning until `task.done` resolved. */
  wallMs: number
  firstAssignMs: number
  firstResultMs: number
  providers: string[]
  reassigned: number
  /** Results, hex, in subtask order (checked against the direct run's). */
  outputs: string[]
}

/** A paid run's price per subtask, in the token's base units (a thousandth of an 18-decimal token). */
export const PAID_PRICE = 10 ** 15

/**
 * Submits `ranges` as one task (k = 1) storing its resources on `relay`, and
 * waits for every verified result; `paid` pays for it through the relay's
 * chain (a note per assignment, a cheque per verdict), otherwise it is unpaid.
 */
export async function timedSubmit (market: Market, module: Uint8Array, ranges: Range[], relay: string, paid = false): Promise<SubmitRun> {
  const t0 = performance.now()
  const task = await market.submit({ name: `bench primes x${ranges.length}`, module, inputs: ranges.map(([from, to]) => encodePrimesInput({ from, to })), k: 1, timeout: 900_000, subtaskTimeout: 120_000, relay, paid, ...(paid ? { price: PAID_PRICE } : {}) })
  const t1 = performance.now()
  let firstAssigned = Number.NaN
  let firstResult = Number.NaN
  let reassigned = 0
  task.addEventListener('assigned', () => { if (Number.isNaN(firstAssigned)) firstAssigned = performance.now() })
  task.addEventListener('result', () => { if (Number.isNaN(firstResult)) firstResult = performance.now() })
  task.addEventListener('reassigned', () => { reassigned++ })
  const results = await task.done
  const t2 = performance.now()
  return {
    uploadMs: t1 - t0,
    wallMs: t2 - t1,
    firstAssignMs: firstAssigned - t1,
    firstResultMs: firstResult - t1,
    providers: [...new Set(results.map(r => r.provider))],
    reassigned,
    outputs: results.map(r => toString(r.data, 'base16'))
  }
}
