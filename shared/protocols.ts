/**
 * Protocol IDs follow `/golem-clay/<name>/<semver>`. The DHT runs on its own
 * prefix so the network never mixes with the public IPFS DHT.
 */
export const PROTOCOL_PREFIX = '/golem-clay'

export const DHT_PROTOCOL = `${PROTOCOL_PREFIX}/kad/1.0.0`
export const MESSAGE_PROTOCOL = `${PROTOCOL_PREFIX}/message/1.0.0`
export const DIRECTORY_PROTOCOL = `${PROTOCOL_PREFIX}/directory/1.0.0`
export const SESSION_PROTOCOL = `${PROTOCOL_PREFIX}/session/1.0.0`
export const PEX_PROTOCOL = `${PROTOCOL_PREFIX}/pex/1.0.0`
export const MARKET_PROTOCOL = `${PROTOCOL_PREFIX}/market/2.0.0`
/** Gossipsub on our own ID, so the session gate covers it like every Golem Clay protocol. */
export const GOSSIP_PROTOCOL = `${PROTOCOL_PREFIX}/meshsub/1.1.0`
