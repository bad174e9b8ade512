import { peerIdFromString } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { CODE_P2P } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { openSignedPeerRecord } from '../local-node/index.ts'
import type { KeptPeer } from './kept-peer.ts'
import type { PeerKeeper } from './peer-keeper.ts'
import type { PeerExchange } from './pex.ts'
import type { NodeRole } from '../peer-session/index.ts'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, PrivateKey, Startable, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import type { KadDHT, SelectFn, ValidateFn } from '@libp2p/kad-dht'

/** DHT records holding a peer's own signed peer record: `/gcpr/<peer ID>`. */
export const RECORD_NAMESPACE = 'gcpr'

export function recordKey (peer: string): Uint8Array {
  return new TextEncoder().encode(`/${RECORD_NAMESPACE}/${peer}`)
}

function peerOfKey (key: Uint8Array): PeerId {
  const text = new TextDecoder().decode(key)
  return peerIdFromString(text.slice(RECORD_NAMESPACE.length + 2))
}

/** DHT servers store a `/gcpr/` value only if the key's peer signed it. */
export const peerRecordValidator: ValidateFn = async (key, value) => {
  await openSignedPeerRecord(value, peerOfKey(key))
}

/** Of several copies, the newest record (highest sequence number) wins. */
export const peerRecordSelector: SelectFn = (key, records) => {
  let best = 0
  let bestSeq = -1n
  records.forEach((value, i) => {
    try {
      const seq = PeerRecord.createFromProtobuf(RecordEnvelope.createFromProtobuf(value).payload).seqNumber
      if (seq > bestSeq) { best = i; bestSeq = seq }
    } catch {}
  })
  return best
}

export interface PeerFinderInit {
  /** Roles to look for. @default ['tab', 'node'] */
  lookFor?: NodeRole[]
  /** How often to ask relays for peers, in ms. @default 15_000 */
  interval?: number
  /** How often to store our record again even without changes, in ms. @default 300_000 */
  republishInterval?: number
  /** Time allowed for one DHT query, in ms. @default 15_000 */
  queryTimeout?: number
}

export interface PeerFinderComponents {
  peerId: PeerId
  privateKey: PrivateKey
  addressManager: AddressManager
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  dht: KadDHT
  keeper: PeerKeeper
  pex: PeerExchange
}

export interface PeerFinderEvents {
  /** A round of asking finished; the detail is how many peers of each role are known. */
  'finder:round': CustomEvent<Record<string, number>>
}

/**
 * Finds peers on other relays. Relays gossip the signed records of the
 * peers they serve (peer exchange), so asking our relays finds tabs and
 * Node peers anywhere; and every node stores its own signed record in the
 * DHT under `/gcpr/<id>`, so a peer known only by ID can be looked up (tabs
 * are not in routing tables, so findPeer can't find them; this can).
 *
 * Provider records are deliberately not used: kad pings every provider it
 * hears of, and libp2p's relay discovery dials them, which would have every
 * node dial every tab through its relay.
 */
export class PeerFinder extends TypedEventEmitter<PeerFinderEvents> implements Startable {
  private readonly components: PeerFinderComponents
  private readonly init: Required<PeerFinderInit>
  private readonly log: Logger
  private controller = new AbortController()
  private timer?: ReturnType<typeof setInterval>
  private publishTimer?: ReturnType<typeof setTimeout>
  private lastPublished = 0
  private lastAddrs = ''

  constructor (components: PeerFinderComponents, init: PeerFinderInit = {}) {
    super()
    this.components = components
    this.init = { lookFor: ['tab', 'node'], interval: 15_000, republishInterval: 300_000, queryTimeout: 15_000, ...init }
    this.log = components.logger.forComponent('golem-clay:peer-finder')
  }

  readonly [Symbol.toStringTag] = '@golem-clay/peer-finder'

  start (): void {
    this.controller = new AbortController()
    this.components.events.addEventListener('self:peer:update', this.onSelfUpdate)
    this.timer = setInterval(() => { void this.round() }, this.init.interval)
  }

  stop (): void {
    this.controller.abort()
    clearInterval(this.timer)
    clearTimeout(this.publishTimer)
    this.components.events.removeEventListener('self:peer:update', this.onSelfUpdate)
  }

  /** Publishes our record if it changed and asks every relay we are connected to for peers. */
  async round (): Promise<void> {
    await this.publish().catch(err => { this.log('publishing our record failed - %e', err) })
    // only relays we verified: anyone else's answer would not count
    const conns = this.components.connectionManager.getConnections().filter(c => c.status === 'open' && this.components.keeper.isVerifiedRelay(c.remotePeer.toString()))
    await Promise.all(conns.map(async conn => {
      await this.components.pex.ask(conn, this.init.lookFor, 64, { signal: this.controller.signal })
        .catch(err => { this.log('asking %p for peers failed - %e', conn.remotePeer, err) })
    }))
    const counts = Object.fromEntries(this.init.lookFor.map(role => [role, this.components.keeper.list(role).length]))
    this.safeDispatchEvent('finder:round', { detail: counts })
  }

  /** The verified record of `peer`: kept, or looked up in the DHT. */
  async lookup (peer: string, options: { signal?: AbortSignal } = {}): Promise<KeptPeer | undefined> {
    const kept = this.components.keeper.get(peer)
    if (kept?.envelope != null) return kept
    const signal = AbortSignal.any([this.signal(), ...(options.signal != null ? [options.signal] : [])])
    for await (const event of this.components.dht.get(recordKey(peer), { signal })) {
      if (event.name !== 'VALUE') continue
      return await this.components.keeper.addRecord(event.value, { source: 'dht' })
    }
    return undefined
  }

  private readonly onSelfUpdate = (): void => {
    clearTimeout(this.publishTimer)
    this.publishTimer = setTimeout(() => { void this.round() }, 1_500)
  }

  private signal (): AbortSignal {
    return AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.init.queryTimeout)])
  }

  /** Stores our record in the DHT once we are reachable (a circuit or public address). */
  private async publish (): Promise<void> {
    const addrs = this.components.addressManager.getAddresses().map(ma => ma.decapsulateCode(CODE_P2P))
    if (addrs.length === 0) return
    const key = addrs.map(String).sort().join(' ')
    if (key === this.lastAddrs && Date.now() - this.lastPublished < this.init.republishInterval) return
    const envelope = await RecordEnvelope.seal(new PeerRecord({ peerId: this.components.peerId, multiaddrs: addrs }), this.components.privateKey)
    for await (const _ of this.components.dht.put(recordKey(this.components.peerId.toString()), envelope.marshal(), { signal: this.signal() })) {} // eslint-disable-line no-empty
    this.lastAddrs = key
    this.lastPublished = Date.now()
    this.log('published our record (%d addresses)', addrs.length)
  }
}

export function peerFinder (init: PeerFinderInit = {}): (components: PeerFinderComponents) => PeerFinder {
  return (components) => new PeerFinder(components, init)
}
