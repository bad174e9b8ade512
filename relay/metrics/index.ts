export { createRelayMetrics } from './relay-metrics.ts'
export type { RelayMetrics, RelayMetricsInit } from './relay-metrics.ts'
export { startMetricsServer } from './metrics-server.ts'
export type { MetricsServer, MetricsServerInit } from './metrics-server.ts'
