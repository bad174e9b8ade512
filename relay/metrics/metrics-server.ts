import { createServer } from 'node:http'
import type { RelayMetrics } from './relay-metrics.ts'
import type { AddressInfo } from 'node:net'

export interface MetricsServerInit {
  /** @default '127.0.0.1': metrics say a lot about a relay, so they are not public unless asked */
  host?: string
  /** 0 = any free port. @default 9464 */
  port?: number
}

export interface MetricsServer {
  /** `http://host:port/metrics` as bound. */
  url: string
  close: () => Promise<void>
}

/**
 * `GET /metrics` in Prometheus' text format on an address of its own, apart
 * from the public page and /status.
 */
export async function startMetricsServer (metrics: RelayMetrics, init: MetricsServerInit = {}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: the metrics are at /metrics\n')
      return
    }
    metrics.scrape().then(text => {
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' }).end(text)
    }, (err: Error) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`Could not collect metrics: ${err.message}\n`)
    })
  })
  const host = init.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(init.port ?? 9464, host, () => { server.off('error', reject); resolve() })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
}
