/**
 * What `GET /dashboard/series` answers (relay/dashboard/dashboard-routes.ts,
 * DashboardSnapshot); the page and the relay share code only through
 * shared/, so the shape is written out again here.
 */
export interface DashboardSnapshot {
  version: string
  uptime: number
  interval: number
  capacity: number
  operator: boolean
  /** Sample times, seconds since the epoch. */
  t: number[]
  series: Record<string, Array<number | null>>
  seeds: Array<{ state: string, failures: number, peerId?: string, addr?: string, rtt?: number }>
  peers?: PeerRow[]
  peersTotal?: number
}

export interface PeerRow {
  peerId: string
  roles: string[]
  kinds: string[]
  connections: number
  address: string
  since?: number
  difficulty?: number
  clientVersion?: string
}

/** The page's copy of the relay's ring: columns aligned with `t`, oldest first. */
export interface SeriesState {
  t: number[]
  series: Record<string, Array<number | null>>
}

export const EMPTY_SERIES: SeriesState = { t: [], series: {} }

/**
 * Appends the rows of a poll (`?since=` the last `t` held) and keeps the
 * newest `capacity`. A column absent from the poll had no value in it; one
 * new to the page had none before it.
 */
export function mergeSeries (held: SeriesState, polled: Pick<DashboardSnapshot, 't' | 'series'>, capacity: number): SeriesState {
  if (polled.t.length === 0) return held
  const last = held.t.at(-1) ?? -Infinity
  // rows the page already holds (a poll that raced another) are skipped
  const fresh = polled.t.map((t, i) => [t, i] as const).filter(([t]) => t > last)
  const t = [...held.t, ...fresh.map(([time]) => time)]
  const drop = Math.max(0, t.length - capacity)
  const series: SeriesState['series'] = {}
  for (const key of new Set([...Object.keys(held.series), ...Object.keys(polled.series)])) {
    const before = held.series[key] ?? held.t.map(() => null)
    const added = fresh.map(([, i]) => polled.series[key]?.[i] ?? null)
    series[key] = [...before, ...added].slice(drop)
  }
  return { t: t.slice(drop), series }
}

/** The last value of a column, or null when it has none yet. */
export function latest (state: SeriesState, key: string): number | null {
  return state.series[key]?.at(-1) ?? null
}
