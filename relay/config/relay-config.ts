import { resolve } from 'node:path'
import { isIP } from 'node:net'
import { parseRelayAddr } from '../../shared/p2p-service/index.ts'
import { parseCidr } from '../../shared/connection/index.ts'
import { InvalidConfigError } from '../../shared/errors.ts'
import { formatHelp, parseOptions } from './options.ts'
import { parseDuration, parseStorageConfig, STORAGE_OPTIONS } from '../storage/storage-config.ts'
import { CHAIN_OPTIONS, parseChainConfig } from '../chain/chain-config.ts'
import { LOG_LEVELS } from '../log/index.ts'
import type { PerAddressLimits } from '../gateway/create-relay-node.ts'
import type { LogLevel } from '../log/index.ts'
import type { RelayStorageInit } from '../storage/relay-storage.ts'
import type { ChainConfig } from '../chain/chain-config.ts'
import type { OptionSpec } from './options.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RelayConfig {
  dataDir: string
  /** A payment key file brought along; else `<dataDir>/payment-key`, made on first start. */
  paymentKeyFile?: string
  host: string
  httpPort: number
  wsPort: number
  tcpPort: number
  /** Certificate and key files: HTTPS for the page and a `/tls/ws` listener on `wssPort`. */
  tls?: { certFile: string, keyFile: string, wssPort: number }
  announce: Multiaddr[]
  seeds: Multiaddr[]
  webRoot: string
  maxConnections: number
  maxPendingConnections: number
  maxReservations: number
  /** Seconds. */
  reservationTtl: number
  perAddress: PerAddressLimits
  trustedProxies: string[]
  /** Lets a caller with this token see peer IDs in /status. */
  statusToken?: string
  relayDataLimit: number
  relayDurationLimit: number
  session: {
    difficulty: { base: number, max: number }
    maxSessions: number
    maxPendingHandshakes: number
    helloTimeout: number
    addressStrikes: number
    heartbeat: { interval: number, missedBeats: number }
  }
  logLevel: 'quiet' | 'info'
  /** The structured log's level (relay/log); --quiet means 'error'. */
  log: { level: LogLevel }
  /** Where `GET /metrics` (Prometheus) listens; off when absent. */
  metrics?: { host: string, port: number }
  /** Hyperdrive storage: quotas, lifetime, replication (see relay/storage/storage-config.ts). */
  storage: RelayStorageInit
  /** The payments chain: off, the embedded Anvil (in `<dataDir>/chain`) or an external RPC (relay/chain/chain-config.ts). */
  chain: ChainConfig
  /** Seconds peers get to leave on shutdown. */
  drainTimeout: number
}

