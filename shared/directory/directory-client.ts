import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { TypedEventEmitter } from 'main-event'
import { fromString as fromBase64 } from 'uint8arrays/from-string'
import { openSignedPeerRecord } from '../local-node/index.ts'
import { decodeJson, DIRECTORY_PROTOCOL, encodeJson } from '../wire/index.ts'
import { MAX_DIRECTORY_FRAME, validateDirectoryFrame } from './directory-codec.ts'
import type { DirectoryEntry, DirectoryFrame, PeerRole } from './directory-codec.ts'
import type { ComponentLogger, Connection, Logger, PeerId, PeerStore, Startable, Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'
import type { SessionManager } from '../peer-session/index.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import { ProtocolError, ShuttingDownError } from '../errors.ts'

export interface DirectoryClientInit {
  /** What this node is, as announced to relays. @default 'tab' */
  role?: PeerRole
}

export interface DirectoryClientComponents {
  peerId: PeerId
  peerStore: PeerStore
  registrar: Registrar
  logger: ComponentLogger
  sessions: SessionManager
}

export interface DirectoryPeer {
  id: PeerId
  role: PeerRole
  /** Addresses from the peer's own signed record. */
  multiaddrs: Multiaddr[]
  /** Relays that list this peer, with when it joined each (relay clock). */
  via: Array<{ relay: string, since: number }>
}

export interface DirectoryClientEvents {
  /** The merged list of peers known from every relay's directory changed. */
  'directory:update': CustomEvent<DirectoryPeer[]>
}

/**
 * Subscribes to the peer directory of every connected peer that serves one
 * (relays) and keeps a merged, verified list: entries whose signed record
 * does not verify are dropped.
 */
export class DirectoryClient extends TypedEventEmitter<DirectoryClientEvents> implements Startable {
  private readonly components: DirectoryClientComponents
  private readonly role: PeerRole
  private readonly log: Logger
  private readonly byRelay = new Map<string, Map<string, DirectoryPeer>>()
  /** When this node joined each relay's directory, in that relay's clock. */
  private readonly joined = new Map<string, number>()
  private topologyId?: string
  private readonly streams = new Map<string, Stream>()
  private readonly subscribing = new Set<string>()

  constructor (components: DirectoryClientComponents, init: DirectoryClientInit = {}) {
    super()
    this.components = components
    this.role = init.role ?? 'tab'
    this.log = components.logger.forComponent('golem-clay:directory-client')
  }

  readonly [Symbol.toStringTag] = '@golem-clay/directory-client'

  async start (): Promise<void> {
    this.topologyId = await this.components.registrar.register(DIRECTORY_PROTOCOL, {
      onConnect: (peer, conn) => {
        this.subscribe(peer, conn).catch(err => { this.log('directory subscription to %p ended - %e', peer, err) })
      },
      onDisconnect: (peer) => { this.dropRelay(peer.toString()) }
    })
  }

  async stop (): Promise<void> {
    if (this.topologyId != null) this.components.registrar.unregister(this.topologyId)
    for (const stream of this.streams.values()) stream.abort(new ShuttingDownError('Directory client stopped'))
    this.streams.clear()
    this.byRelay.clear()
  }

  /** The merged list of known peers, without this node. */
  get peers (): DirectoryPeer[] {
    const merged = new Map<string, DirectoryPeer>()
    for (const [relay, peers] of this.byRelay) {
      for (const [id, peer] of peers) {
        const known = merged.get(id)
        if (known == null) merged.set(id, { ...peer, via: [...peer.via] })
        else known.via.push(...peer.via)
      }
    }
    return [...merged.values()]
  }

  /**
   * Which of two peers should open the link between them: the one that
   * joined a shared relay later (it has just arrived; the other may still
   * hold a stale link to its previous self), the smaller ID on a tie.
   */
  shouldDial (peer: DirectoryPeer): boolean {
    for (const { relay, since } of peer.via) {
      const mine = this.joined.get(relay)
      if (mine != null && mine !== since) return mine > since
    }
    return this.components.peerId.toString() < peer.id.toString()
  }

  private async subscribe (relay: PeerId, conn: Connection): Promise<void> {
    const key = relay.toString()
    // identify runs again now and then and calls onConnect each time: a live
    // subscription is kept, so the list never blanks out in between
    if (this.subscribing.has(key) || this.streams.get(key)?.status === 'open') return
    this.subscribing.add(key)
    let stream: Stream
    try {
      stream = (await this.components.sessions.open(conn, DIRECTORY_PROTOCOL)).stream
    } finally {
      this.subscribing.delete(key)
    }
    this.streams.set(key, stream)
    const lp = lpStream(stream, { maxDataLength: MAX_DIRECTORY_FRAME })
    try {
      await lp.write(encodeJson({ v: 1, type: 'subscribe', role: this.role }, MAX_DIRECTORY_FRAME))
      while (stream.status === 'open') {
        await this.apply(key, decodeJson(await lp.read(), validateDirectoryFrame))
      }
    } catch (err: any) {
      stream.abort(err)
      throw err
    } finally {
      if (this.streams.get(key) === stream) {
        this.streams.delete(key)
        this.dropRelay(key)
      }
    }
  }

  /** The first frame is the whole list; later ones say what changed, so a join costs every subscriber one entry, not the list. */
  private async apply (relay: string, frame: DirectoryFrame): Promise<void> {
    let listed = this.byRelay.get(relay)
    if (frame.type === 'peers' || listed == null) {
      if (frame.type === 'changes') throw new ProtocolError('Directory changes before the list')
      listed = new Map()
      this.byRelay.set(relay, listed)
    }
    const added = frame.type === 'peers' ? frame.peers : frame.added
    if (frame.type === 'changes') for (const id of frame.removed) listed.delete(id)
    const self = this.components.peerId.toString()
    for (const entry of added) {
      if (entry.id === self) {
        this.joined.set(relay, entry.since)
        continue
      }
      const peer = await this.verify(relay, entry)
      if (peer != null) listed.set(entry.id, peer)
    }
    this.safeDispatchEvent('directory:update', { detail: this.peers })
  }

  private async verify (relay: string, entry: DirectoryEntry): Promise<DirectoryPeer | undefined> {
    try {
      const id = peerIdFromString(entry.id)
      const bytes = fromBase64(entry.record, 'base64')
      const record = await openSignedPeerRecord(bytes, id)
      await this.components.peerStore.consumePeerRecord(bytes, { expectedPeer: id })
      return { id, role: entry.role, multiaddrs: record.multiaddrs, via: [{ relay, since: entry.since }] }
    } catch (err) {
      this.log.error('ignoring directory entry %s from %s - %e', entry.id, relay, err)
    }
  }

  private dropRelay (relay: string): void {
    this.joined.delete(relay)
    if (this.byRelay.delete(relay)) this.safeDispatchEvent('directory:update', { detail: this.peers })
  }
}

export function directoryClient (init: DirectoryClientInit = {}): (components: DirectoryClientComponents) => DirectoryClient {
  return (components) => new DirectoryClient(components, init)
}
