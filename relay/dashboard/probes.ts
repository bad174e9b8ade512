/**
 * What the dashboard plots, each read from a metric that `GET /metrics`
 * exports (relay/metrics, @libp2p/prometheus-metrics, prom-client's process
 * metrics): one source of truth, nothing counted twice.
 */
export interface Probe {
  /** Column name; with `by`, the prefix of one column per label value (`refusals.invalid-proof`). */
  key: string
  /** Metric in the registry. */
  metric: string
  /** Only samples with these labels (one of the values, for a list) count; they are summed. @default every sample */
  labels?: Record<string, string | string[]>
  /** One column per value of this label instead of one sum; with `rate`, no increase is a gap (read it as 0). */
  by?: string
  /** A counter: the column is its increase per second since the previous sample. @default false (a gauge, as read) */
  rate?: boolean
  /** Multiplies the value, e.g. 1000 for seconds shown as ms. @default 1 */
  scale?: number
  /**
   * A metric to read first because its `collect` sets this one's value
   * (prom-client updates its CPU and event loop family from one member).
   */
  collectVia?: string
}

export const DASHBOARD_PROBES: Probe[] = [
  { key: 'sessions', metric: 'golem_clay_sessions' },
  // a tab reaches a relay over WebSockets only; Node peers and relays dial TCP
  { key: 'tabs', metric: 'golem_clay_connections', labels: { transport: 'websocket', direction: 'inbound' } },
  { key: 'connections', metric: 'golem_clay_connections' },
  // every byte on every connection, counted by libp2p as it passes ("global"), per second
  { key: 'bytesIn', metric: 'libp2p_data_transfer_bytes_total', labels: { protocol: 'global received' }, rate: true },
  { key: 'bytesOut', metric: 'libp2p_data_transfer_bytes_total', labels: { protocol: 'global sent' }, rate: true },
  // relayed for others (circuit relay v2): each byte once, as it enters on the hop or the stop stream
  { key: 'bytesRelayed', metric: 'libp2p_data_transfer_bytes_total', labels: { protocol: ['/libp2p/circuit/relay/0.2.0/hop received', '/libp2p/circuit/relay/0.2.0/stop received'] }, rate: true },
  { key: 'handshakeRate', metric: 'golem_clay_handshake_rate' },
  { key: 'difficulty', metric: 'golem_clay_session_difficulty_bits' },
  { key: 'handshakesInProgress', metric: 'golem_clay_handshakes_in_progress' },
  { key: 'refusals', metric: 'golem_clay_session_refusals_total', by: 'kind', rate: true },
  { key: 'reservations', metric: 'golem_clay_reservations' },
  // what counts against the quota (replicas and uploads in progress too), and the objects uploaded here
  { key: 'storageUsed', metric: 'golem_clay_storage_used_bytes' },
  { key: 'storageBytes', metric: 'golem_clay_storage_bytes' },
  { key: 'storageQuota', metric: 'golem_clay_storage_quota_bytes' },
  // CPU seconds per second: 1 = one core busy
  { key: 'cpu', metric: 'process_cpu_seconds_total', rate: true, collectVia: 'process_cpu_user_seconds_total' },
  { key: 'rss', metric: 'nodejs_memory_usage_bytes', labels: { memory: 'rss' } },
  { key: 'heapUsed', metric: 'nodejs_memory_usage_bytes', labels: { memory: 'heapUsed' } },
  // prom-client's lag figures cover the time since the family was last read (then its histogram
  // restarts): here the last 5 s; a Prometheus scrape in between shortens that window for both
  { key: 'lagP50', metric: 'nodejs_eventloop_lag_p50_seconds', scale: 1000, collectVia: 'nodejs_eventloop_lag_seconds' },
  { key: 'lagP99', metric: 'nodejs_eventloop_lag_p99_seconds', scale: 1000, collectVia: 'nodejs_eventloop_lag_seconds' },
  { key: 'lagMax', metric: 'nodejs_eventloop_lag_max_seconds', scale: 1000, collectVia: 'nodejs_eventloop_lag_seconds' }
]
