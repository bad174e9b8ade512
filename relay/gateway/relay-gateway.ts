import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidConfigError } from '../../shared/errors.ts'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Registry } from 'prom-client'
import { startHttpServer } from '../http/http-server.ts'
import { createRelayMetrics, startMetricsServer } from '../metrics/index.ts'
import { dashboardRoutes, dashboardSeries } from '../dashboard/index.ts'
import { widgetRoutes } from '../widget/index.ts'
import { relayStatus } from '../http/status.ts'
import { loadOrCreateKey } from '../identity/key-file.ts'
import { loadPaymentKey } from '../identity/payment-key-file.ts'
import { fileKeeperStore } from '../peer-keeper/file-keeper-store.ts'
import { tlsFiles } from '../tls/index.ts'
import { chainHttpHandler } from '../chain/chain-http.ts'
import { createRelayNode } from './create-relay-node.ts'
import type { RelayConfig } from '../config/relay-config.ts'
import type { ChainLog, RelayChain } from '../chain/relay-chain.ts'
import type { HttpServer } from '../http/http-server.ts'
import type { MetricsServer } from '../metrics/index.ts'
import type { TlsFiles } from '../tls/index.ts'
import type { RelayLimits } from './relay-limits.ts'
import type { RelayNode } from './create-relay-node.ts'
import type { Connection } from '@libp2p/interface'

export interface RelayGateway {
  node: RelayNode
  http: HttpServer
  /** `GET /metrics`, when the configuration asks for it. */
  metrics?: MetricsServer
  /** The payments chain (`--chain`), started before the node and stopped after it. */
  chain?: RelayChain
  keyCreated: boolean
  /** The payment key was made on this start (a new payment account). */
  paymentKeyCreated: boolean
  /** The certificate and key in use, when the relay serves TLS itself. */
  tls?: TlsFiles
  /**
   * SIGHUP: applies the limits of `next` (the configuration read again) and
   * reloads the TLS files; returns the options that changed but only take
   * effect on a restart.
   */
  reload: (next: RelayConfig) => Promise<{ restartNeeded: string[] }>
  /**
   * Before stop(): tells every peer the relay is shutting down, refuses new
   * handshakes and reports unhealthy, then waits (at most `timeoutMs`) for
   * the peers to close their links; `left` counts connections still open.
   */
  drain: (timeoutMs: number) => Promise<DrainResult>
  stop: () => Promise<void>
}

export interface DrainResult {
  /** Sessions told to leave. */
  sessions: number
  /** Inbound links of the peers told to leave still open when the drain ended, and from where. */
  left: number
  leftOpen?: string[]
  waitedMs: number
}

/** A port we were told to use is taken; says which flag sets it. */
export class PortInUseError extends InvalidConfigError { override name = 'PortInUseError'; override readonly code = 'PORT_IN_USE' }

/** Starts the relay node and its HTTP server from one configuration. */
export async function startRelayGateway (config: RelayConfig, components: { log?: ChainLog } = {}): Promise<RelayGateway> {
  await mkdir(config.dataDir, { recursive: true })
  const { key, created } = await loadOrCreateKey(config.dataDir)
  const payment = await loadPaymentKey({ file: config.paymentKeyFile, dataDir: config.dataDir })
  const tls = config.tls != null ? tlsFiles(config.tls) : undefined
  await tls?.load()
  // loaded only when asked for: a relay without a chain runs without the contracts' build
  const chain = config.chain.mode === 'off' ? undefined : (await import('../chain/create-relay-chain.ts')).createRelayChain(config.chain, components, payment?.key)
  await chain?.start()
  // libp2p's own metrics (connections, streams, protocols, process) and ours share one registry,
  // there with /metrics off too: the dashboard samples it
  const registry = new Registry()
  const node = await createRelayNode({
    metrics: prometheusMetrics({ registry, preserveExistingMetrics: true }),
    privateKey: key,
    paymentKey: payment?.key,
    host: config.host,
    tcpPort: config.tcpPort,
    wsPort: config.wsPort,
    ...(tls != null && config.tls != null ? { tls: { port: config.tls.wssPort, options: tls.options, serve: (server) => { tls.serve(server) } } } : {}),
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
    storage: config.storage,
    ...(chain != null ? { chain } : {})
  })
  const startedAt = Date.now()
  try {
    await node.start()
  } catch (err: any) {
    await Promise.resolve(node.stop()).catch(() => {})
    await chain?.stop()
    throw explainListenError(err, config)
  }
  const relayMetrics = createRelayMetrics(node, { registry, processMetrics: false })
  const series = dashboardSeries({ registry })
  let http: HttpServer
  try {
    http = await startHttpServer({
      host: config.host,
      port: config.httpPort,
      webRoot: config.webRoot,
      status: (detailed) => relayStatus(node, startedAt, detailed),
      statusToken: config.statusToken,
      ...(tls != null ? { tls: { options: tls.options, serve: (server) => { tls.serve(server) } } } : {}),
      // unhealthy while draining, so a load balancer sends nobody new
      healthy: () => node.status === 'started' && !node.services.sessions.draining,
      routes: [...dashboardRoutes({ series, node, startedAt }), ...widgetRoutes(node.services.widgets)],
      handlers: [chainHttpHandler({ chain }, { trustedProxies: config.trustedProxies })]
    })
  } catch (err: any) {
    await Promise.resolve(node.stop()).catch(() => {})
    await chain?.stop()
    throw explainListenError(err, config)
  }
  let metrics: MetricsServer | undefined
  if (config.metrics != null) {
    try {
      metrics = await startMetricsServer(relayMetrics, config.metrics)
    } catch (err: any) {
      await http.close()
      await Promise.resolve(node.stop()).catch(() => {})
    await chain?.stop()
      throw explainListenError(err, config)
    }
  }
  tls?.start()
  series.start()
  return {
    node,
    http,
    ...(metrics != null ? { metrics } : {}),
    ...(chain != null ? { chain } : {}),
    ...(tls != null ? { tls } : {}),
    keyCreated: created,
    paymentKeyCreated: payment?.created ?? false,
    drain: async (timeoutMs) => await drainSessions(node, timeoutMs),
    reload: async (next) => {
      node.services.limits.apply(limitsOf(next))
      await tls?.reload('SIGHUP')
      return { restartNeeded: restartOnly(config, next) }
    },
    stop: async () => {
      series.stop()
      tls?.stop()
      await metrics?.close()
      await http.close()
      await node.stop()
      // after the relay: a last snapshot of the chain as it stops
      await chain?.stop()
    }
  }
}

