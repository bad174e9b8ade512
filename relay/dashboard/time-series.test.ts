import { Counter, Gauge, Registry } from 'prom-client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { dashboardSeries } from './time-series.ts'
import { TimeSeriesRing } from './time-series-ring.ts'
import type { Probe } from './probes.ts'

afterEach(() => { vi.useRealTimers() })

describe('TimeSeriesRing', () => {
  it('keeps the newest rows in order once it wraps, and answers only rows after `since`', () => {
    const ring = new TimeSeriesRing({ capacity: 3 })
    for (let i = 1; i <= 5; i++) ring.push(i * 5000, { n: i })
    expect(ring.size).toBe(3)
    expect(ring.window()).toEqual({ t: [15, 20, 25], series: { n: [3, 4, 5] } })
    expect(ring.window(20)).toEqual({ t: [25], series: { n: [5] } })
    expect(ring.window(25)).toEqual({ t: [], series: {} })
  })

  it('reads a column that appears late, or misses a row, as null; a column with nothing in the window is left out', () => {
    const ring = new TimeSeriesRing({ capacity: 4 })
    ring.push(1000, { a: 1 })
    ring.push(2000, { a: 2, b: 7 })
    ring.push(3000, { a: null, b: Number.NaN })
    expect(ring.window()).toEqual({ t: [1, 2, 3], series: { a: [1, 2, null], b: [null, 7, null] } })
    expect(ring.window(2)).toEqual({ t: [3], series: {} })
    // b's one value is overwritten: after wrapping it is all gaps, so it goes from the window
    for (const at of [4000, 5000, 6000]) ring.push(at, { a: at / 1000 })
    expect(ring.window()).toEqual({ t: [3, 4, 5, 6], series: { a: [null, 4, 5, 6] } })
  })

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new TimeSeriesRing({ capacity: 0 })).toThrow(RangeError)
    expect(() => new TimeSeriesRing({ capacity: 2.5 })).toThrow(RangeError)
  })
})

describe('dashboardSeries', () => {
  /** A registry with metrics shaped like the relay's, and handles to move them. */
  function fixture (): { registry: Registry, sessions: Gauge, connections: Gauge<'transport'>, refusals: Counter<'kind'>, bytes: Counter<'protocol'> } {
    const registry = new Registry()
    const sessions = new Gauge({ name: 'sessions', help: 'h', registers: [registry] })
    const connections = new Gauge({ name: 'connections', help: 'h', labelNames: ['transport'], registers: [registry] })
    const refusals = new Counter({ name: 'refusals_total', help: 'h', labelNames: ['kind'], registers: [registry] })
    const bytes = new Counter({ name: 'bytes_total', help: 'h', labelNames: ['protocol'], registers: [registry] })
    return { registry, sessions, connections, refusals, bytes }
  }
  const probes: Probe[] = [
    { key: 'sessions', metric: 'sessions' },
    { key: 'tabs', metric: 'connections', labels: { transport: 'websocket' } },
    { key: 'connections', metric: 'connections' },
    { key: 'bytesIn', metric: 'bytes_total', labels: { protocol: 'global received' }, rate: true },
    { key: 'refusals', metric: 'refusals_total', by: 'kind', rate: true },
    { key: 'either', metric: 'bytes_total', labels: { protocol: ['global received', 'global sent'] } },
    { key: 'absent', metric: 'not_registered' }
  ]

  it('samples gauges as read, sums labels, turns counters into rates per second and keeps the last `capacity` samples', async () => {
    const m = fixture()
    const series = dashboardSeries({ registry: m.registry }, { probes, capacity: 3 })
    m.sessions.set(1)
    m.connections.set({ transport: 'websocket' }, 2)
    m.connections.set({ transport: 'tcp' }, 1)
    m.bytes.inc({ protocol: 'global received' }, 1000)
    m.bytes.inc({ protocol: 'global sent' }, 99)
    m.refusals.inc({ kind: 'invalid-proof' }, 0)
    await series.sample(10_000)

    m.sessions.set(2)
    m.bytes.inc({ protocol: 'global received' }, 5000)
    m.refusals.inc({ kind: 'invalid-proof' }, 10)
    await series.sample(15_000)

    m.bytes.inc({ protocol: 'global received' }, 2500)
    await series.sample(20_000)
    expect(series.window()).toEqual({
      t: [10, 15, 20],
      series: {
        sessions: [1, 2, 2],
        tabs: [2, 2, 2],
        connections: [3, 3, 3],
        // the first sample has no rate; then 5000 B over 5 s, 2500 B over 5 s
        bytesIn: [null, 1000, 500],
        // a list of label values: their sum, read as it is without `rate`
        either: [1099, 6099, 8599],
        // a kind that did not grow is a gap
        'refusals.invalid-proof': [null, 2, null]
      }
    })

    // a counter that goes back (the registry was rebuilt) gives no rate rather than a negative one
    m.bytes.reset()
    await series.sample(25_000)
    expect(series.window(20)).toEqual({ t: [25], series: { sessions: [2], tabs: [2], connections: [3], either: [0] } })
    expect(series.window().t).toEqual([15, 20, 25])
  })

  it('samples on its timer from start() and clears the timer on stop()', async () => {
    vi.useFakeTimers({ now: 100_000 })
    const m = fixture()
    const series = dashboardSeries({ registry: m.registry }, { probes, interval: 5000 })
    series.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(series.window().t).toEqual([100])
    m.sessions.set(4)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(series.window().t).toEqual([100, 105, 110])
    expect(series.window().series.sessions).toEqual([0, 4, 4])

    series.stop()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(series.window().t).toEqual([100, 105, 110])
  })

  it('reads the default probes from a registry without every metric (gaps, no errors)', async () => {
    const registry = new Registry()
    new Gauge({ name: 'golem_clay_sessions', help: 'h', registers: [registry] }).set(3)
    const series = dashboardSeries({ registry })
    expect(series.interval).toBe(5000)
    expect(series.capacity).toBe(720)
    await series.sample(5000)
    expect(series.window()).toEqual({ t: [5], series: { sessions: [3] } })
  })
})
