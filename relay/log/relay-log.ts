import { pino } from 'pino'
import pretty from 'pino-pretty'
import type { RelayNode } from '../gateway/create-relay-node.ts'
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
 * handshakes refused, bans. Returns the function that stops it.
 */
export function logRelayEvents (node: RelayNode, log: Logger): () => void {
  const sessions = node.services.sessions
  const controller = new AbortController()
  const { signal } = controller
  sessions.addEventListener('session:open', (evt) => {
    const s = evt.detail
    log.info({ event: 'session-open', peer: s.remotePeer, roles: s.remoteHello.roles, kind: s.kind, difficulty: s.difficulty, address: s.connection.remoteAddr.toString() }, 'session opened')
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
  return () => { controller.abort() }
}
