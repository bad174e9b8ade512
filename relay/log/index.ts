export { createRelayLog, LOG_LEVELS, logRelayEvents } from './relay-log.ts'
export type { LogLevel, RelayLogInit } from './relay-log.ts'
