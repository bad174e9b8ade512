export interface TimeSeriesRingInit {
  /** Rows kept; the oldest goes when a row is pushed past it. @default 720 (an hour at 5 s) */
  capacity?: number
}

/** Rows of a ring as columns, oldest first: the shape uPlot draws. */
export interface SeriesWindow {
  /** Sample times, seconds since the epoch (uPlot's x values). */
  t: number[]
  /** One array per column, aligned with `t`; null where the column had no value. */
  series: Record<string, Array<number | null>>
}

/**
 * A fixed number of timestamped rows in typed arrays, overwritten in a
 * circle: memory stays the same however long the relay runs. Columns may
 * appear late (a refusal kind seen for the first time); their earlier rows
 * read as null.
 */
export class TimeSeriesRing {
  readonly capacity: number
  private readonly times: Float64Array
  private readonly columns = new Map<string, Float64Array>()
  /** Windows read since the last push: the public endpoint may be asked often, the rows change every interval. */
  private readonly windows = new Map<number, SeriesWindow>()
  /** Index of the oldest row. */
  private head = 0
  private count = 0

  constructor (init: TimeSeriesRingInit = {}) {
    const capacity = init.capacity ?? 720
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    this.capacity = capacity
    this.times = new Float64Array(capacity)
  }

  /** Rows held now (at most `capacity`). */
  get size (): number {
    return this.count
  }

  /** Appends a row taken at `at` (ms since the epoch); missing or non-finite values are stored as gaps. */
  push (at: number, values: Record<string, number | null | undefined>): void {
    this.windows.clear()
    const slot = (this.head + this.count) % this.capacity
    if (this.count === this.capacity) this.head = (this.head + 1) % this.capacity
    else this.count++
    this.times[slot] = at
    for (const [key, value] of Object.entries(values)) {
      if (value != null && Number.isFinite(value) && !this.columns.has(key)) this.columns.set(key, new Float64Array(this.capacity).fill(NaN))
    }
    for (const [key, column] of this.columns) {
      const value = values[key]
      column[slot] = value != null && Number.isFinite(value) ? value : NaN
    }
  }

  /** Rows taken after `since` (seconds, as in `t`), oldest first; every row when absent. */
  window (since = -Infinity): SeriesWindow {
    const cached = this.windows.get(since)
    if (cached != null) return cached
    const read = this.read(since)
    if (this.windows.size >= 16) this.windows.clear()
    this.windows.set(since, read)
    return read
  }

  private read (since: number): SeriesWindow {
    const rows: number[] = []
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.capacity
      if (this.timeAt(slot) / 1000 > since) rows.push(slot)
    }
    const series: Record<string, Array<number | null>> = {}
    for (const [key, column] of this.columns) {
      const values = rows.map(slot => {
        const value = column[slot] ?? NaN
        return Number.isNaN(value) ? null : value
      })
      // a column with nothing in this window is left out; the reader fills gaps
      if (values.some(v => v != null)) series[key] = values
    }
    return { t: rows.map(slot => this.timeAt(slot) / 1000), series }
  }

  private timeAt (slot: number): number {
    return this.times[slot] ?? NaN
  }
}
