import { peerIdFromString } from '@libp2p/peer-id'
import { isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { lastPeerId } from '../util/index.ts'
import type { PeerKeeper } from './peer-keeper.ts'
import type { PeerSession } from '../peer-session/index.ts'
import type { SessionManager } from '../peer-session/index.ts'
import type { ComponentLogger, Logger, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface RelayProbeInit {
  /** Which addresses of a claimed relay to dial (e.g. TCP on relays). @default any */
  acceptAddr?: (ma: Multiaddr) => boolean
  /** Dial one claimant at most this often, in ms. @default 600_000 */
  interval?: number
  /** Time for the record to arrive and the dial and handshake to finish, in ms. @default 10_000 */
  timeout?: number
  /** Probes at once; more wait, up to 64 (4 per address of a claimant). @default 4 */
  concurrency?: number
  /**
   * Dial loopback and private-range addresses too. Off for a public relay
   * (it announces its addresses): a record must not point it at its own
   * machine or network. @default true
   */
  allowPrivate?: boolean
}

export interface RelayProbeComponents {
  sessions: SessionManager
  keeper: PeerKeeper
  logger: ComponentLogger
}

const MAX_QUEUED = 64
const MAX_QUEUED_PER_ADDRESS = 4

/**
 * Relays only: a peer that dialed us saying it is a relay, and a relay
 * another relay vouched for, are dialed at an address from their own signed
 * record. If a relay answers there (its Hello, bound to both peer IDs), it
 * is one; saying so proves nothing, and a relay passes on only relays it
 * checked. A claimant that dialed us is dialed only on the IP it came from;
 * each peer at most once per interval (claims still open are tried again
 * then); a public relay dials no private address.
 */
export class RelayProbe implements Startable {
  private readonly components: RelayProbeComponents
  private readonly init: Required<RelayProbeInit>
  private readonly log: Logger
  private readonly probed = new Map<string, number>()
  private readonly queue: Array<{ peer: string, session?: PeerSession }> = []
  private running = 0
  private controller = new AbortController()
  private sweeper?: ReturnType<typeof setInterval>
  verified = 0
  failed = 0

  constructor (components: RelayProbeComponents, init: RelayProbeInit = {}) {
    this.components = components
    this.init = { acceptAddr: () => true, interval: 600_000, timeout: 10_000, concurrency: 4, allowPrivate: true, ...init }
    this.log = components.logger.forComponent('golem-clay:relay-probe')
  }

  readonly [Symbol.toStringTag] = '@golem-clay/relay-probe'

  start (): void {
    this.controller = new AbortController()
    this.components.sessions.addEventListener('session:open', this.onSession)
    this.components.keeper.addEventListener('keeper:vouched', this.onVouched)
    // a claim that could not be checked (queue full, relay busy) is tried again while its session lasts
    this.sweeper = setInterval(() => {
      for (const session of this.components.sessions.list()) {
        if (!session.dialer && session.remoteHello.roles.includes('relay')) this.enqueue(session.remotePeer, session)
      }
    }, this.init.interval)
  }

  stop (): void {
    this.controller.abort()
    clearInterval(this.sweeper)
    this.queue.length = 0
    this.components.sessions.removeEventListener('session:open', this.onSession)
    this.components.keeper.removeEventListener('keeper:vouched', this.onVouched)
  }

  private readonly onSession = (evt: CustomEvent<PeerSession>): void => {
    const session = evt.detail
    if (session.dialer || !session.remoteHello.roles.includes('relay')) return
    this.enqueue(session.remotePeer, session)
  }

  private readonly onVouched = (evt: CustomEvent<{ id: string }>): void => {
    this.enqueue(evt.detail.id)
  }

  private enqueue (peer: string, session?: PeerSession): void {
    if (this.components.keeper.isVerifiedRelay(peer)) return
    if (Date.now() - (this.probed.get(peer) ?? 0) < this.init.interval) return
    if (this.queue.length >= MAX_QUEUED) return
    const from = hostOf(session)
    if (from != null && this.queue.filter(q => hostOf(q.session) === from).length >= MAX_QUEUED_PER_ADDRESS) return
    this.probed.set(peer, Date.now())
    if (this.probed.size > 10_000) this.probed.delete(this.probed.keys().next().value as string)
    this.queue.push({ peer, session })
    this.next()
  }

  private next (): void {
    while (this.running < this.init.concurrency && this.queue.length > 0) {
      const item = this.queue.shift() as { peer: string, session?: PeerSession }
      this.running++
      this.probe(item.peer, item.session)
        .then(ok => { if (ok) this.verified++; else this.failed++ }, (err: any) => {
          this.failed++
          this.log('probing %s failed - %e', item.peer, err)
        })
        .finally(() => {
          this.running--
          this.next()
        })
    }
  }

  private async probe (peer: string, session?: PeerSession): Promise<boolean> {
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.init.timeout)])
    // the record comes with identify, right after the session, or not at all
    const addrs = await this.addressesOf(peer, session, AbortSignal.any([signal, AbortSignal.timeout(5_000)]))
    if (addrs.length === 0) {
      this.log('%s is said to be a relay but lists no address to check it at', peer)
      return false
    }
    const hello = await this.components.sessions.checkHello(peerIdFromString(peer), addrs, { signal })
    const ok = hello.roles.includes('relay')
    if (ok) this.components.keeper.verifyRoles(peer, hello.roles)
    this.log('%s %s as a relay when dialed', peer, ok ? 'answered' : 'did not answer')
    return ok
  }

  /**
   * The peer's own listen addresses, once its record is here: for one that
   * dialed us, only those on the IP it came from (so its record can't aim
   * us at anyone else); never private ones on a public relay.
   */
  private async addressesOf (peer: string, session: PeerSession | undefined, signal: AbortSignal): Promise<Multiaddr[]> {
    const from = hostOf(session)
    const pick = (): Multiaddr[] => (this.components.keeper.get(peer)?.multiaddrs ?? [])
      .map(a => multiaddr(a))
      .filter(ma => this.init.acceptAddr(ma) && (this.init.allowPrivate || !isPrivate(ma)))
      .filter(ma => from == null || ma.getComponents()[0]?.value === from)
      .map(ma => lastPeerId(ma) === peer ? ma : ma.encapsulate(`/p2p/${peer}`))
    let found = pick()
    while (found.length === 0 && !signal.aborted) {
      await new Promise<void>(resolve => {
        const done = (): void => {
          this.components.keeper.removeEventListener('keeper:update', done)
          signal.removeEventListener('abort', done)
          resolve()
        }
        this.components.keeper.addEventListener('keeper:update', done)
        signal.addEventListener('abort', done)
      })
      found = pick()
    }
    return found
  }
}

function hostOf (session: PeerSession | undefined): string | undefined {
  return session?.connection.remoteAddr.getComponents()[0]?.value
}

export function relayProbe (init: RelayProbeInit = {}): (components: RelayProbeComponents) => RelayProbe {
  return (components) => new RelayProbe(components, init)
}
