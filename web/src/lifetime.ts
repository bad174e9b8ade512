/**
 * What the page's state holds while its node runs: timers, waits and event
 * listeners, all tied to one AbortSignal so `end()` releases every one of
 * them. Listeners join with `{ signal: life.signal }`.
 */
export class Lifetime {
  private readonly controller = new AbortController()

  get signal (): AbortSignal { return this.controller.signal }
  get ended (): boolean { return this.controller.signal.aborted }

  /** `setInterval`, cleared when the lifetime ends; none once it has. */
  every (ms: number, fn: () => void): void {
    if (this.ended) return
    const id = setInterval(fn, ms)
    this.signal.addEventListener('abort', () => { clearInterval(id) }, { once: true })
  }

  /** `setTimeout`, cleared when the lifetime ends first; none once it has. */
  after (ms: number, fn: () => void): void {
    if (this.ended) return
    const cancel = (): void => { clearTimeout(id) }
    const id = setTimeout(() => {
      // a fired timer lets go of its abort listener, so a long life doesn't collect them
      this.signal.removeEventListener('abort', cancel)
      fn()
    }, ms)
    this.signal.addEventListener('abort', cancel, { once: true })
  }

  end (): void {
    this.controller.abort()
  }
}
