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
/** 2.0.0: after the first list, relays send what changed (`changes` frames), not the whole list again. */
export const DIRECTORY_PROTOCOL = `${PROTOCOL_PREFIX}/directory/2.0.0`
export const PEX_PROTOCOL = `${PROTOCOL_PREFIX}/pex/1.0.0`
/**
 * 3.0.0: market messages are signed envelopes (shared/wire/signed.ts); 4.0.0: `tasks` pulls open headers from a relay;
 * 5.0.0: offers and task headers carry their author's payment binding (shared/payments);
 * 6.0.0: paid tasks: assignments carry promissory notes, accepted verdicts cheques;
 * 7.0.0: notes and cheques name the provider whose work they pay (ClayDeposit version 2: an account per provider).
 */
export const MARKET_PROTOCOL = `${PROTOCOL_PREFIX}/market/7.0.0`
/** Gossipsub on our own ID, so the session gate covers it like every Golem Clay protocol. */
export const GOSSIP_PROTOCOL = `${PROTOCOL_PREFIX}/meshsub/1.1.0`
/** The pub/sub topic task headers and closings spread on (2: signed envelopes; 3: headers carry the requestor's payment binding; 4: and a paid task's terms). */
export const TASKS_TOPIC = 'golem-clay/tasks/4'
/**
 * Upload, download, stat and delete of stored objects: one stream per operation.
 * 2.0.0: transfer tokens are signed envelopes. 3.0.0: share links (the
 * `share` and `resolve` requests) and read tokens for anyone (`sub: '*'`).
 */
export const STORAGE_PROTOCOL = `${PROTOCOL_PREFIX}/storage/3.0.0`
/** A relay's chain for tabs and Node peers: reads, deposits' transactions, deposit checks and cashing cheques (shared/payments/chain-wire.ts). 2.0.0: `clay_account` names the provider too. */
export const CHAIN_PROTOCOL = `${PROTOCOL_PREFIX}/chain/2.0.0`
/** A widget's node tells its relay whom it works for and what it did, for the site owner's page (shared/widget/widget-wire.ts). */
export const WIDGET_PROTOCOL = `${PROTOCOL_PREFIX}/widget/1.0.0`
/** Hypercore's own replication protocol between relays, carried as is. */
export const STORAGE_REPLICATION_PROTOCOL = `${PROTOCOL_PREFIX}/storage-replication/1.0.0`

/**
 * How a protocol treats relayed links (circuit relay v2 connections, which
 * libp2p calls limited: a relay caps their bytes and lifetime).
 * - `relayed-ok`: runs on any link; a direct one is used when there is one.
 * - `direct-only`: needs a direct link; a relayed one is never used or served.
 */
export type RelayedLinkRule = 'relayed-ok' | 'direct-only'

/**
 * The one rule per protocol for relayed links: the session layer reads it
 * when it opens a stream (`sessions.open`) and when it registers a handler
 * (`sessions.handle`), so both ends agree. A protocol missing here cannot be
 * opened through the session layer.
 */
export const RELAYED_LINKS: Readonly<Record<string, RelayedLinkRule>> = Object.freeze({
  // how a tab and a Node peer that met through a relay become a session
  [SESSION_PROTOCOL]: 'relayed-ok',
  // a Node peer reaches a tab through the relay
  [MESSAGE_PROTOCOL]: 'relayed-ok',
  // one small exchange; relays that dialed a tab through another relay ask too
  [PEX_PROTOCOL]: 'relayed-ok',
  // requestors and providers are tabs and Node peers, often linked only through a relay
  [MARKET_PROTOCOL]: 'relayed-ok',
  // task headers reach tabs behind relays (marketPubsub says so to gossipsub too)
  [GOSSIP_PROTOCOL]: 'relayed-ok',
  // relays serve it, and relays are always dialed directly
  [DIRECTORY_PROTOCOL]: 'direct-only',
  // bulk transfers: a relayed link's data limit would cut them
  [STORAGE_PROTOCOL]: 'direct-only',
  [STORAGE_REPLICATION_PROTOCOL]: 'direct-only',
  // relays serve it; a relay's chain is asked of the relay itself
  [CHAIN_PROTOCOL]: 'direct-only',
  // a tab reports to the relay it joined through, always a direct link
  [WIDGET_PROTOCOL]: 'direct-only',
  // kad's own default; circuit addresses never cross the DHT (dht-config.ts)
  [DHT_PROTOCOL]: 'direct-only'
})

/** The relayed-link rule of `protocol`, or undefined when it has none (own-property lookup only). */
export function relayedLinkRule (protocol: string): RelayedLinkRule | undefined {
  return Object.hasOwn(RELAYED_LINKS, protocol) ? RELAYED_LINKS[protocol] : undefined
}
