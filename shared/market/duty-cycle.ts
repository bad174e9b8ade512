import type { SubtaskGate } from './provider.ts'

export interface DutyCycleInit {
  /** Share of its cores' time the subtasks may take, over `windowMs`: 0 < share ≤ 1. @default 0.5 */
  maxShare?: number
  /** Subtasks that may run at once (the runner's cores). @default 1 */
  cores?: number
  /** How much idle time may be saved up for a burst, ms of wall time. @default 10_000 */
  windowMs?: number
}

/**
 * A duty cycle enforced between subtasks: a subtask can't be paused from
 * inside (its Worker isn't cross-origin isolated, nothing preempts it), so
 * each one that ran for d ms is paid for by d × (1 − share) / share ms of
 * rest before the next starts. Credit accrues at `share × cores` ms per ms
 * of wall time, capped at a window's worth, and a subtask may start while
 * the credit is not negative: over any long stretch the subtasks take at
 * most `maxShare` of the cores, however long each runs.
 */
export class DutyCycle implements SubtaskGate {
  private share: number
  private cores: number
  private readonly windowMs: number
  private credit = 0
  private at = Date.now()
  private running = 0
  private readonly waiting = new Set<() => void>()
  private timer?: ReturnType<typeof setTimeout>
  /** Wall ms the admitted subtasks ran, and since when: the share achieved. */
  private busyMs = 0
  private readonly since = Date.now()

  constructor (init: DutyCycleInit = {}) {
    this.share = clampShare(init.maxShare ?? 0.5)
    this.cores = Math.max(1, Math.floor(init.cores ?? 1))
    this.windowMs = init.windowMs ?? 10_000
  }

  /** Changes the share (a new `max-cpu`) and the cores; waiting subtasks are looked at again. */
  configure ({ maxShare, cores }: { maxShare?: number, cores?: number }): void {
    this.accrue()
    if (maxShare != null) this.share = clampShare(maxShare)
    if (cores != null) this.cores = Math.max(1, Math.floor(cores))
    this.wake()
  }

  /** Share of the cores' time the subtasks took since this gate was made. */
  get achieved (): number {
    const wall = (Date.now() - this.since) * this.cores
    return wall > 0 ? this.busyMs / wall : 0
  }

  async enter (signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted()
      this.accrue()
      if (this.credit >= 0 && this.running < this.cores) {
        this.running++
        return
      }
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          this.waiting.delete(done)
          signal.removeEventListener('abort', aborted)
          resolve()
        }
        const aborted = (): void => {
          this.waiting.delete(done)
          reject(signal.reason)
        }
        this.waiting.add(done)
        signal.addEventListener('abort', aborted, { once: true })
        this.schedule()
      })
    }
  }

  leave (ms: number): void {
    this.accrue()
    this.running = Math.max(0, this.running - 1)
    this.credit -= ms
    this.busyMs += ms
    this.wake()
  }

  private accrue (): void {
    const now = Date.now()
    this.credit = Math.min(this.windowMs * this.share * this.cores, this.credit + (now - this.at) * this.share * this.cores)
    this.at = now
  }

  /** Wakes the waiters when the credit is back to zero (or at once, for a free core with credit). */
  private schedule (): void {
    if (this.timer != null || this.waiting.size === 0) return
    const ms = this.credit >= 0 ? 0 : Math.ceil(-this.credit / (this.share * this.cores))
    if (this.running >= this.cores && this.credit >= 0) return // leave() wakes them
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.wake()
    }, ms)
  }

  private wake (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    for (const w of [...this.waiting]) w()
  }
}

function clampShare (share: number): number {
  if (!Number.isFinite(share)) return 0.5
  return Math.min(1, Math.max(0.01, share))
}
