/** What a node knows of a connection: how it carries bytes (its kind) and whose network it comes from (the per-address limit key). */
export { AddressKeys, parseCidr } from './address-key.ts'
export type { AddressKeyInit } from './address-key.ts'
export { CONNECTION_KIND_LABEL, connectionInfo, connectionKind } from './connection-kind.ts'
export type { ConnectionInfo, ConnectionKind } from './connection-kind.ts'