export const RELAY_OPTIONS: OptionSpec[] = [
  { name: 'data', type: 'string', env: 'GOLEM_CLAY_DATA', default: './data', placeholder: '<dir>', description: 'Data folder (peer key, payment key, storage)' },
  { name: 'payment-key-file', type: 'string', env: 'GOLEM_CLAY_PAYMENT_KEY_FILE', placeholder: '<file>', description: 'The payment account\'s key (64 hex digits, mode 600) to use instead of <data>/payment-key' },
  { name: 'host', type: 'string', env: 'GOLEM_CLAY_HOST', default: '0.0.0.0', placeholder: '<ip>', description: 'Interface to listen on' },
  { name: 'http-port', type: 'port', env: 'GOLEM_CLAY_HTTP_PORT', default: 8080, placeholder: '<port>', description: 'HTTP port: web page, /status, /healthz (0 = any free port)' },
  { name: 'ws-port', type: 'port', env: 'GOLEM_CLAY_WS_PORT', default: 9090, placeholder: '<port>', description: 'libp2p WebSockets port, for tabs (0 = any free port)' },
  { name: 'wss-port', type: 'port', env: 'GOLEM_CLAY_WSS_PORT', default: 9443, placeholder: '<port>', description: 'libp2p secure WebSockets port (/tls/ws), only with --tls-cert (0 = any free port)' },
  { name: 'tls-cert', type: 'string', env: 'GOLEM_CLAY_TLS_CERT', placeholder: '<file.pem>', description: 'Certificate chain (PEM, e.g. certbot\'s fullchain.pem): serves the page over HTTPS and adds a secure WebSockets listener; reloaded on change and on SIGHUP' },
  { name: 'tls-key', type: 'string', env: 'GOLEM_CLAY_TLS_KEY', placeholder: '<file.pem>', description: 'Private key (PEM) for --tls-cert' },
  { name: 'tcp-port', type: 'port', env: 'GOLEM_CLAY_TCP_PORT', default: 9091, placeholder: '<port>', description: 'libp2p TCP port, for Node peers and relays (0 = any free port)' },
  { name: 'announce', type: 'list', env: 'GOLEM_CLAY_ANNOUNCE', default: [], placeholder: '<multiaddr,...>', description: 'Addresses to advertise instead of the listen addresses' },
  { name: 'seed', type: 'list', env: 'GOLEM_CLAY_SEEDS', default: [], placeholder: '<multiaddr,...>', description: 'Relays to join into one network (each ending in /p2p/<peer ID>)' },
  { name: 'log-level', type: 'string', env: 'GOLEM_CLAY_LOG_LEVEL', default: 'info', placeholder: '<level>', description: `Structured log (JSON lines; readable on a terminal): ${LOG_LEVELS.join(', ')}` },
  { name: 'metrics-listen', type: 'string', env: 'GOLEM_CLAY_METRICS_LISTEN', default: '127.0.0.1:9464', placeholder: '<host:port|off>', description: 'Where GET /metrics (Prometheus) listens, apart from the public port; loopback unless you say otherwise (port 0 = any free port)' },
  { name: 'web-root', type: 'string', env: 'GOLEM_CLAY_WEB_ROOT', default: './dist/web', placeholder: '<dir>', description: 'Built web page to serve' },
  { name: 'max-connections', type: 'integer', env: 'GOLEM_CLAY_MAX_CONNECTIONS', default: 1024, min: 1, placeholder: '<n>', description: 'Most open libp2p connections' },
  { name: 'max-pending-connections', type: 'integer', env: 'GOLEM_CLAY_MAX_PENDING_CONNECTIONS', default: 256, min: 1, placeholder: '<n>', description: 'Most connections still in their encryption handshake' },
  { name: 'max-pending-connections-per-address', type: 'integer', env: 'GOLEM_CLAY_MAX_PENDING_CONNECTIONS_PER_ADDRESS', default: 8, min: 1, placeholder: '<n>', description: '... from one address (IPv4, IPv6 /64)' },
  { name: 'max-reservations', type: 'integer', env: 'GOLEM_CLAY_MAX_RESERVATIONS', default: 512, min: 1, placeholder: '<n>', description: 'Most circuit relay reservations' },
  { name: 'max-reservations-per-address', type: 'integer', env: 'GOLEM_CLAY_MAX_RESERVATIONS_PER_ADDRESS', default: 32, min: 1, placeholder: '<n>', description: 'Most reservations held from one address' },
  { name: 'reservation-ttl', type: 'string', env: 'GOLEM_CLAY_RESERVATION_TTL', default: '15m', placeholder: '<duration>', description: 'A reservation not refreshed lasts this long (it ends with its holder\'s last session anyway)' },
  { name: 'relay-data-limit', type: 'integer', env: 'GOLEM_CLAY_RELAY_DATA_LIMIT', default: 64 * 1024 * 1024, min: 1024, placeholder: '<bytes>', description: 'Bytes one relayed connection may carry' },
  { name: 'relay-duration-limit', type: 'integer', env: 'GOLEM_CLAY_RELAY_DURATION_LIMIT', default: 1800, min: 1, placeholder: '<seconds>', description: 'Seconds one relayed connection may stay open' },
  { name: 'difficulty', type: 'integer', env: 'GOLEM_CLAY_DIFFICULTY', default: 22, min: 0, placeholder: '<bits>', description: 'Hashcash bits asked of dialers when quiet (rises with load)' },
  { name: 'max-difficulty', type: 'integer', env: 'GOLEM_CLAY_MAX_DIFFICULTY', default: 28, min: 0, placeholder: '<bits>', description: 'Cap for the adaptive difficulty' },
  { name: 'max-peers', type: 'integer', env: 'GOLEM_CLAY_MAX_PEERS', default: 1024, min: 1, placeholder: '<n>', description: 'Most verified sessions' },
  { name: 'max-pending-handshakes', type: 'integer', env: 'GOLEM_CLAY_MAX_PENDING_HANDSHAKES', default: 64, min: 1, placeholder: '<n>', description: 'Most handshakes in progress (when full, the oldest of the busiest address goes)' },
  { name: 'max-pending-handshakes-per-address', type: 'integer', env: 'GOLEM_CLAY_MAX_PENDING_HANDSHAKES_PER_ADDRESS', default: 8, min: 1, placeholder: '<n>', description: 'Most handshakes in progress from one address' },
  { name: 'hello-timeout', type: 'integer', env: 'GOLEM_CLAY_HELLO_TIMEOUT', default: 5000, min: 100, placeholder: '<ms>', description: 'A dialer must say hello this soon after opening its session stream' },
  { name: 'address-strikes', type: 'integer', env: 'GOLEM_CLAY_ADDRESS_STRIKES', default: 200, min: 1, placeholder: '<n>', description: 'Refusals a minute that ban an address for 10 minutes (every 10 already add a bit of difficulty for it)' },
  { name: 'limits-exempt', type: 'list', env: 'GOLEM_CLAY_LIMITS_EXEMPT', default: [], placeholder: '<cidr,...>', description: 'Addresses that per-address limits and bans skip' },
  { name: 'trusted-proxy', type: 'list', env: 'GOLEM_CLAY_TRUSTED_PROXY', default: [], placeholder: '<cidr,...>', description: 'Proxies in front of the WebSocket port whose X-Forwarded-For names the client' },
  { name: 'status-token', type: 'string', env: 'GOLEM_CLAY_STATUS_TOKEN', placeholder: '<token>', description: 'Lets callers with this bearer token see peer IDs in /status (counts only without it)' },
  { name: 'heartbeat-interval', type: 'integer', env: 'GOLEM_CLAY_HEARTBEAT_INTERVAL', default: 2500, min: 100, placeholder: '<ms>', description: 'Ping a quiet session this often' },
  { name: 'heartbeat-missed', type: 'integer', env: 'GOLEM_CLAY_HEARTBEAT_MISSED', default: 3, min: 1, placeholder: '<n>', description: 'Quiet intervals before a session is dropped' },
  ...STORAGE_OPTIONS,
  ...CHAIN_OPTIONS,
  { name: 'drain-timeout', type: 'string', env: 'GOLEM_CLAY_DRAIN_TIMEOUT', default: '5s', placeholder: '<duration>', description: 'On SIGTERM/SIGINT, peers are told the relay is shutting down and get this long to move to other relays before it stops' },
  { name: 'quiet', type: 'boolean', env: 'GOLEM_CLAY_QUIET', default: false, description: 'Only print errors' }
]

