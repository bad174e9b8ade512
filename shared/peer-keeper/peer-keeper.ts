import { peerIdFromCID, peerIdFromString } from '@libp2p/peer-id'
import { RecordEnvelope } from '@libp2p/peer-record'
import { TypedEventEmitter } from 'main-event'
import { openSignedPeerRecord } from '../local-node/peer-record.ts'
import { evictionOrder, relayRank, scored } from './kept-peer.ts'
import type { KeeperStore } from './keeper-store.ts'
import type { KeptPeer, ScoreEvent } from './kept-peer.ts'
import type { SessionManager } from '../peer-session/session-manager.ts'
import type { NodeRole } from '../peer-session/session-codec.ts'
import type { ComponentLogger, IdentifyResult, Libp2pEvents, Logger, PeerId, PeerStore, Startable, TypedEventTarget } from '@libp2p/interface'

export interface PeerKeeperInit {
  /** Most peers remembered; the least useful go first. @default 512 */
  maxPeers?: number
  /** Persistence between runs. @default none (memory only) */
  store?: KeeperStore
  /** Batches writes to the store, in ms. @default 2_000 */
  saveDelay?: number
}

export interface PeerKeeperComponents {
  peerId: PeerId
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  sessions: SessionManager
}

export interface RecordHint {
  roles?: NodeRole[]
  /** Where the record came from, for logs. */
  source: string
  /** How long ago the source last saw the peer, in ms (peer exchange). @default 0 */
  seenAgo?: number
}

export interface PeerKeeperEvents {
  /** The set of kept peers changed (added, new addresses, new roles). */
  'keeper:update': CustomEvent<KeptPeer[]>
}

/**
 * PeerKeeper: this node's view of the network. Records come from identify,
 * the DHT, peer exchange and relay directories, but addresses only from
 * signed peer records; sessions feed RTT, load, roles and score. Bounded,
 * and persisted so a restarted node can find its way back without seeds.
 */
export class PeerKeeper extends TypedEventEmitter<PeerKeeperEvents> implements Startable {
  private readonly components: PeerKeeperComponents
  private readonly log: Logger
  private readonly maxPeers: number
  private readonly store?: KeeperStore
  private readonly saveDelay: number
  private readonly peers = new Map<string, KeptPeer>()
  private saveTimer?: ReturnType<typeof setTimeout>
  private tick?: ReturnType<typeof setInterval>

  constructor (components: PeerKeeperComponents, init: PeerKeeperInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('golem-clay:peer-keeper')
    this.maxPeers = init.maxPeers ?? 512
    this.store = init.store
    this.saveDelay = init.saveDelay ?? 2_000
  }

  readonly [Symbol.toStringTag] = '@golem-clay/peer-keeper'

  async start (): Promise<void> {
    const saved = await this.store?.load().catch(err => { this.log.error('could not load kept peers - %e', err); return [] }) ?? []
    for (const peer of saved) {
      // nothing is trusted from disk: every record is verified again
      if (peer.envelope == null) continue
      await this.addRecord(peer.envelope, { roles: peer.roles, source: 'store' }, peer).catch(() => {})
    }
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.sessions.addEventListener('session:open', this.onSessionOpen)
    this.components.sessions.addEventListener('session:refused', this.onRefused)
    this.tick = setInterval(() => { this.refreshFromSessions() }, 5_000)
    this.log('loaded %d kept peers', this.peers.size)
  }

  async stop (): Promise<void> {
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.sessions.removeEventListener('session:open', this.onSessionOpen)
    this.components.sessions.removeEventListener('session:refused', this.onRefused)
    clearInterval(this.tick)
    clearTimeout(this.saveTimer)
    await this.save()
  }

  get size (): number {
    return this.peers.size
  }

  get (id: string): KeptPeer | undefined {
    return this.peers.get(id)
  }

  list (role?: NodeRole): KeptPeer[] {
    const all = [...this.peers.values()]
    return role == null ? all : all.filter(p => p.roles.includes(role))
  }

  /** Known relays, best first. */
  relays (): KeptPeer[] {
    return this.list('relay').sort((a, b) => relayRank(a) - relayRank(b))
  }

