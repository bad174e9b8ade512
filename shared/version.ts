/** Golem Clay release; kept in step with package.json (a unit test checks it). */
export const CLIENT_VERSION = '0.1.0'

/** Wire protocol generation: peers with a different major refuse each other. */
export const PROTOCOL_VERSION = '1.0.0'

export const AGENT_NAME = 'golem-clay'
