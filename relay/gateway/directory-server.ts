import { lpStream } from '@libp2p/utils'
import { toString as toBase64 } from 'uint8arrays/to-string'
import { MAX_DIRECTORY_FRAME, MAX_DIRECTORY_PEERS, validateSubscribeFrame } from '../../shared/directory/index.ts'
import { decodeJson, DIRECTORY_PROTOCOL, encodeJson } from '../../shared/wire/index.ts'
import type { DirectoryEntry, DirectoryFrame, PeerRole } from '../../shared/directory/index.ts'
import type { ComponentLogger, Connection, Libp2pEvents, Logger, PeerId, PeerStore, PeerUpdate, Startable, Stream, TypedEventTarget } from '@libp2p/interface'
import type { SessionManager } from '../../shared/peer-session/index.ts'
import { ProtocolError, ShuttingDownError } from '../../shared/errors.ts'

export interface DirectoryServerInit {
  /** Delay that batches bursts of changes into one broadcast, in ms. @default 100 */
  debounce?: number
  /**
   * Broadcasts are spaced by this much per subscriber, so the relay writes
   * at most 1 / spacing frames a second however many subscribe, in ms. @default 2
   */
  spacingPerSubscriber?: number
  /** Longest gap between broadcasts while changes wait, in ms. @default 5_000 */
  maxSpacing?: number
  /** Time allowed for a subscriber to send its subscribe frame, in ms. @default 10_000 */
  subscribeTimeout?: number
  /** Most peers listed (the newest subscribers). @default 256 */
  maxListed?: number
}

export interface DirectoryServerComponents {
  sessions: SessionManager
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

interface Subscriber {
  id: string
  peer: PeerId
  role: PeerRole
  stream: Stream
  write: (bytes: Uint8Array) => Promise<void>
  since: number
  /** Hears broadcasts once its list is on the way (frames go out in order). */
  ready: boolean
  /** Frames written or waiting; a subscriber that falls this far behind is dropped. */
  backlog: number
  sending: Promise<void>
}

/** Frames one subscriber may have waiting before it is dropped as too slow. */
const MAX_BACKLOG = 16
/** Subscribers written to per turn of the event loop during a broadcast. */
const WRITE_SLICE = 64

/**
 * The relay's peer directory: a subscriber gets the list of the newest
 * subscribers with their signed peer records, then what changed (who came,
 * who left, whose addresses moved) in one shared frame per broadcast.
 */
export class DirectoryServer implements Startable {
  private readonly components: DirectoryServerComponents
  private readonly log: Logger
  private readonly debounce: number
  private readonly subscribeTimeout: number
  private readonly maxListed: number
  private readonly spacingPerSubscriber: number
  private readonly maxSpacing: number
  private readonly subscribers = new Map<string, Subscriber>()
  /** The list as every subscriber last heard it. */
  private readonly listed = new Map<string, DirectoryEntry>()
  /** Listed peers whose record changed since the last broadcast. */
  private readonly updated = new Set<string>()
  private timer?: ReturnType<typeof setTimeout>
  private lastBroadcast = 0
  /** Broadcasts run one after the other: each is a change from the list the one before left. */
  private broadcasting = Promise.resolve()

  constructor (components: DirectoryServerComponents, init: DirectoryServerInit = {}) {
    this.components = components
    this.log = components.logger.forComponent('golem-clay:directory-server')
    this.debounce = init.debounce ?? 100
    this.subscribeTimeout = init.subscribeTimeout ?? 10_000
    this.maxListed = Math.min(init.maxListed ?? MAX_DIRECTORY_PEERS, MAX_DIRECTORY_PEERS)
    this.spacingPerSubscriber = init.spacingPerSubscriber ?? 2
    this.maxSpacing = init.maxSpacing ?? 5_000
  }

  readonly [Symbol.toStringTag] = '@golem-clay/directory-server'

  get size (): number {
    return this.subscribers.size
  }

  async start (): Promise<void> {
    await this.components.sessions.handle(DIRECTORY_PROTOCOL, (stream, conn) => {
      this.onStream(stream, conn).catch(err => { this.log('directory stream from %p refused - %e', conn.remotePeer, err) })
    }, { maxInboundStreams: 2 })
    this.components.events.addEventListener('peer:update', this.onPeerUpdate)
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    this.components.events.removeEventListener('peer:update', this.onPeerUpdate)
    await this.components.sessions.unhandle(DIRECTORY_PROTOCOL)
    for (const sub of this.subscribers.values()) sub.stream.abort(new ShuttingDownError('Relay shutting down'))
    this.subscribers.clear()
    this.listed.clear()
    this.updated.clear()
  }