  /**
   * Verifies a signed peer record and keeps its addresses; an older record
   * than the one held is ignored. Throws InvalidPeerRecordError for a bad one.
   */
  async addRecord (envelope: Uint8Array, hint: RecordHint, restored?: KeptPeer): Promise<KeptPeer | undefined> {
    const signer = peerIdFromCID(RecordEnvelope.createFromProtobuf(envelope).publicKey.toCID())
    const id = signer.toString()
    if (id === this.components.peerId.toString()) return undefined
    const record = await openSignedPeerRecord(envelope, signer)
    const known = this.peers.get(id)
    if (known?.seq != null && record.seq < known.seq) return known
    const roles = [...new Set([...(known?.roles ?? restored?.roles ?? []), ...(hint.roles ?? [])])]
    const kept: KeptPeer = {
      id,
      roles,
      envelope,
      seq: record.seq,
      multiaddrs: record.multiaddrs.map(ma => ma.toString()),
      lastSeen: Math.max(known?.lastSeen ?? 0, restored?.lastSeen ?? Date.now() - Math.max(hint.seenAgo ?? 0, 0)),
      rtt: known?.rtt ?? restored?.rtt,
      load: known?.load ?? restored?.load,
      score: known?.score ?? restored?.score ?? 0,
      seed: known?.seed ?? restored?.seed
    }
    this.peers.set(id, kept)
    await this.components.peerStore.consumePeerRecord(envelope, { expectedPeer: signer }).catch(() => {})
    this.evict()
    this.changed()
    if (known == null) this.log('keeping %s (%s) from %s', id, roles.join(',') || 'unknown role', hint.source)
    return kept
  }

  /** Adjusts a peer's reputation (e.g. a failed dial, a wrong task result). */
  note (id: string, event: ScoreEvent): void {
    const peer = this.peers.get(id)
    if (peer == null) return
    peer.score = scored(peer.score, event)
    this.changed()
  }

  markSeed (id: string): void {
    const peer = this.peers.get(id)
    if (peer != null) peer.seed = true
  }

  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const envelope = evt.detail.signedPeerRecord
    if (envelope == null) return
    this.components.peerStore.get(evt.detail.peerId).then(async peer => {
      if (peer.peerRecordEnvelope != null) await this.addRecord(peer.peerRecordEnvelope, { source: 'identify' })
    }).catch(() => {})
  }

  private readonly onSessionOpen = (evt: CustomEvent<{ remotePeer: string, remoteHello: { roles: NodeRole[], load?: number } }>): void => {
    const session = evt.detail
    const apply = (): void => {
      const peer = this.peers.get(session.remotePeer)
      if (peer == null) return
      peer.roles = [...new Set([...peer.roles, ...session.remoteHello.roles])]
      if (session.remoteHello.load != null) peer.load = session.remoteHello.load
      peer.score = scored(peer.score, 'session')
      peer.lastSeen = Date.now()
      this.changed()
    }
    if (this.peers.has(session.remotePeer)) {
      apply()
      return
    }
    // the record usually arrives with identify, just after the session
    this.components.peerStore.get(peerIdFromString(session.remotePeer)).then(async p => {
      if (p.peerRecordEnvelope != null) await this.addRecord(p.peerRecordEnvelope, { roles: session.remoteHello.roles, source: 'session' })
      apply()
    }).catch(() => {})
  }

  private readonly onRefused = (evt: CustomEvent<{ peer: string, reason: string, remote: boolean }>): void => {
    const { peer, reason, remote } = evt.detail
    if (remote) {
      this.note(peer, 'refused-us')
      if (reason === 'TooManyPeers') {
        const kept = this.peers.get(peer)
        if (kept != null) kept.load = 1
      }
    } else if (reason === 'InvalidProof' || reason === 'BadProtocol') {
      this.note(peer, 'misbehaved')
    }
  }

  private refreshFromSessions (): void {
    let touched = false
    for (const session of this.components.sessions.list()) {
      const peer = this.peers.get(session.remotePeer)
      if (peer == null) continue
      peer.lastSeen = Date.now()
      if (session.rtt != null) peer.rtt = session.rtt
      if (session.remoteLoad != null) peer.load = session.remoteLoad
      touched = true
    }
    if (touched) this.scheduleSave()
  }

  private evict (): void {
    if (this.peers.size <= this.maxPeers) return
    const order = [...this.peers.values()].sort(evictionOrder)
    for (const peer of order.slice(0, this.peers.size - this.maxPeers)) this.peers.delete(peer.id)
  }

  private changed (): void {
    this.safeDispatchEvent('keeper:update', { detail: this.list() })
    this.scheduleSave()
  }

  private scheduleSave (): void {
    if (this.store == null || this.saveTimer != null) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      this.save().catch(err => { this.log.error('could not save kept peers - %e', err) })
    }, this.saveDelay)
  }

  private async save (): Promise<void> {
    await this.store?.save(this.list())
  }
}

export function peerKeeper (init: PeerKeeperInit = {}): (components: PeerKeeperComponents) => PeerKeeper {
  return (components) => new PeerKeeper(components, init)
}
