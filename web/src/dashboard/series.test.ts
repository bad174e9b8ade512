import { describe, expect, it } from 'vitest'
import { chartData, CHARTS, formatValue, headline, linesOf } from './charts.ts'
import { EMPTY_SERIES, mergeSeries } from './series.ts'

describe('the dashboard page\'s copy of the series', () => {
  it('appends polled rows, pads columns that appear or go quiet, skips rows it holds and keeps the newest `capacity`', () => {
    let held = mergeSeries(EMPTY_SERIES, { t: [5, 10], series: { sessions: [0, 1] } }, 3)
    held = mergeSeries(held, { t: [10, 15], series: { sessions: [1, 2], 'refusals.banned': [4, 1] } }, 3)
    expect(held).toEqual({ t: [5, 10, 15], series: { sessions: [0, 1, 2], 'refusals.banned': [null, null, 1] } })
    held = mergeSeries(held, { t: [20], series: { sessions: [3] } }, 3)
    expect(held).toEqual({ t: [10, 15, 20], series: { sessions: [1, 2, 3], 'refusals.banned': [null, 1, null] } })
    expect(mergeSeries(held, { t: [], series: {} }, 3)).toBe(held)
  })

  it('draws per-kind lines from the columns present, gaps as 0 where a gap means none', () => {
    const refusals = CHARTS.find(c => c.id === 'refusals')!
    const state = { t: [5, 10], series: { 'refusals.invalid-proof': [null, 2], 'refusals.banned': [1, null], sessions: [1, 1] } }
    const lines = linesOf(refusals, state)
    expect(lines.map(l => l.label)).toEqual(['banned', 'invalid-proof'])
    expect(chartData(refusals, lines, state)).toEqual([[5, 10], [1, 0], [0, 2]])
    expect(headline(refusals, state)).toBe(2)
    const cpu = CHARTS.find(c => c.id === 'cpu')!
    expect(headline(cpu, { t: [5], series: { cpu: [0.25] } })).toBe(25)
    expect(headline(cpu, EMPTY_SERIES)).toBeNull()
  })

  it('formats values with their units', () => {
    expect(formatValue(1536, 'bytesPerSecond')).toBe('1.5 KiB/s')
    expect(formatValue(200 * 1024 * 1024, 'bytes')).toBe('200 MiB')
    expect(formatValue(0, 'bytes')).toBe('0 B')
    expect(formatValue(3, 'count')).toBe('3')
    expect(formatValue(0.125, 'perSecond')).toBe('0.13/s')
    expect(formatValue(null, 'ms')).toBe('—')
  })
})
