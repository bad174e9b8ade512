/**
 * Work under way that a graceful stop lets finish: a reply being written, a
 * verdict on its way. Stopping without waiting would drop what the other
 * side is owed (a cheque in a verdict), so `idle()` waits, up to a signal.
 */
export class InFlight {
  private count = 0
  private readonly waiters = new Set<() => void>()

  get size (): number { return this.count }

  /** Marks one piece of work as started; call the returned function (once is enough) when it ends. */
  begin (): () => void {
    this.count++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      this.count--
      if (this.count === 0) for (const w of this.waiters) w()
    }
  }

  /** Tracks a promise until it settles; never rejects the caller's chain. */
  track (work: Promise<unknown>): void {
    const end = this.begin()
    work.then(end, end)
  }

  /** Resolves when nothing is under way, or when `signal` aborts (whichever first); never throws. */
  async idle (signal: AbortSignal): Promise<void> {
    if (this.count === 0 || signal.aborted) return
    await new Promise<void>(resolve => {
      const done = (): void => {
        this.waiters.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.waiters.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
