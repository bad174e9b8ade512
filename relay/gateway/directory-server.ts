import { lpStream } from '@libp2p/utils'
import { toString as toBase64 } from 'uint8arrays/to-string'
import { MAX_DIRECTORY_FRAME, MAX_DIRECTORY_PEERS, validateSubscribeFrame } from '../../shared/directory/index.ts'
import { decodeJson, DIRECTORY_PROTOCOL, encodeJson } from '../../shared/wire/index.ts'
import type { DirectoryEntry, PeerRole } from '../../shared/directory/index.ts'
import type { ComponentLogger, Connection, Libp2pEvents, Logger, PeerId, PeerStore, PeerUpdate, Startable, Stream, TypedEventTarget } from '@libp2p/interface'
import type { SessionManager } from '../../shared/peer-session/index.ts'
import { ProtocolError, ShuttingDownError } from '../../shared/errors.ts'

export interface DirectoryServerInit {
  /** Delay that batches bursts of changes into one broadcast, in ms. @default 100 */
  debounce?: number
  /**
   * Broadcasts are spaced by this much per subscriber (every one gets the
   * whole list, so their cost grows with the square of the subscribers),
   * in ms. @default 2
   */
  spacingPerSubscriber?: number
  /** Longest gap between broadcasts while changes wait, in ms. @default 5_000 */
  maxSpacing?: number
  /** Time allowed for a subscriber to send its subscribe frame, in ms. @default 10_000 */
  subscribeTimeout?: number
  /** Most peers listed in one snapshot. @default 256 */
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
}

/**
 * The relay's peer directory: every subscribed peer gets the list of the
 * other subscribers with their signed peer records, and a fresh list whenever
 * someone joins, leaves or changes addresses.
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
  private timer?: ReturnType<typeof setTimeout>
  private lastBroadcast = 0

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
    const sub: Subscriber = { id, peer: conn.remotePeer, role: frame.role, stream, since: Date.now(), write: async (bytes) => { await lp.write(bytes) } }
    this.subscribers.set(id, sub)
    this.log('%p subscribed as %s', conn.remotePeer, frame.role)
    stream.addEventListener('close', () => {
      if (this.subscribers.get(id) === sub) {
        this.subscribers.delete(id)
        this.schedule()
      }
    })
    // the newcomer gets the list at once; everyone else hears of it with the next broadcast
    await this.send([sub], await this.snapshot())
    this.schedule()
  }

  private readonly onPeerUpdate = (evt: CustomEvent<PeerUpdate>): void => {
    const { peer, previous } = evt.detail
    if (!this.subscribers.has(peer.id.toString())) return
    const before = previous?.peerRecordEnvelope
    const after = peer.peerRecordEnvelope
    if (before == null || after == null || before.byteLength !== after.byteLength || !before.every((b, i) => b === after[i])) {
      this.schedule()
    }
  }

  /**
   * One broadcast for the changes of a while: `debounce` after the first
   * change, and no sooner than the spacing the subscriber count asks for
   * after the last broadcast (at 1,000 tabs joining and leaving, a list
   * sent to all of them on each change was most of the relay's work).
   */
  private schedule (): void {
    if (this.timer != null) return
    const spacing = Math.min(this.subscribers.size * this.spacingPerSubscriber, this.maxSpacing)
    const wait = Math.max(this.debounce, this.lastBroadcast + spacing - Date.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.lastBroadcast = Date.now()
      this.broadcast().catch(err => { this.log.error('directory broadcast failed - %e', err) })
    }, wait)
  }

  private async snapshot (): Promise<DirectoryEntry[]> {
    const newest = [...this.subscribers.values()].sort((a, b) => b.since - a.since).slice(0, this.maxListed)
    const entries: DirectoryEntry[] = []
    for (const sub of newest) {
      try {
        const peer = await this.components.peerStore.get(sub.peer)
        if (peer.peerRecordEnvelope != null) entries.push({ id: sub.id, role: sub.role, record: toBase64(peer.peerRecordEnvelope, 'base64'), since: sub.since })
      } catch {}
    }
    return entries
  }

  private async broadcast (): Promise<void> {
    await this.send([...this.subscribers.values()], await this.snapshot())
  }

  private async send (to: Subscriber[], peers: DirectoryEntry[]): Promise<void> {
    const bytes = encodeJson({ v: 1, type: 'peers', peers }, MAX_DIRECTORY_FRAME)
    await Promise.all(to.map(async sub => {
      try {
        await sub.write(bytes)
      } catch (err: any) {
        this.log('dropping subscriber %s - %e', sub.id, err)
        sub.stream.abort(err)
      }
    }))
  }
}

export function directoryServer (init: DirectoryServerInit = {}): (components: DirectoryServerComponents) => DirectoryServer {
  return (components) => new DirectoryServer(components, init)
}
