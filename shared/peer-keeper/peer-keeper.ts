import { peerIdFromCID, peerIdFromString } from '@libp2p/peer-id'
import { RecordEnvelope } from '@libp2p/peer-record'
import { TypedEventEmitter } from 'main-event'
import { openSignedPeerRecord } from '../local-node/index.ts'
import { answeredAsRelay, evictionOrder, isVerifiedRelay, relayRank, scored } from './kept-peer.ts'
import type { KeeperStore } from './keeper-store.ts'
import type { KeptPeer, ScoreEvent } from './kept-peer.ts'
import type { SessionManager } from '../peer-session/index.ts'
import type { NodeRole } from '../peer-session/index.ts'
import type { ComponentLogger, IdentifyResult, Libp2pEvents, Logger, PeerId, PeerStore, Startable, TypedEventTarget } from '@libp2p/interface'

export interface PeerKeeperInit {
  /** Most peers remembered; the least useful go first. @default 512 */
  maxPeers?: number
  /** Most peers one relay may vouch for (peer exchange) that this node has not verified itself. @default 64 */
  maxPerSource?: number
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
  /**
   * Roles to keep with the record. Without `via` the caller vouches for them
   * (this node's own knowledge); with `via` they are the word of that peer.
   */
  roles?: NodeRole[]
  /** Where the record came from, for logs. */
  source: string
  /** How long ago the source last saw the peer, in ms (peer exchange). @default 0 */
  seenAgo?: number
  /**
   * The peer that handed the record over (peer exchange). Its roles count
   * only if it is a relay this node verified, and it may add only
   * `maxPerSource` peers this node has not verified.
   */
  via?: string
}

/** Session facts PeerKeeper learns roles from. */
interface SessionView {
  remotePeer: string
  dialer: boolean
  kind: string
  remoteHello: { roles: NodeRole[], load?: number }
}

export interface PeerKeeperEvents {
  /** The set of kept peers changed (added, new addresses, new roles). */
  'keeper:update': CustomEvent<KeptPeer[]>
  /** A relay we verified vouched for a relay we have not verified yet (relays check it: relay-probe). */
  'keeper:vouched': CustomEvent<KeptPeer>
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
  private readonly maxPerSource: number
  private readonly store?: KeeperStore
  /** Records refused because their source had vouched for too many. */
  refusedFromSources = 0
  private readonly saveDelay: number
  private readonly peers = new Map<string, KeptPeer>()
  private saveTimer?: ReturnType<typeof setTimeout>
  private tick?: ReturnType<typeof setInterval>

  constructor (components: PeerKeeperComponents, init: PeerKeeperInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('golem-clay:peer-keeper')
    this.maxPeers = init.maxPeers ?? 512
    this.maxPerSource = init.maxPerSource ?? 64
    this.store = init.store
    this.saveDelay = init.saveDelay ?? 2_000
  }

  readonly [Symbol.toStringTag] = '@golem-clay/peer-keeper'

