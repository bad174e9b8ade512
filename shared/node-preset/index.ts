/**
 * P2PService's node presets: the libp2p options of a node of each role built
 * from the shared parts (session layer and gater, identify, ping, PeerKeeper,
 * DHT, pub/sub; the client parts for tabs and Node peers). The platforms add
 * only their transports and role-specific services (relay/, web/).
 */
export { nodePreset } from './node-preset.ts'
export type { BaseServices, NodePresetInit, RoleServices, SessionOverrides } from './node-preset.ts'
export { peerPreset } from './peer-preset.ts'
export type { PeerPresetInit, PeerServices } from './peer-preset.ts'
export { DEFAULT_MAX_RELAYS, RESERVATION_TIMEOUT, ROLE_PRESETS } from './role-presets.ts'
export type { RolePreset } from './role-presets.ts'
