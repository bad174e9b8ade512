/** Where a transfer is; the page's progress bar and the CLI read these. */
export type TransferPhase = 'hashing' | 'connecting' | 'uploading' | 'downloading' | 'verifying' | 'retrying' | 'done'

export interface TransferProgress {
  op: 'put' | 'get'
  phase: TransferPhase
  /** Bytes moved (for `hashing`: bytes hashed). */
  bytes: number
  total: number
  /** Bytes per second over the last few seconds. */
  rate: number
  /** Expected time to finish at the current rate, ms (undefined until there is a rate). */
  etaMs?: number
  /** The relay in use (peer ID). */
  relay?: string
  /** Attempt number, from 1; above 1 after a resume or a fallback to a replica. */
  attempt: number
  /** Why we are retrying, in `retrying`. */
  reason?: string
}

export type ProgressHandler = (progress: TransferProgress) => void

/** How often progress is reported at most, ms. */
const REPORT_INTERVAL = 100
/** The rate is measured over this window, ms. */
const RATE_WINDOW = 3_000

/**
 * Turns byte counts into throttled progress reports with a sliding-window
 * rate and an ETA.
 */
export class ProgressMeter {
  private readonly samples: Array<{ at: number, bytes: number }> = []
  private lastReport = 0
  private state: TransferProgress

  constructor (op: TransferProgress['op'], total: number, private readonly onProgress?: ProgressHandler) {
    this.state = { op, phase: 'connecting', bytes: 0, total, rate: 0, attempt: 1 }
  }

  get current (): TransferProgress {
    return { ...this.state }
  }

  /** A new phase is always reported, unthrottled. */
  phase (phase: TransferPhase, extra: Partial<TransferProgress> = {}): void {
    if (phase !== this.state.phase) this.samples.length = 0
    this.state = { ...this.state, ...extra, phase }
    this.report(true)
  }

  update (bytes: number, force = false): void {
    const now = performance.now()
    this.state.bytes = bytes
    this.samples.push({ at: now, bytes })
    while (this.samples.length > 2 && now - (this.samples[1] as { at: number }).at > RATE_WINDOW) this.samples.shift()
    const first = this.samples[0] as { at: number, bytes: number }
    const span = now - first.at
    if (span > 0) this.state.rate = Math.round((bytes - first.bytes) * 1000 / span)
    this.state.etaMs = this.state.rate > 0 ? Math.round((this.state.total - bytes) * 1000 / this.state.rate) : undefined
    this.report(force || bytes >= this.state.total)
  }

  private report (force: boolean): void {
    const now = performance.now()
    if (!force && now - this.lastReport < REPORT_INTERVAL) return
    this.lastReport = now
    try {
      this.onProgress?.({ ...this.state })
    } catch {}
  }
}
