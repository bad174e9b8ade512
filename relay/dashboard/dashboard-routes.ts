import { CLIENT_VERSION } from '../../shared/version.ts'
import { peerTable, seedTable } from './peer-table.ts'
import type { PeerRow, SeedRow } from './peer-table.ts'
import type { DashboardSeries } from './time-series.ts'
import type { SeriesWindow } from './time-series-ring.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { HttpRoute } from '../http/http-server.ts'

export interface DashboardRoutesInit {
  series: DashboardSeries
  node: RelayNode
  /** When the relay started (ms since the epoch), for its uptime. */
  startedAt: number
}

/** `GET /dashboard/series`: what the dashboard page polls. */
export interface DashboardSnapshot extends SeriesWindow {
  version: string
  /** Seconds. */
  uptime: number
  /** Milliseconds between samples. */
  interval: number
  /** Samples the relay keeps. */
  capacity: number
  /** The caller sent the status token: `peers` and the seeds' identities are included. */
  operator: boolean
  seeds: SeedRow[]
  peers?: PeerRow[]
  /** Connected peers, also those past the listed ones. */
  peersTotal?: number
}

/**
 * The dashboard's JSON. `?since=<t>` returns only newer samples, so a page
 * that polls every interval receives a row, not the hour. Counts and plots
 * for everyone; who is connected only for a caller with the status token.
 */
export function dashboardRoutes (init: DashboardRoutesInit): HttpRoute[] {
  return [{
    path: '/dashboard/series',
    json: ({ operator, query }): DashboardSnapshot => {
      const since = Number(query.get('since') ?? undefined)
      const table = operator ? peerTable(init.node) : undefined
      return {
        version: CLIENT_VERSION,
        uptime: Math.round((Date.now() - init.startedAt) / 1000),
        interval: init.series.interval,
        capacity: init.series.capacity,
        operator,
        ...init.series.window(Number.isFinite(since) ? since : undefined),
        seeds: seedTable(init.node, operator),
        ...(table != null ? { peers: table.peers, peersTotal: table.total } : {})
      }
    }
  }]
}
