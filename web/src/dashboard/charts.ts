import type { SeriesState } from './series.ts'

export type Unit = 'count' | 'perSecond' | 'bytes' | 'bytesPerSecond' | 'percent' | 'ms' | 'bits'

export interface LineSpec {
  /** Column of the relay's series. */
  key: string
  label: string
  /** Drawn against the right-hand axis. */
  right?: boolean
}

export interface ChartSpec {
  id: string
  title: string
  unit: Unit
  lines: LineSpec[]
  /** Lines found in the data: one per column starting `<prefix>.` (refusals by kind). */
  linesFrom?: string
  /** The right-hand axis' unit, for lines with `right`. */
  rightUnit?: Unit
  /** Multiplies every value before drawing (CPU seconds per second → %). @default 1 */
  scale?: number
  /** A gap means nothing happened: drawn as 0. */
  gapsAreZero?: boolean
}

/** What the dashboard draws, from the columns relay/dashboard/probes.ts samples. */
export const CHARTS: ChartSpec[] = [
  { id: 'sessions', title: 'Sessions and tabs', unit: 'count', lines: [{ key: 'sessions', label: 'Sessions' }, { key: 'tabs', label: 'Tabs' }, { key: 'connections', label: 'Connections' }] },
  { id: 'bandwidth', title: 'Bandwidth', unit: 'bytesPerSecond', lines: [{ key: 'bytesIn', label: 'In' }, { key: 'bytesOut', label: 'Out' }, { key: 'bytesRelayed', label: 'Relayed' }] },
  { id: 'handshakes', title: 'Handshakes and difficulty', unit: 'perSecond', rightUnit: 'bits', lines: [{ key: 'handshakeRate', label: 'Attempts' }, { key: 'difficulty', label: 'Difficulty', right: true }] },
  { id: 'refusals', title: 'Refusals by kind', unit: 'perSecond', lines: [], linesFrom: 'refusals', gapsAreZero: true },
  { id: 'reservations', title: 'Reservations', unit: 'count', lines: [{ key: 'reservations', label: 'Reservations' }] },
  { id: 'storage', title: 'Storage', unit: 'bytes', lines: [{ key: 'storageUsed', label: 'Against the quota' }, { key: 'storageBytes', label: 'Uploaded here' }] },
  { id: 'cpu', title: 'CPU (one core = 100 %)', unit: 'percent', scale: 100, lines: [{ key: 'cpu', label: 'Relay process' }] },
  { id: 'memory', title: 'Memory', unit: 'bytes', lines: [{ key: 'rss', label: 'Resident' }, { key: 'heapUsed', label: 'Heap used' }] },
  { id: 'lag', title: 'Event loop lag', unit: 'ms', lines: [{ key: 'lagP50', label: 'Median' }, { key: 'lagP99', label: 'p99' }, { key: 'lagMax', label: 'Max' }] }
]

/** The chart's lines now: the fixed ones, or one per column under `linesFrom` (sorted, stable colours). */
export function linesOf (chart: ChartSpec, state: SeriesState): LineSpec[] {
  if (chart.linesFrom == null) return chart.lines
  const prefix = `${chart.linesFrom}.`
  return Object.keys(state.series).filter(k => k.startsWith(prefix)).sort().map(key => ({ key, label: key.slice(prefix.length) }))
}

/** uPlot's data for a chart: times, then one array per line. */
export function chartData (chart: ChartSpec, lines: LineSpec[], state: SeriesState): [number[], ...Array<Array<number | null>>] {
  const scale = chart.scale ?? 1
  return [state.t, ...lines.map(line => {
    const column = state.series[line.key] ?? state.t.map(() => null)
    return column.map(v => v == null ? (chart.gapsAreZero === true ? 0 : null) : v * scale)
  })]
}

/** The figure shown big above a chart: the latest value of its first line that has one, or the sum of per-kind lines. */
export function headline (chart: ChartSpec, state: SeriesState): number | null {
  const lines = linesOf(chart, state)
  if (state.t.length === 0) return null
  const last = (key: string): number | null => state.series[key]?.at(-1) ?? null
  if (chart.linesFrom != null) return lines.reduce((sum, line) => sum + (last(line.key) ?? 0), 0)
  const first = lines.map(line => last(line.key)).find(v => v != null)
  return first == null ? null : first * (chart.scale ?? 1)
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

function bytes (value: number): string {
  let v = value
  let i = 0
  while (Math.abs(v) >= 1024 && i < BYTE_UNITS.length - 1) { v /= 1024; i++ }
  return `${i > 0 && Math.abs(v) < 10 ? v.toFixed(1) : Math.round(v)} ${BYTE_UNITS[i]}`
}

function number (value: number): string {
  if (Number.isInteger(value)) return String(value)
  return Math.abs(value) >= 100 ? String(Math.round(value)) : Math.abs(value) >= 1 ? value.toFixed(1) : value.toFixed(2)
}

/** A value with its unit, for axes, legends and headlines. */
export function formatValue (value: number | null | undefined, unit: Unit): string {
  if (value == null || !Number.isFinite(value)) return '—'
  switch (unit) {
    case 'bytes': return bytes(value)
    case 'bytesPerSecond': return `${bytes(value)}/s`
    case 'perSecond': return `${number(value)}/s`
    case 'percent': return `${number(value)} %`
    case 'ms': return `${number(value)} ms`
    case 'bits': return `${number(value)} bits`
    default: return number(value)
  }
}

/** A duration in seconds as people say it: 42 s, 5 min, 3 h 20 min, 2 d 4 h. */
export function formatDuration (seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ${Math.floor(seconds % 3600 / 60)} min`
  return `${Math.floor(seconds / 86_400)} d ${Math.floor(seconds % 86_400 / 3600)} h`
}
