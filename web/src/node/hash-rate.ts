/** Where a tab remembers its steady hash rate, so the next join's first estimate is already right. */
const KEY = 'golem-clay:hash-rate'
/** Progress windows shorter than this are too noisy to learn from, ms. */
const MIN_WINDOW_MS = 50
/** Weight of the newest window in the running average. */
const ALPHA = 0.3

export interface ProgressSample { hashes: number, elapsedMs: number }

/**
 * This tab's proof-of-work speed, learnt from the solver's progress reports.
 * The solver reports hashes done since the solve began, and the first few
 * hundred ms of a solve run slow (workers waking, the engine optimising the
 * kernel): a rate averaged from the start said "~7.5 s expected" for a solve
 * that took 1.2 s. So this leaves out each solve's first report, averages
 * the rate of each window between two reports after it, and starts from the
 * rate the last solves settled at.
 */
export class HashRate {
  private estimate: number
  private last?: ProgressSample

  constructor (private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = globalThis.localStorage) {
    const kept = Number(this.read())
    this.estimate = Number.isFinite(kept) && kept > 0 ? kept : 0
  }

  /** Hashes per second; 0 while unknown. */
  get rate (): number { return this.estimate }

  /** Mean time to solve `difficulty` bits at this rate (a lottery: half of solves take under 70 % of it). */
  expectedMs (difficulty: number): number {
    return this.estimate > 0 ? 2 ** difficulty / this.estimate * 1000 : 0
  }

  /** A new solve begins. */
  begin (): void {
    this.last = undefined
  }

  /** Learns from one progress report of the current solve. */
  sample (progress: ProgressSample): void {
    const last = this.last
    // up to the first report the workers were still waking: only a starting point
    if (last == null) {
      this.last = progress
      return
    }
    const dt = progress.elapsedMs - last.elapsedMs
    const dh = progress.hashes - last.hashes
    if (dt < MIN_WINDOW_MS || dh <= 0) return
    this.last = progress
    const windowRate = dh / (dt / 1000)
    this.estimate = this.estimate === 0 ? windowRate : this.estimate * (1 - ALPHA) + windowRate * ALPHA
  }

  /** The solve ended: keep what it taught for the next one. */
  end (): void {
    this.last = undefined
    if (this.estimate > 0) this.write(String(Math.round(this.estimate)))
  }

  private read (): string | null {
    try { return this.storage?.getItem(KEY) ?? null } catch { return null }
  }

  private write (value: string): void {
    // storage may be full or blocked (private windows): the estimate still works for this page
    try { this.storage?.setItem(KEY, value) } catch {}
  }
}
