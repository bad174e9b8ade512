import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Circuit, WebRTC } from '@multiformats/multiaddr-matcher'
import { TypedEventEmitter } from 'main-event'
import { delay, lastPeerId } from '../util/index.ts'
import { measureRtt } from './rtt.ts'
import type { DirectoryClient, DirectoryPeer } from '../directory/index.ts'
import type { PeerKeeper } from '../peer-keeper/index.ts'
import type { ComponentLogger, Connection, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface DirectDialerInit {
  /** Most peers to keep a connection with. @default 32 */
  maxPeers?: number
  /** Time allowed for the first attempt, in ms; later attempts get more. @default 4_000 */
  dialTimeout?: number
  /** Attempts per round before giving up until the next round. @default 4 */
  attempts?: number
  /**
   * Of two tabs only one dials (the later arrival, see
   * `DirectoryClient.shouldDial`). The other waits this long (ms) and then
   * dials too, in case the first could not. @default 8_000
   */
  fallbackDelay?: number
  /** How often every known peer is re-checked, in ms. @default 15_000 */
  recheckInterval?: number
}

export interface DirectDialerComponents {
  peerId: PeerId
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  directory: DirectoryClient
  /** Optional: peers on other relays, found through the DHT and peer exchange. */
  keeper?: PeerKeeper
}

export interface DialOutcome {
  peer: string
  attempts: number
  ok: boolean
  error?: string
}

export interface DirectDialerEvents {
  'dial:done': CustomEvent<DialOutcome>
}

/**
 * Connects this tab to the peers its relays list: straight over WebRTC when
 * the peer advertises a `/webrtc` address, through the relay otherwise (Node
 * peers). A WebRTC dial that stalls is retried with a short timeout: Chromium
 * occasionally never opens the first data channel, and an immediate redial
 * succeeds.
 */
export class DirectDialer extends TypedEventEmitter<DirectDialerEvents> implements Startable {
  private readonly components: DirectDialerComponents
  private readonly log: Logger
  private readonly maxPeers: number
  private readonly dialTimeout: number
  private readonly attempts: number
  private readonly fallbackDelay: number
  private readonly recheckInterval: number
  private readonly pending = new Set<string>()
  private readonly fallbacks = new Map<string, ReturnType<typeof setTimeout>>()
  private controller?: AbortController
  private recheck?: ReturnType<typeof setInterval>

  constructor (components: DirectDialerComponents, init: DirectDialerInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('golem-clay:direct-dialer')
    this.maxPeers = init.maxPeers ?? 32
    this.dialTimeout = init.dialTimeout ?? 4_000
    this.attempts = init.attempts ?? 4
    this.fallbackDelay = init.fallbackDelay ?? 8_000
    this.recheckInterval = init.recheckInterval ?? 15_000
  }

  readonly [Symbol.toStringTag] = '@golem-clay/direct-dialer'

  start (): void {
    this.controller = new AbortController()
    this.components.directory.addEventListener('directory:update', this.onUpdate)
    this.keeper()?.addEventListener('keeper:update', this.onUpdate)
    this.components.events.addEventListener('peer:disconnect', this.onUpdate)
    this.components.events.addEventListener('connection:open', this.onConnectionOpen)
    this.recheck = setInterval(this.onUpdate, this.recheckInterval)
  }

  stop (): void {
    this.controller?.abort()
    this.components.directory.removeEventListener('directory:update', this.onUpdate)
    this.keeper()?.removeEventListener('keeper:update', this.onUpdate)
    this.components.events.removeEventListener('peer:disconnect', this.onUpdate)
    this.components.events.removeEventListener('connection:open', this.onConnectionOpen)
    clearInterval(this.recheck)
    for (const timer of this.fallbacks.values()) clearTimeout(timer)
    this.fallbacks.clear()
  }

  private readonly onUpdate = (): void => {
    for (const peer of this.candidates()) this.consider(peer)
  }

  private keeper (): PeerKeeper | undefined {
    try {
      return this.components.keeper
    } catch {
      return undefined
    }
  }

  /**
   * Peers worth a link, best first: those our own relays list (one hop of
   * signalling away), then peers on other relays by measured RTT.
   */
  candidates (): DirectoryPeer[] {
    const listed = this.components.directory.peers
    const seen = new Set(listed.map(p => p.id.toString()))
    const self = this.components.peerId.toString()
    const now = Date.now()
    const others = (this.keeper()?.list() ?? [])
      .filter(p => !seen.has(p.id) && p.id !== self && p.multiaddrs.length > 0 && (p.roles.includes('tab') || p.roles.includes('node')))
      // seen lately by someone: a tab that left long ago is not worth a dial
      .filter(p => now - p.lastSeen < 120_000)
      .sort((a, b) => (a.rtt ?? Infinity) - (b.rtt ?? Infinity) || b.lastSeen - a.lastSeen)
      .map((p): DirectoryPeer => ({
        id: peerIdFromString(p.id),
        role: p.roles.includes('tab') ? 'tab' : 'node',
        multiaddrs: p.multiaddrs.map(a => multiaddr(a)),
        via: []
      }))
    return [...listed, ...others]
  }

  private consider (peer: DirectoryPeer, isFallback = false): void {
    const id = peer.id.toString()
    if (this.pending.has(id) || this.hasDirectConnection(peer.id)) return
    if (this.connectedPeerCount() >= this.maxPeers) return
    const webrtc = withPeerId(peer.multiaddrs.filter(ma => WebRTC.matches(ma)), id)
    if (webrtc.length > 0) {
      // one side dials so two tabs don't race each other with crossing offers
      if (isFallback || this.components.directory.shouldDial(peer)) {
        void this.dial(peer.id, webrtc)
      } else if (!this.fallbacks.has(id)) {
        this.fallbacks.set(id, setTimeout(() => {
          this.fallbacks.delete(id)
          this.consider(peer, true)
        }, this.fallbackDelay))
      }
      return
    }
    const relayed = withPeerId(peer.multiaddrs.filter(ma => Circuit.matches(ma)), id)
    if (relayed.length > 0 && this.components.connectionManager.getConnections(peer.id).length === 0) {
      void this.dial(peer.id, relayed)
    }
  }

  private async dial (peer: PeerId, addrs: Multiaddr[]): Promise<void> {
    const id = peer.toString()
    const stopped = this.controller?.signal ?? AbortSignal.abort()
    this.pending.add(id)
    let attempt = 0
    let error: string | undefined
    try {
      while (attempt < this.attempts && !stopped.aborted) {
        attempt++
        try {
          const signal = AbortSignal.any([stopped, AbortSignal.timeout(this.dialTimeout * attempt)])
          const conn = await this.components.connectionManager.openConnection(addrs, { signal })
          this.closeLimitedConnections(peer, conn)
          measureRtt(conn, { signal: AbortSignal.timeout(5_000) }).catch(() => {})
          this.log('connected to %p on attempt %d', peer, attempt)
          this.safeDispatchEvent('dial:done', { detail: { peer: id, attempts: attempt, ok: true } })
          return
        } catch (err: any) {
          error = err.message
          this.log('dial attempt %d to %p failed - %s', attempt, peer, err.message)
          if (this.hasDirectConnection(peer)) return
          await delay(100 * attempt, stopped).catch(() => {})
        }
      }
      this.safeDispatchEvent('dial:done', { detail: { peer: id, attempts: attempt, ok: false, error } })
    } finally {
      this.pending.delete(id)
    }
  }

  /**
   * Whichever side dialled, and whenever a relayed connection turns up: once a
   * direct link to the peer exists, relayed ones only hold a relay slot.
   */
  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const peer = evt.detail.remotePeer
    const direct = this.components.connectionManager.getConnections(peer).find(c => c.status === 'open' && c.limits == null)
    if (direct != null) this.closeLimitedConnections(peer, direct)
  }

  /** The relayed connection only carried signalling once WebRTC is up. */
  private closeLimitedConnections (peer: PeerId, keep: Connection): void {
    if (keep.limits != null) return
    for (const conn of this.components.connectionManager.getConnections(peer)) {
      if (conn.id !== keep.id && conn.limits != null) {
        conn.close().catch(err => { conn.abort(err) })
      }
    }
  }

  private hasDirectConnection (peer: PeerId): boolean {
    return this.components.connectionManager.getConnections(peer).some(c => c.status === 'open' && c.limits == null)
  }

  private connectedPeerCount (): number {
    const known = new Set(this.candidates().map(p => p.id.toString()))
    return this.components.connectionManager.getConnections().filter(c => known.has(c.remotePeer.toString())).length
  }
}

function withPeerId (addrs: Multiaddr[], id: string): Multiaddr[] {
  return addrs.map(ma => lastPeerId(ma) === id ? ma : ma.encapsulate(`/p2p/${id}`))
}

export function directDialer (init: DirectDialerInit = {}): (components: DirectDialerComponents) => DirectDialer {
  return (components) => new DirectDialer(components, init)
}
