/**
 * Polls `check` until it holds, for state that raises no event; tests wait
 * on events or state, never on fixed sleeps. Fails after `timeoutMs`.
 */
export async function until (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000, intervalMs = 25): Promise<void> {
  const start = Date.now()
  while (!await check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}
