import { lpStream } from '@libp2p/utils'
import { fromString as fromBase64 } from 'uint8arrays/from-string'
import { decodeJson, encodeJson, PEX_PROTOCOL } from '../wire/index.ts'
import { MAX_PEX_FRAME, MAX_PEX_PEERS, validatePexRequest, validatePexResponse } from './pex-codec.ts'
import { answeredAsRelay } from './kept-peer.ts'
import { PexAnswers } from './pex-answers.ts'
import type { PeerKeeper } from './peer-keeper.ts'
import type { PeerSession } from '../peer-session/index.ts'
import type { SessionManager } from '../peer-session/index.ts'
import type { NodeRole } from '../peer-session/index.ts'
import type { AbortOptions, ComponentLogger, Connection, Logger, Startable, Stream } from '@libp2p/interface'

export interface PeerExchangeInit {
  /** Ask every new relay session for the relays it knows. @default true */
  askRelays?: boolean
  /** Minimum time between two asks to the same peer, in ms. @default 60_000 */
  askInterval?: number
  /** Time allowed for one exchange, in ms. @default 10_000 */
  timeout?: number
  /** Tabs and Node peers not seen for longer are not passed on, in ms. @default 120_000 */
  maxAge?: number
  /** Relays only: ask every connected relay for peers this often, in ms. @default none */
  gossipInterval?: number
}

export interface PeerExchangeComponents {
  logger: ComponentLogger
  sessions: SessionManager
  keeper: PeerKeeper
}

/**
 * Peer exchange: a peer asks another for the signed peer records it keeps
 * (relays first). Every record is verified before it is kept; a peer that
 * hands out forged ones is reported.
 */
export class PeerExchange implements Startable {
  private readonly components: PeerExchangeComponents
  private readonly log: Logger
  private readonly askRelays: boolean
  private readonly askInterval: number
  private readonly timeout: number
  private readonly maxAge: number
  private readonly gossipInterval?: number
  private gossip?: ReturnType<typeof setInterval>
  private readonly asked = new Map<string, number>()
  private readonly answers: PexAnswers

  constructor (components: PeerExchangeComponents, init: PeerExchangeInit = {}) {
    this.components = components
    this.log = components.logger.forComponent('golem-clay:pex')
    this.askRelays = init.askRelays ?? true
    this.askInterval = init.askInterval ?? 60_000
    this.timeout = init.timeout ?? 10_000
    this.maxAge = init.maxAge ?? 120_000
    this.gossipInterval = init.gossipInterval
    this.answers = new PexAnswers(components.keeper, { maxAge: this.maxAge })
  }

  readonly [Symbol.toStringTag] = '@golem-clay/pex'

  async start (): Promise<void> {
    await this.components.sessions.handle(PEX_PROTOCOL, (stream, conn) => {
      this.serve(stream, conn).catch(err => { this.log('pex request from %p failed - %e', conn.remotePeer, err) })
    }, { maxInboundStreams: 2 })
    this.components.sessions.addEventListener('session:open', this.onSession)
    this.components.keeper.addEventListener('keeper:update', this.answers.clear)
    if (this.gossipInterval != null) this.gossip = setInterval(() => { this.gossipRound() }, this.gossipInterval)
  }

  async stop (): Promise<void> {
    clearInterval(this.gossip)
    this.components.sessions.removeEventListener('session:open', this.onSession)
    this.components.keeper.removeEventListener('keeper:update', this.answers.clear)
    await this.components.sessions.unhandle(PEX_PROTOCOL)
  }

  /** Asks the peer on `conn` for up to `max` peers with `roles`; returns how many new ones were kept. */
  async ask (conn: Connection, roles: NodeRole[], max = 32, options: AbortOptions = {}): Promise<number> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeout), ...(options.signal != null ? [options.signal] : [])])
    this.asked.set(conn.remotePeer.toString(), Date.now())
    const { stream } = await this.components.sessions.open(conn, PEX_PROTOCOL, { signal })
    const lp = lpStream(stream, { maxDataLength: MAX_PEX_FRAME })
    let fresh = 0
    try {
      await lp.write(encodeJson({ v: 1, type: 'request', roles, max }, MAX_PEX_FRAME), { signal })
      const response = decodeJson(await lp.read({ signal }), validatePexResponse)
      await stream.close({ signal })
      for (const entry of response.peers.slice(0, max)) {
        const before = this.components.keeper.size
        try {
          await this.components.keeper.addRecord(fromBase64(entry.record, 'base64'), { roles: entry.roles, source: 'pex', seenAgo: entry.age, via: conn.remotePeer.toString() })
          if (this.components.keeper.size > before) fresh++
        } catch {
          // a forged or garbled record: the source vouched for it
          this.components.sessions.report(conn.remotePeer, 'bad-frame')
          this.components.keeper.note(conn.remotePeer.toString(), 'misbehaved')
        }
      }
      return fresh
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }

  private async serve (stream: Stream, conn: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.timeout)
    const lp = lpStream(stream, { maxDataLength: MAX_PEX_FRAME })
    try {
      const request = decodeJson(await lp.read({ signal }), validatePexRequest)
      const now = Date.now()
      const peers = this.answers.answer(conn.remotePeer.toString(), request.roles, request.max)
        .map(c => ({ roles: c.roles, record: c.record, age: Math.max(0, now - c.lastSeen) }))
      await lp.write(encodeJson({ v: 1, type: 'peers', peers }, MAX_PEX_FRAME), { signal })
      await stream.close({ signal })
    } catch (err: any) {
      stream.abort(err)
      if (err.name === 'InvalidMessageError') this.components.sessions.report(conn.remotePeer, 'bad-frame')
      throw err
    }
  }

  /** Relays keep each other informed of the peers they serve (only relays they verified: their word is what counts). */
  private gossipRound (): void {
    const verified = this.components.keeper.verifiedRelays()
    for (const session of this.components.sessions.list()) {
      if (!verified(session.remotePeer)) continue
      this.ask(session.connection, ['relay', 'tab', 'node'], 64).catch(err => { this.log('gossip with %s failed - %e', session.remotePeer, err) })
    }
  }

  private readonly onSession = (evt: CustomEvent<PeerSession>): void => {
    const session = evt.detail
    // only a relay we dialed has its word count; one that dialed us is dialed back first (relay-probe)
    if (!this.askRelays || !answeredAsRelay(session)) return
    const last = this.asked.get(session.remotePeer) ?? 0
    if (Date.now() - last < this.askInterval) return
    this.ask(session.connection, ['relay'], 32).then(
      (fresh) => { if (fresh > 0) this.log('learned %d relays from %s', fresh, session.remotePeer) },
      (err) => { this.log('asking %s for relays failed - %e', session.remotePeer, err) }
    )
  }
}

export function peerExchange (init: PeerExchangeInit = {}): (components: PeerExchangeComponents) => PeerExchange {
  return (components) => new PeerExchange(components, init)
}
