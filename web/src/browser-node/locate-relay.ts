import { Backoff, delay } from '../../../shared/util/index.ts'
import { fetchServingRelay } from '../node/page-config.ts'
import { LOCATE_INITIAL_DELAY_MS, LOCATE_MAX_DELAY_MS, LOCATE_TIMEOUT_MS } from './constants.defaults.ts'

/**
 * Asks `statusUrl` for the serving relay's address until it answers or
 * `signal` aborts, waiting longer after each failure: a relay restarting
 * (or a flaky link) is found again without hammering it. The page's own
 * NodeState does the same with a countdown and a "Retry now" button.
 */
export async function locateServingRelay (statusUrl: string, signal: AbortSignal): Promise<string> {
  const backoff = new Backoff({ initialDelay: LOCATE_INITIAL_DELAY_MS, maxDelay: LOCATE_MAX_DELAY_MS })
  for (;;) {
    signal.throwIfAborted()
    try {
      return await fetchServingRelay(statusUrl, AbortSignal.any([signal, AbortSignal.timeout(LOCATE_TIMEOUT_MS)]))
    } catch (err: unknown) {
      signal.throwIfAborted()
      console.warn(`golem-clay: no relay address from ${statusUrl} yet`, err)
      await delay(backoff.next(), signal)
    }
  }
}
