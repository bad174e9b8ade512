/**
 * Every protocol ID and pub/sub topic of the network, in one place. IDs
 * follow `/golem-clay/<name>/<semver>`; the major version changes whenever
 * the bytes on the wire do. The DHT runs on its own prefix so the network
 * never mixes with the public IPFS DHT.
 */
export const PROTOCOL_PREFIX = '/golem-clay'

export const DHT_PROTOCOL = `${PROTOCOL_PREFIX}/kad/1.0.0`
export const SESSION_PROTOCOL = `${PROTOCOL_PREFIX}/session/1.0.0`
export const MESSAGE_PROTOCOL = `${PROTOCOL_PREFIX}/message/1.0.0`
export const DIRECTORY_PROTOCOL = `${PROTOCOL_PREFIX}/directory/1.0.0`
export const PEX_PROTOCOL = `${PROTOCOL_PREFIX}/pex/1.0.0`
/** 3.0.0: market messages are signed envelopes (shared/wire/signed.ts). */
export const MARKET_PROTOCOL = `${PROTOCOL_PREFIX}/market/3.0.0`
/** Gossipsub on our own ID, so the session gate covers it like every Golem Clay protocol. */
export const GOSSIP_PROTOCOL = `${PROTOCOL_PREFIX}/meshsub/1.1.0`
/** The pub/sub topic task headers and closings spread on (2: signed envelopes). */
export const TASKS_TOPIC = 'golem-clay/tasks/2'
/** Upload, download, stat and delete of stored objects: one stream per operation. 2.0.0: transfer tokens are signed envelopes. */
export const STORAGE_PROTOCOL = `${PROTOCOL_PREFIX}/storage/2.0.0`
/** Hypercore's own replication protocol between relays, carried as is. */
export const STORAGE_REPLICATION_PROTOCOL = `${PROTOCOL_PREFIX}/storage-replication/1.0.0`
