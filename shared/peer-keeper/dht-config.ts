import { Circuit } from '@multiformats/multiaddr-matcher'
import { DHT_PROTOCOL } from '../wire/index.ts'
import { peerRecordSelector, peerRecordValidator, RECORD_NAMESPACE } from './peer-finder.ts'
import type { KadDHTInit } from '@libp2p/kad-dht'

/**
 * Peer info that crosses the DHT keeps private addresses (a relay on a LAN is
 * a real network) but never circuit ones: kad pings every peer it hears of
 * before adding it to its routing table, and libp2p's relay discovery dials
 * every peer it learns of, so a provider record carrying a tab's circuit
 * address would have every other node dial that tab through its relay.
 * Tabs and Node peers are only reachable through relays; they are found
 * through their signed records instead (see peer-finder.ts).
 */
export const directAddressesOnly: NonNullable<KadDHTInit['peerInfoMapper']> = (info) => ({
  ...info,
  multiaddrs: info.multiaddrs.filter(ma => !Circuit.matches(ma))
})

/**
 * The Golem Clay DHT: its own protocol so it never mixes with IPFS, relays
 * as servers and everyone else as clients, and `/gcpr/` values checked as
 * signed peer records.
 */
export function dhtConfig (server: boolean): KadDHTInit {
  return {
    protocol: DHT_PROTOCOL,
    clientMode: !server,
    peerInfoMapper: directAddressesOnly,
    validators: { [RECORD_NAMESPACE]: peerRecordValidator },
    selectors: { [RECORD_NAMESPACE]: peerRecordSelector }
  }
}