  async start (): Promise<void> {
    const saved = await this.store?.load().catch(err => { this.log.error('could not load kept peers - %e', err); return [] }) ?? []
    for (const peer of saved) {
      // nothing is trusted from disk: every record is verified again
      if (peer.envelope == null) continue
      await this.addRecord(peer.envelope, { source: 'store' }, peer).catch(() => {})
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

  /** Known relays (verified, or vouched for by a verified relay), best first. */
  relays (): KeptPeer[] {
    return this.list('relay').sort((a, b) => relayRank(a) - relayRank(b))
  }

  /** A relay this node dialed and that answered as one (or a seed): the only kind whose word counts. */
  isVerifiedRelay (id: string): boolean {
    // a session that proves it may be a moment ahead of its record
    return isVerifiedRelay(this.peers.get(id)) || this.components.sessions.list().some(s => s.remotePeer === id && answeredAsRelay(s))
  }

  /**
   * `isVerifiedRelay` for many peers at once, as of now: the sessions are
   * read once, not once per peer. A relay answering a PEX request checks
   * every peer it keeps; with thousands of sessions, one scan of them per
   * peer made that the relay's largest cost (npm run bench:relay).
   */
  verifiedRelays (): (id: string) => boolean {
    const bySession = new Set<string>()
    for (const s of this.components.sessions.list()) if (answeredAsRelay(s)) bySession.add(s.remotePeer)
    return (id) => isVerifiedRelay(this.peers.get(id)) || bySession.has(id)
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
    let vouched: NodeRole[] = []
    let verified = known?.verified ?? restored?.verified
    let via = known != null ? known.via : restored?.via
    if (hint.via != null) {
      // the word of a relay we verified counts, anyone else's not at all; and no one fills the keeper alone
      const unverified = known == null || (known.verified?.length ?? 0) === 0
      if (unverified && known?.via !== hint.via && this.countVia(hint.via) >= this.maxPerSource) {
        this.refusedFromSources++
        return known
      }
      if (this.isVerifiedRelay(hint.via)) vouched = hint.roles ?? []
      if (unverified) via = hint.via
    } else if (hint.roles != null && hint.roles.length > 0) {
      verified = [...new Set([...(verified ?? []), ...hint.roles])]
    }
    const roles = [...new Set([...(known?.roles ?? restored?.roles ?? []), ...(verified ?? []), ...vouched])]
    const kept: KeptPeer = {
      id,
      roles,
      ...(verified != null ? { verified } : {}),
      ...(via != null && (verified?.length ?? 0) === 0 ? { via } : {}),
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
    // a relay newly verified is what the next start needs most: written at once, not batched
    this.changed(isVerifiedRelay(kept) && !isVerifiedRelay(known))
    if (known == null) this.log('keeping %s (%s) from %s', id, roles.join(',') || 'unknown role', hint.source)
    if (vouched.includes('relay') && !isVerifiedRelay(kept)) this.safeDispatchEvent('keeper:vouched', { detail: kept })
    return kept
  }

  /** Peers kept on `via`'s word alone. */
  private countVia (via: string): number {
    let n = 0
    for (const p of this.peers.values()) {
      if (p.via === via && (p.verified?.length ?? 0) === 0) n++
    }
    return n
  }

  /** Roles this node checked itself some other way (a relay dialed back, see relay-probe). */
  verifyRoles (id: string, roles: NodeRole[]): void {
    const peer = this.peers.get(id)
    if (peer == null) return
    const wasRelay = isVerifiedRelay(peer)
    peer.verified = [...new Set([...(peer.verified ?? []), ...roles])]
    peer.roles = [...new Set([...peer.roles, ...roles])]
    peer.via = undefined
    this.changed(!wasRelay && isVerifiedRelay(peer))
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
    // a connection that never got a session is a stranger's: keep nothing of it
    const peer = evt.detail.peerId.toString()
    const sessions = this.components.sessions.list().filter(s => s.remotePeer === peer)
    if (sessions.length === 0) return
    this.components.peerStore.get(evt.detail.peerId).then(async p => {
      if (p.peerRecordEnvelope == null) return
      const fresh = !this.peers.has(peer)
      await this.addRecord(p.peerRecordEnvelope, { source: 'identify' })
      // the session came before its record: what it told us applies now
      if (fresh) for (const session of sessions) this.applySession(session)
    }).catch(() => {})
  }

  private readonly onSessionOpen = (evt: CustomEvent<SessionView>): void => {
    const session = evt.detail
    if (this.peers.has(session.remotePeer)) {
      this.applySession(session)
      return
    }
    // the record usually arrives with identify, just after the session
    this.components.peerStore.get(peerIdFromString(session.remotePeer)).then(async p => {
      if (p.peerRecordEnvelope != null) await this.addRecord(p.peerRecordEnvelope, { source: 'session' })
      this.applySession(session)
    }).catch(() => {})
  }

  /** Roles, load and score from a verified session. */
  private applySession (session: SessionView): void {
    const peer = this.peers.get(session.remotePeer)
    if (peer == null) return
    const wasRelay = isVerifiedRelay(peer)
    const claimed = session.remoteHello.roles
    if (session.dialer && (session.kind === 'tcp' || session.kind === 'websocket')) {
      // we dialed its address and it answered: what it says it is, it is
      peer.verified = [...claimed]
      peer.roles = [...claimed]
      peer.via = undefined
    } else {
      // it came to us (or through someone): a relay claim proves nothing yet
      const checked = claimed.filter(r => r !== 'relay')
      peer.verified = [...new Set([...(peer.verified ?? []), ...checked])]
      peer.roles = [...new Set([...peer.roles, ...checked])]
      if (peer.verified.length > 0) peer.via = undefined
    }
    if (session.remoteHello.load != null) peer.load = session.remoteHello.load
    peer.score = scored(peer.score, 'session')
    peer.lastSeen = Date.now()
    // dialing a relay and hearing it say so is how a tab usually verifies one
    this.changed(!wasRelay && isVerifiedRelay(peer))
  }

  private readonly onRefused = (evt: CustomEvent<{ peer: string, reason: string, remote: boolean }>): void => {
    const { peer, reason, remote } = evt.detail
    // a peer leaving (or done checking us) refuses nothing
    if (remote && reason !== 'ShuttingDown') {
      this.note(peer, 'refused-us')
      if (reason === 'TooManyPeers') {
        const kept = this.peers.get(peer)
        if (kept != null) kept.load = 1
      }
    } else if (!remote && (reason === 'InvalidProof' || reason === 'BadProtocol')) {
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

  private changed (urgent = false): void {
    this.safeDispatchEvent('keeper:update', { detail: this.list() })
    this.scheduleSave(urgent ? 0 : this.saveDelay)
  }

  /** One write pending at a time; an urgent change brings a batched write forward. */
  private scheduleSave (delay = this.saveDelay): void {
    if (this.store == null) return
    if (this.saveTimer != null) {
      if (delay >= this.saveDelay) return
      clearTimeout(this.saveTimer)
    }
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      this.save().catch(err => { this.log.error('could not save kept peers - %e', err) })
    }, delay)
  }

  private async save (): Promise<void> {
    await this.store?.save(this.list())
  }
}

export function peerKeeper (init: PeerKeeperInit = {}): (components: PeerKeeperComponents) => PeerKeeper {
  return (components) => new PeerKeeper(components, init)
}