  private async onStream (stream: Stream, conn: Connection): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: MAX_DIRECTORY_FRAME })
    let frame
    try {
      frame = decodeJson(await lp.read({ signal: AbortSignal.timeout(this.subscribeTimeout) }), validateSubscribeFrame)
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
    const id = conn.remotePeer.toString()
    this.subscribers.get(id)?.stream.abort(new ProtocolError('Replaced by a newer subscription'))
    const sub: Subscriber = { id, peer: conn.remotePeer, role: frame.role, stream, since: Date.now(), write: async (bytes) => { await lp.write(bytes) }, ready: false, backlog: 0, sending: Promise.resolve() }
    this.subscribers.set(id, sub)
    this.log('%p subscribed as %s', conn.remotePeer, frame.role)
    stream.addEventListener('close', () => {
      if (this.subscribers.get(id) === sub) {
        this.subscribers.delete(id)
        this.schedule()
      }
    })
    // the newcomer gets the list at once (with its own entry: its join time
    // there orders links); everyone else hears of it with the next broadcast
    const own = await this.entry(sub)
    const peers = [...this.listed.values()].filter(e => e.id !== id)
    if (own != null) peers.unshift(own)
    sub.ready = true
    void this.send([sub], { v: 1, type: 'peers', peers: peers.slice(0, this.maxListed) })
    this.schedule()
  }

  private readonly onPeerUpdate = (evt: CustomEvent<PeerUpdate>): void => {
    const { peer, previous } = evt.detail
    const id = peer.id.toString()
    if (!this.subscribers.has(id)) return
    const before = previous?.peerRecordEnvelope
    const after = peer.peerRecordEnvelope
    if (before == null || after == null || before.byteLength !== after.byteLength || !before.every((b, i) => b === after[i])) {
      this.updated.add(id)
      this.schedule()
    }
  }

  /**
   * One broadcast for the changes of a while: `debounce` after the first
   * change, and no sooner than the spacing the subscriber count asks for
   * after the last broadcast.
   */
  private schedule (): void {
    if (this.timer != null) return
    const spacing = Math.min(this.subscribers.size * this.spacingPerSubscriber, this.maxSpacing)
    const wait = Math.max(this.debounce, this.lastBroadcast + spacing - Date.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.lastBroadcast = Date.now()
      this.broadcasting = this.broadcasting.then(async () => { await this.broadcast() }).catch(err => { this.log.error('directory broadcast failed - %e', err) })
    }, wait)
  }

  private async entry (sub: Subscriber): Promise<DirectoryEntry | undefined> {
    try {
      const peer = await this.components.peerStore.get(sub.peer)
      if (peer.peerRecordEnvelope != null) return { id: sub.id, role: sub.role, record: toBase64(peer.peerRecordEnvelope, 'base64'), since: sub.since }
    } catch {}
  }

  /** The newest subscribers are listed; the frame says how that list moved since the last one. */
  private async broadcast (): Promise<void> {
    const newest = [...this.subscribers.values()].sort((a, b) => b.since - a.since).slice(0, this.maxListed)
    const wanted = new Set(newest.map(s => s.id))
    const removed = [...this.listed.keys()].filter(id => !wanted.has(id) || this.listed.get(id)?.since !== this.subscribers.get(id)?.since)
    for (const id of removed) this.listed.delete(id)
    const added: DirectoryEntry[] = []
    for (const sub of newest) {
      if (this.listed.has(sub.id) && !this.updated.has(sub.id)) continue
      const entry = await this.entry(sub)
      if (entry == null) continue
      this.listed.set(sub.id, entry)
      added.push(entry)
    }
    this.updated.clear()
    // a peer that left and came back within one broadcast is replaced, not removed
    const back = new Set(added.map(e => e.id))
    const gone = removed.filter(id => !back.has(id))
    if (added.length === 0 && gone.length === 0) return
    await this.send([...this.subscribers.values()].filter(s => s.ready), { v: 1, type: 'changes', added, removed: gone })
  }

  /**
   * Encoded once, queued per subscriber: each one's frames go out in order,
   * one slow reader holds up no one else, and a broadcast to thousands is
   * written a slice at a time so heartbeats get through in between.
   */
  private async send (to: Subscriber[], frame: DirectoryFrame): Promise<void> {
    const bytes = encodeJson(frame, MAX_DIRECTORY_FRAME)
    for (let i = 0; i < to.length; i += WRITE_SLICE) {
      if (i > 0) await new Promise(resolve => setImmediate(resolve))
      for (const sub of to.slice(i, i + WRITE_SLICE)) this.queue(sub, bytes)
    }
  }

  private queue (sub: Subscriber, bytes: Uint8Array): void {
    if (sub.backlog >= MAX_BACKLOG) {
      this.log('dropping subscriber %s - %d frames behind', sub.id, sub.backlog)
      sub.stream.abort(new ProtocolError('Directory subscriber too slow'))
      return
    }
    sub.backlog++
    sub.sending = sub.sending.then(async () => { await sub.write(bytes) }).catch((err: Error) => {
      if (sub.stream.status === 'open') this.log('dropping subscriber %s - %e', sub.id, err)
      sub.stream.abort(err)
    }).finally(() => { sub.backlog-- })
  }
}

export function directoryServer (init: DirectoryServerInit = {}): (components: DirectoryServerComponents) => DirectoryServer {
  return (components) => new DirectoryServer(components, init)
}
