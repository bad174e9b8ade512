import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidConfigError } from '../../shared/errors.ts'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Registry } from 'prom-client'
import { startHttpServer } from '../http/http-server.ts'
import { createRelayMetrics, startMetricsServer } from '../metrics/index.ts'
import { relayStatus } from '../http/status.ts'
import { loadOrCreateKey } from '../identity/key-file.ts'
import { fileKeeperStore } from '../peer-keeper/file-keeper-store.ts'
import { createRelayNode } from './create-relay-node.ts'
import type { RelayConfig } from '../config/relay-config.ts'
import type { HttpServer } from '../http/http-server.ts'
import type { MetricsServer } from '../metrics/index.ts'
import type { RelayNode } from './create-relay-node.ts'

export interface RelayGateway {
  node: RelayNode
  http: HttpServer
  /** `GET /metrics`, when the configuration asks for it. */
  metrics?: MetricsServer
  keyCreated: boolean
  stop: () => Promise<void>
}

/** A port we were told to use is taken; says which flag sets it. */
export class PortInUseError extends InvalidConfigError { override name = 'PortInUseError'; override readonly code = 'PORT_IN_USE' }

/** Starts the relay node and its HTTP server from one configuration. */
export async function startRelayGateway (config: RelayConfig): Promise<RelayGateway> {
  await mkdir(config.dataDir, { recursive: true })
  const { key, created } = await loadOrCreateKey(config.dataDir)
  // libp2p's own metrics (connections, streams, protocols, process) and ours share one registry
  const registry = config.metrics != null ? new Registry() : undefined
  const node = await createRelayNode({
    ...(registry != null ? { metrics: prometheusMetrics({ registry, preserveExistingMetrics: true }) } : {}),
    privateKey: key,
    host: config.host,
    tcpPort: config.tcpPort,
    wsPort: config.wsPort,
    announce: config.announce,
    seeds: config.seeds,
    keeperStore: fileKeeperStore(join(config.dataDir, 'peers.json')),
    maxConnections: config.maxConnections,
    maxPendingConnections: config.maxPendingConnections,
    maxReservations: config.maxReservations,
    reservationTtl: config.reservationTtl,
    perAddress: config.perAddress,
    trustedProxies: config.trustedProxies,
    relayDataLimit: config.relayDataLimit,
    relayDurationLimit: config.relayDurationLimit,
    session: config.session,
    storage: config.storage
  })
  const startedAt = Date.now()
  try {
    await node.start()
  } catch (err: any) {
    await Promise.resolve(node.stop()).catch(() => {})
    throw explainListenError(err, config)
  }
  let http: HttpServer
  try {
    http = await startHttpServer({
      host: config.host,
      port: config.httpPort,
      webRoot: config.webRoot,
      status: (detailed) => relayStatus(node, startedAt, detailed),
      statusToken: config.statusToken,
      healthy: () => node.status === 'started'
    })
  } catch (err: any) {
    await Promise.resolve(node.stop()).catch(() => {})
    throw explainListenError(err, config)
  }
  let metrics: MetricsServer | undefined
  if (config.metrics != null && registry != null) {
    try {
      metrics = await startMetricsServer(createRelayMetrics(node, { registry, processMetrics: false }), config.metrics)
    } catch (err: any) {
      await http.close()
      await Promise.resolve(node.stop()).catch(() => {})
      throw explainListenError(err, config)
    }
  }
  return {
    node,
    http,
    ...(metrics != null ? { metrics } : {}),
    keyCreated: created,
    stop: async () => {
      await metrics?.close()
      await http.close()
      await node.stop()
    }
  }
}

function explainListenError (err: any, config: RelayConfig): Error {
  const text = `${String(err?.message)} ${String(err?.cause?.message ?? '')} ${(err?.errors ?? []).map((e: any) => String(e?.message)).join(' ')}`
  const match = /EADDRINUSE[^\d]*(?:[\d.:[\]a-f]*:)?(\d+)/i.exec(text)
  if (match == null) {
    if (/EADDRNOTAVAIL/.test(text)) return new InvalidConfigError(`Cannot listen on ${config.host}: no such local address (--host / GOLEM_CLAY_HOST)`)
    if (/EACCES/.test(text)) return new InvalidConfigError(`Not allowed to listen on a port below 1024 as this user: ${text.trim()}`)
    return err
  }
  const port = Number(match[1])
  const flag = port === config.metrics?.port ? '--metrics-listen / GOLEM_CLAY_METRICS_LISTEN' : port === config.httpPort ? '--http-port / GOLEM_CLAY_HTTP_PORT' : port === config.wsPort ? '--ws-port / GOLEM_CLAY_WS_PORT' : port === config.tcpPort ? '--tcp-port / GOLEM_CLAY_TCP_PORT' : 'the port flags'
  return new PortInUseError(`Port ${port} is already in use; stop the other program or choose another port (${flag})`)
}