export const RELAY_HELP = formatHelp(
  'golem-clay-relay [options]',
  'Golem Clay relay gateway: lets browser tabs into the network, relays their\nconnections, runs the DHT and serves the web page.',
  RELAY_OPTIONS
)

/** Checks CIDR lists early, naming the flag. */
function cidrs (values: string[], flag: string): string[] {
  for (const value of values) {
    try {
      parseCidr(value)
    } catch (err: any) {
      throw new InvalidConfigError(`--${flag}: ${err.message}`)
    }
  }
  return values
}

export function parseRelayConfig (argv: string[], env: Record<string, string | undefined> = process.env): { config: RelayConfig, help: boolean } {
  const { values: v, help } = parseOptions(RELAY_OPTIONS, argv, env)
  const config: RelayConfig = {
    dataDir: resolve(v.data as string),
    ...(typeof v['payment-key-file'] === 'string' && v['payment-key-file'].trim() !== '' ? { paymentKeyFile: resolve(v['payment-key-file']) } : {}),
    host: v.host as string,
    httpPort: v['http-port'] as number,
    wsPort: v['ws-port'] as number,
    tcpPort: v['tcp-port'] as number,
    ...parseTls(v['tls-cert'], v['tls-key'], v['wss-port'] as number),
    announce: (v.announce as string[]).map(parseRelayAddr),
    seeds: (v.seed as string[]).map(parseRelayAddr),
    webRoot: resolve(v['web-root'] as string),
    maxConnections: v['max-connections'] as number,
    maxPendingConnections: v['max-pending-connections'] as number,
    maxReservations: v['max-reservations'] as number,
    reservationTtl: parseDuration(v['reservation-ttl'] as string, 'reservation-ttl'),
    perAddress: {
      pendingConnections: v['max-pending-connections-per-address'] as number,
      pendingHandshakes: v['max-pending-handshakes-per-address'] as number,
      reservations: v['max-reservations-per-address'] as number,
      exempt: cidrs(v['limits-exempt'] as string[], 'limits-exempt')
    },
    trustedProxies: cidrs(v['trusted-proxy'] as string[], 'trusted-proxy'),
    ...(typeof v['status-token'] === 'string' && v['status-token'] !== '' ? { statusToken: v['status-token'] } : {}),
    relayDataLimit: v['relay-data-limit'] as number,
    relayDurationLimit: v['relay-duration-limit'] as number,
    session: {
      difficulty: { base: v.difficulty as number, max: Math.max(v['max-difficulty'] as number, v.difficulty as number) },
      maxSessions: v['max-peers'] as number,
      maxPendingHandshakes: v['max-pending-handshakes'] as number,
      helloTimeout: v['hello-timeout'] as number,
      addressStrikes: v['address-strikes'] as number,
      heartbeat: { interval: v['heartbeat-interval'] as number, missedBeats: v['heartbeat-missed'] as number }
    },
    logLevel: v.quiet === true ? 'quiet' : 'info',
    log: { level: v.quiet === true ? 'error' : parseLogLevel(v['log-level'] as string) },
    ...parseMetricsListen(v['metrics-listen'] as string),
    storage: parseStorageConfig(v, resolve(v.data as string)),
    chain: parseChainConfig(v, resolve(v.data as string)),
    drainTimeout: parseDuration(v['drain-timeout'] as string, 'drain-timeout')
  }
  for (const seed of config.seeds) {
    if (!seed.getComponents().some(c => c.name === 'p2p')) throw new InvalidConfigError(`--seed ${seed.toString()} must end with /p2p/<peer ID>`)
  }
  if (config.drainTimeout > 120) throw new InvalidConfigError('--drain-timeout is at most 120s (systemd and Docker stop a service that takes longer)')
  if (config.session.difficulty.base > 40) throw new InvalidConfigError('--difficulty above 40 would lock every peer out')
  return { config, help }
}

/** Both files or neither. */
function parseTls (cert: unknown, key: unknown, wssPort: number): Pick<RelayConfig, 'tls'> {
  const given = (value: unknown): value is string => typeof value === 'string' && value.trim() !== ''
  if (!given(cert) && !given(key)) return {}
  if (!given(cert) || !given(key)) throw new InvalidConfigError('--tls-cert and --tls-key go together (a certificate chain and its private key, PEM)')
  return { tls: { certFile: resolve(cert), keyFile: resolve(key), wssPort } }
}

/** `host:port`, `[v6]:port` or `off`. */
function parseMetricsListen (text: string): Pick<RelayConfig, 'metrics'> {
  if (text.trim() === 'off') return {}
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[3])
  const host = match?.[1] ?? match?.[2]
  if (match == null || host == null || isIP(host) === 0 || port > 65535) {
    throw new InvalidConfigError(`--metrics-listen must be <ip>:<port> (e.g. 127.0.0.1:9464, [::1]:9464) or off, got "${text}"`)
  }
  return { metrics: { host, port } }
}

function parseLogLevel (text: string): LogLevel {
  const level = LOG_LEVELS.find(l => l === text.trim().toLowerCase())
  if (level == null) throw new InvalidConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${text}"`)
  return level
}
