import { pino } from 'pino'
import pretty from 'pino-pretty'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { RelayStorage } from '../storage/relay-storage.ts'
import type { Logger } from 'pino'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export interface RelayLogInit {
  /** @default 'info' */
  level?: LogLevel
  /** Human-readable lines instead of JSON. @default when stdout is a terminal */
  pretty?: boolean
  /** Where lines go. @default stdout */
  destination?: NodeJS.WritableStream
}

/**
 * The relay's operational log: one JSON object a line (pino), for a log
 * shipper or `jq`; readable lines when a person watches the terminal. The
 * `debug` namespaces (DEBUG=golem-clay:*) stay for deep tracing.
 */
export function createRelayLog (init: RelayLogInit = {}): Logger {
  const options = { level: init.level ?? 'info', base: { name: 'golem-clay-relay' } }
  const destination = init.destination ?? process.stdout
  const human = init.pretty ?? (process.stdout.isTTY === true && init.destination == null)
  // pino-pretty as a stream on this thread: no transport worker to start or lose lines in
  return human ? pino(options, pretty({ destination, colorize: true, sync: true })) : pino(options, destination)
}

/**
 * Logs what an operator asks about: sessions opened and closed (with why),
 * handshakes refused, bans, storage operations, and failures no peer caused.
 * Returns the function that stops it.
 */
export function logRelayEvents (node: RelayNode, log: Logger): () => void {
  const sessions = node.services.sessions
  const controller = new AbortController()
  const { signal } = controller
  sessions.addEventListener('session:open', (evt) => {
    const s = evt.detail
    log.info({ event: 'session-open', peer: s.remotePeer, roles: s.remoteHello.roles, kind: s.kind, difficulty: s.difficulty, ...(s.solveMs != null ? { solveMs: Math.round(s.solveMs) } : {}), address: s.connection.remoteAddr.toString() }, 'session opened')
  }, { signal })
  sessions.addEventListener('session:close', (evt) => {
    const { peer, reason, remote, message } = evt.detail
    log.info({ event: 'session-close', peer, reason, by: remote ? 'peer' : 'relay', ...(message != null ? { detail: message } : {}) }, 'session closed')
  }, { signal })
  sessions.addEventListener('session:refused', (evt) => {
    const { peer, reason, remote, message } = evt.detail
    log.warn({ event: 'handshake-refused', peer, reason, by: remote ? 'peer' : 'relay', detail: message }, 'handshake refused')
  }, { signal })
  sessions.banList.addEventListener('peer:banned', (evt) => {
    const { peer, reason, until } = evt.detail
    log.warn({ event: 'ban', peer, reason, until: new Date(until).toISOString() }, 'peer banned')
  }, { signal })
  node.addEventListener('transport:close', (evt) => {
    // listeners close as the node stops; one closing while it runs took a port away from peers
    if (node.status !== 'started') return
    log.error({ event: 'listener-closed', addresses: evt.detail.getAddrs().map(ma => ma.toString()) }, 'a listener closed while the relay runs')
  }, { signal })
  if (node.services.storage != null) logStorageEvents(node.services.storage, log, signal)
  return () => { controller.abort() }
}

/** Storage operations at info, refusals for lack of room and replication trouble at warn, failures at error. */
function logStorageEvents (storage: RelayStorage, log: Logger, signal: AbortSignal): void {
  storage.addEventListener('storage:stored', (evt) => {
    log.info({ event: 'storage-upload', ...evt.detail }, 'object stored')
  }, { signal })
  storage.addEventListener('storage:served', (evt) => {
    log.info({ event: 'storage-download', ...evt.detail }, 'object served')
  }, { signal })
  storage.addEventListener('storage:deleted', (evt) => {
    log.info({ event: 'storage-delete', ...evt.detail }, 'object deleted')
  }, { signal })
  storage.addEventListener('storage:expired', (evt) => {
    log.info({ event: 'storage-expire', ...evt.detail }, 'expired objects and abandoned uploads removed')
  }, { signal })
  storage.addEventListener('storage:refused', (evt) => {
    const { message, ...rest } = evt.detail
    log.warn({ event: 'storage-refused', ...rest, detail: message }, 'upload refused for lack of room')
  }, { signal })
  storage.addEventListener('storage:replication-error', (evt) => {
    const { error, ...rest } = evt.detail
    log.warn({ event: 'replication-error', ...rest, error: error.message }, 'replication failed; retrying')
  }, { signal })
  storage.addEventListener('storage:error', (evt) => {
    const { part, error } = evt.detail
    log.error({ event: 'error', part: 'storage', op: part, error: error.message, name: error.name, stack: error.stack }, 'storage failure')
  }, { signal })
}