/**
 * Goodbye to everyone, then wait until the peers have closed their links
 * (they do once told) or time runs out. Only the inbound links that carried
 * a session count: the relay's own dials (DHT, probes) end with stop(), and
 * new connections are refused while draining (the connection gater).
 */
async function drainSessions (node: RelayNode, timeoutMs: number): Promise<DrainResult> {
  const started = Date.now()
  const held = node.services.sessions.list()
  // the links of the peers told goodbye; one without a session (a handshake under way, a socket its
  // peer forgot) has no one to move elsewhere, and stop() closes it
  const told = new Set(held.filter(s => s.connection.direction === 'inbound').map(s => s.connection.id))
  const inbound = (): Connection[] => node.getConnections().filter(c => told.has(c.id))
  node.services.sessions.drain()
  if (inbound().length > 0) {
    await new Promise<void>(resolve => {
      const done = (): void => {
        if (inbound().length > 0 && Date.now() - started < timeoutMs) return
        clearTimeout(timer)
        node.removeEventListener('connection:close', done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      node.addEventListener('connection:close', done)
    })
  }
  const left = inbound()
  return { sessions: held.length, left: left.length, waitedMs: Date.now() - started, ...(left.length > 0 ? { leftOpen: left.map(c => c.remoteAddr.toString()) } : {}) }
}

/** What `--max-*`, per-address limits and difficulty say, for RelayLimitsService. */
export function limitsOf (config: RelayConfig): RelayLimits {
  return {
    maxConnections: config.maxConnections,
    maxReservations: config.maxReservations,
    maxSessions: config.session.maxSessions,
    maxPendingHandshakes: config.session.maxPendingHandshakes,
    difficulty: config.session.difficulty,
    perAddress: {
      pendingConnections: config.perAddress.pendingConnections ?? 8,
      pendingHandshakes: config.perAddress.pendingHandshakes ?? 8,
      reservations: config.perAddress.reservations ?? 32
    }
  }
}

/** Settings read once at start (ports, folders, storage, …) that differ in `next`. */
function restartOnly (current: RelayConfig, next: RelayConfig): string[] {
  const live = new Set(['maxConnections', 'maxReservations', 'session', 'perAddress', 'log', 'logLevel'])
  const changed = Object.keys({ ...current, ...next }).filter(key => !live.has(key) && JSON.stringify((current as any)[key]) !== JSON.stringify((next as any)[key]))
  // session and per-address settings that are not limits (timeouts, heartbeats, exemptions)
  const { maxSessions: _a, maxPendingHandshakes: _b, difficulty: _c, ...sessionRest } = current.session
  const { maxSessions: _d, maxPendingHandshakes: _e, difficulty: _f, ...nextSessionRest } = next.session
  if (JSON.stringify(sessionRest) !== JSON.stringify(nextSessionRest)) changed.push('session')
  if (JSON.stringify(current.perAddress.exempt) !== JSON.stringify(next.perAddress.exempt)) changed.push('perAddress.exempt')
  return changed
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
  const flag = port === config.tls?.wssPort ? '--wss-port / GOLEM_CLAY_WSS_PORT' : port === config.metrics?.port ? '--metrics-listen / GOLEM_CLAY_METRICS_LISTEN' : port === config.httpPort ? '--http-port / GOLEM_CLAY_HTTP_PORT' : port === config.wsPort ? '--ws-port / GOLEM_CLAY_WS_PORT' : port === config.tcpPort ? '--tcp-port / GOLEM_CLAY_TCP_PORT' : 'the port flags'
  return new PortInUseError(`Port ${port} is already in use; stop the other program or choose another port (${flag})`)
}
