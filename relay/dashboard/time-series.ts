import { logger } from '@libp2p/logger'
import { DASHBOARD_PROBES } from './probes.ts'
import { TimeSeriesRing } from './time-series-ring.ts'
import type { Probe } from './probes.ts'
import type { SeriesWindow } from './time-series-ring.ts'
import type { Startable } from '@libp2p/interface'
import type { Registry } from 'prom-client'

export interface DashboardSeriesComponents {
  /** The registry `GET /metrics` exports: the relay's metrics, libp2p's and the process's. */
  registry: Registry
}

export interface DashboardSeriesInit {
  /** Milliseconds between samples. @default 5000 */
  interval?: number
  /** Samples kept. @default 720 (an hour at the default interval) */
  capacity?: number
  /** What each sample reads. @default DASHBOARD_PROBES */
  probes?: Probe[]
}

export interface DashboardSeries extends Startable {
  readonly interval: number
  readonly capacity: number
  /** Reads every probe now and appends one row stamped `at` (ms since the epoch). */
  sample: (at?: number) => Promise<void>
  /** Samples taken after `since` (seconds, as in `t`), oldest first. */
  window: (since?: number) => SeriesWindow
}

type Sample = Array<{ value: number, labels: Partial<Record<string, string | number>> }>

const log = logger('golem-clay:dashboard')

/**
 * The dashboard's memory: the last hour of the relay's figures, sampled
 * from the metrics registry on a timer into a ring. Counters become rates
 * (increase per second between two samples).
 */
export function dashboardSeries (components: DashboardSeriesComponents, init: DashboardSeriesInit = {}): DashboardSeries {
  const interval = init.interval ?? 5000
  const probes = init.probes ?? DASHBOARD_PROBES
  const ring = new TimeSeriesRing({ capacity: init.capacity ?? 720 })
  // a metric that sets others is read before them, each metric once a sample
  const names = [...new Set(probes.flatMap(p => p.collectVia != null ? [p.collectVia, p.metric] : [p.metric]))]
  let previous: { at: number, totals: Map<string, number> } | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let sampling = false

  async function read (): Promise<Map<string, Sample>> {
    const read = new Map<string, Sample>()
    for (const name of names) {
      const metric = components.registry.getSingleMetric(name)
      if (metric != null) read.set(name, (await metric.get()).values)
    }
    return read
  }

  async function sample (at = Date.now()): Promise<void> {
    const metrics = await read()
    const row: Record<string, number | null> = {}
    const totals = new Map<string, number>()
    for (const probe of probes) {
      const values = metrics.get(probe.metric)
      if (values == null) continue
      for (const [key, value] of columnsOf(probe, values)) {
        if (probe.rate !== true) {
          row[key] = round(value * (probe.scale ?? 1))
          continue
        }
        totals.set(key, value)
        const before = previous?.totals.get(key)
        const seconds = previous != null ? (at - previous.at) / 1000 : 0
        // the first sample has no rate yet; a counter that went back was reset
        const rate = before != null && seconds > 0 && value >= before ? round((value - before) / seconds * (probe.scale ?? 1)) : null
        // per-label columns (23 refusal kinds) are mostly quiet: no increase is a gap, which costs nothing to send
        row[key] = probe.by != null && rate === 0 ? null : rate
      }
    }
    previous = { at, totals }
    ring.push(at, row)
  }

  const tick = (): void => {
    if (sampling) return
    sampling = true
    sample().catch((err: Error) => { log.error('sample failed: %s', err.message) }).finally(() => { sampling = false })
  }

  return {
    interval,
    capacity: ring.capacity,
    sample,
    window: (since) => ring.window(since),
    start: () => {
      if (timer != null) return
      tick()
      timer = setInterval(tick, interval)
      // the relay exits on its own signals; the sampler never holds it up
      timer.unref()
    },
    stop: () => {
      clearInterval(timer)
      timer = undefined
    }
  }
}

/** The probe's column(s) from a metric's samples: one sum, or one per value of `by`. */
function columnsOf (probe: Probe, values: Sample): Map<string, number> {
  const columns = new Map<string, number>()
  if (probe.by == null) columns.set(probe.key, 0)
  for (const { value, labels } of values) {
    if (Object.entries(probe.labels ?? {}).some(([name, wanted]) => ![wanted].flat().includes(String(labels[name])))) continue
    const key = probe.by == null ? probe.key : `${probe.key}.${String(labels[probe.by])}`
    columns.set(key, (columns.get(key) ?? 0) + value)
  }
  return columns
}

/** Six significant digits: plenty for a plot, and a third of the JSON. */
function round (value: number): number {
  return Number(value.toPrecision(6))
}
