import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { InvalidMultiaddrError } from '../errors.ts'
import { relayRank } from '../peer-keeper/index.ts'
import { Backoff, describeError, lastPeerId } from '../util/index.ts'
import { planRelays } from './relay-choice.ts'
import { measureRtt } from './rtt.ts'
import type { PeerKeeper } from '../peer-keeper/index.ts'
import type { BackoffInit } from '../util/index.ts'
import type { RelayCandidate, RelaySlot } from './relay-choice.ts'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export type RelayState = 'connecting' | 'connected' | 'reserved' | 'waiting' | 'stopped'

export interface RelayStatus {
  addr: string
  peerId?: string
  state: RelayState
  /** Configured seed rather than a relay found on the network. */
  seed: boolean
  /** Failed attempts since the last success. */
  failures: number
  /** When the next attempt starts (ms since epoch), while waiting. */
  nextAttemptAt?: number
  lastError?: string
  connectedAt?: number
  rtt?: number
  /** Load the relay last reported, 0..1. */
  load?: number
}

export interface RelayConnectorInit {
  /** Seed relays: multiaddrs ending in /p2p/<peer ID>. */
  relays: Array<string | Multiaddr>
  /** How many relays to stay connected to (and reserve on). @default number of seeds */
  maxRelays?: number
  /** Which relay addresses this node can dial (e.g. WebSockets in a tab). @default any */
  acceptAddr?: (ma: Multiaddr) => boolean
  /** A relay reporting at least this load is swapped for a lighter one. @default 0.9 */
  overloaded?: number
  /** How often the choice of relays is revisited, in ms. @default 10_000 */
  evaluateInterval?: number
  /** Retry pacing after a failed dial or a lost connection. */
  backoff?: BackoffInit
  /** Time allowed for one dial, in ms. @default 10_000 */
  dialTimeout?: number
}

export interface RelayConnectorComponents {
  connectionManager: ConnectionManager
  addressManager: AddressManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  /** Optional: where relays beyond the seeds come from. */
  keeper?: PeerKeeper
}

export interface RelayConnectorEvents {
  'relay:status': CustomEvent<RelayStatus[]>
}

interface Entry {
  key: string
  addrs: Multiaddr[]
  active: boolean
  controller?: AbortController
  status: RelayStatus
  backoff: Backoff
  wake?: () => void
}

/** Parses a relay multiaddr, turning parse failures into a typed error. */
export function parseRelayAddr (value: string | Multiaddr): Multiaddr {
  if (typeof value !== 'string') return value
  try {
    return multiaddr(value.trim())
  } catch (err: any) {
    throw new InvalidMultiaddrError(`"${value}" is not a valid multiaddr: ${err.message}`)
  }
}

/**
 * Keeps this node connected to its best relays: starts from the seeds, adds
 * relays PeerKeeper learns of, swaps out relays that go down or report
 * overload, and redials with backoff and jitter. Reports per-relay state,
 * including whether a reservation is held.
 */
export class RelayConnector extends TypedEventEmitter<RelayConnectorEvents> implements Startable {
  private readonly components: RelayConnectorComponents
  private readonly log: Logger
  private readonly entries = new Map<string, Entry>()
  private readonly init: RelayConnectorInit
  private readonly dialTimeout: number
  private readonly maxRelays: number
  private controller = new AbortController()
  private timer?: ReturnType<typeof setInterval>
  private pending?: ReturnType<typeof setTimeout>

  constructor (components: RelayConnectorComponents, init: RelayConnectorInit) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('golem-clay:relay-connector')
    this.dialTimeout = init.dialTimeout ?? 10_000
    for (const value of init.relays) {
      const addr = parseRelayAddr(value)
      const peer = lastPeerId(addr)
      if (peer == null) throw new InvalidMultiaddrError(`Relay address "${addr.toString()}" must end with /p2p/<peer ID>`)
      const known = this.entries.get(peer)
      if (known != null) known.addrs.push(addr)
      else this.entries.set(peer, this.entry(peer, [addr], true))
    }
    this.maxRelays = init.maxRelays ?? Math.max(this.entries.size, 1)
  }

  readonly [Symbol.toStringTag] = '@golem-clay/relay-connector'

  /** Relays in use or being tried; the RTT is the live one of the connection. */
  get status (): RelayStatus[] {
    return [...this.entries.values()].filter(e => e.active).map(e => {
      const conn = this.components.connectionManager.getConnections().find(c => c.remotePeer.toString() === e.key && c.status === 'open')
      return { ...e.status, rtt: conn?.rtt ?? e.status.rtt, load: this.keeper()?.get(e.key)?.load }
    })
  }

  start (): void {
    this.controller = new AbortController()
    this.components.events.addEventListener('self:peer:update', this.onSelfUpdate)
    this.components.events.addEventListener('peer:connect', this.onPeerConnect)
    this.keeper()?.addEventListener('keeper:update', this.schedule)
  }

  afterStart (): void {
    for (const entry of this.entries.values()) this.activate(entry)
    this.timer = setInterval(() => { this.evaluate() }, this.init.evaluateInterval ?? 10_000)
  }

  stop (): void {
    this.controller.abort()
    clearInterval(this.timer)
    clearTimeout(this.pending)
    this.components.events.removeEventListener('self:peer:update', this.onSelfUpdate)
    this.components.events.removeEventListener('peer:connect', this.onPeerConnect)
    this.keeper()?.removeEventListener('keeper:update', this.schedule)
    for (const entry of this.entries.values()) {
      entry.wake?.()
      entry.status = { ...entry.status, state: 'stopped', nextAttemptAt: undefined }
    }
  }

  /** Skips the current backoff wait and dials every waiting relay now. */
  retryNow (): void {
    for (const entry of this.entries.values()) {
      entry.backoff.reset()
      entry.wake?.()
    }
  }

  /** Revisits the choice of relays now (also runs on a timer and on news). */
  evaluate (): void {
    if (this.controller.signal.aborted) return
    const keeper = this.keeper()
    for (const kept of keeper?.relays() ?? []) {
      const addrs = kept.multiaddrs.map(a => multiaddr(a)).filter(ma => this.init.acceptAddr?.(ma) ?? true)
        .map(ma => lastPeerId(ma) === kept.id ? ma : ma.encapsulate(`/p2p/${kept.id}`))
      const known = this.entries.get(kept.id)
      if (known != null) {
        if (!known.status.seed && addrs.length > 0) known.addrs = addrs
      } else if (addrs.length > 0) {
        this.entries.set(kept.id, this.entry(kept.id, addrs, false))
      }
    }
    // libp2p's own relay discovery may have reserved on a relay we didn't pick: adopt it
    const reserved = this.reservedRelays()
    for (const key of reserved) {
      let entry = this.entries.get(key)
      if (entry == null) {
        const conn = this.components.connectionManager.getConnections().find(c => c.remotePeer.toString() === key)
        if (conn == null) continue
        entry = this.entry(key, [conn.remoteAddr], false)
        this.entries.set(key, entry)
      }
      this.activate(entry)
    }
    const rank = (e: Entry): number => {
      const kept = keeper?.get(e.key)
      const base = kept != null ? relayRank(kept) : e.status.seed ? 200 : 250
      // a held reservation is worth keeping: moving costs a new proof and a gap
      return reserved.has(e.key) ? base - 1_000 : base
    }
    const slots: RelaySlot[] = []
    const candidates: RelayCandidate[] = []
    for (const e of this.entries.values()) {
      const load = keeper?.get(e.key)?.load
      if (e.active) {
        const healthy = e.status.state === 'connected' || e.status.state === 'reserved' || (e.status.state === 'connecting' && e.status.failures === 0)
        slots.push({ key: e.key, active: true, healthy, rank: rank(e), load })
      } else {
        candidates.push({ key: e.key, rank: rank(e), load })
      }
    }
    const plan = planRelays(slots, candidates, { maxRelays: this.maxRelays, overloaded: this.init.overloaded ?? 0.9 })
    for (const key of plan.activate) {
      const entry = this.entries.get(key)
      if (entry != null) {
        this.log('adding relay %s', key)
        this.activate(entry)
      }
    }
    for (const key of plan.deactivate) {
      const entry = this.entries.get(key)
      if (entry != null) {
        this.log('letting go of relay %s', key)
        this.deactivate(entry)
      }
    }
  }

  private entry (key: string, addrs: Multiaddr[], seed: boolean): Entry {
    return {
      key,
      addrs,
      active: false,
      backoff: new Backoff(this.init.backoff),
      status: { addr: addrs[0]?.toString() ?? key, peerId: key, state: 'stopped', seed, failures: 0 }
    }
  }

  private keeper (): PeerKeeper | undefined {
    try {
      return this.components.keeper
    } catch {
      return undefined
    }
  }

  private readonly schedule = (): void => {
    if (this.pending != null) return
    this.pending = setTimeout(() => {
      this.pending = undefined
      this.evaluate()
    }, 500)
  }

  private activate (entry: Entry): void {
    if (entry.active) return
    entry.active = true
    entry.controller = new AbortController()
    entry.backoff.reset()
    entry.status = { ...entry.status, failures: 0, lastError: undefined }
    this.run(entry, AbortSignal.any([this.controller.signal, entry.controller.signal]))
      .catch(err => { this.log.error('relay loop for %s crashed - %e', entry.key, err) })
  }

  private deactivate (entry: Entry): void {
    entry.active = false
    entry.controller?.abort()
    entry.wake?.()
    this.update(entry, { state: 'stopped', nextAttemptAt: undefined })
    const conns = this.components.connectionManager.getConnections().filter(c => c.remotePeer.toString() === entry.key)
    for (const conn of conns) conn.close().catch(err => { conn.abort(err) })
  }

  private async run (entry: Entry, stopped: AbortSignal): Promise<void> {
    while (!stopped.aborted) {
      this.update(entry, { state: 'connecting', nextAttemptAt: undefined })
      try {
        const signal = AbortSignal.any([stopped, AbortSignal.timeout(this.dialTimeout)])
        const conn = await this.components.connectionManager.openConnection(entry.addrs, { signal })
        entry.backoff.reset()
        this.update(entry, { failures: 0, lastError: undefined, connectedAt: Date.now(), addr: conn.remoteAddr.toString() })
        this.update(entry, { state: this.hasReservation(entry) ? 'reserved' : 'connected' })
        this.schedule()
        measureRtt(conn, { signal: stopped }).then(rtt => { this.update(entry, { rtt }) }, () => {})
        await this.untilDisconnected(conn.remotePeer, stopped)
        this.log('lost connection to relay %s', entry.key)
      } catch (err: any) {
        if (stopped.aborted) break
        this.log('could not reach relay %s - %s', entry.key, err.message)
        this.update(entry, { failures: entry.status.failures + 1, lastError: describeError(err) })
        this.keeper()?.note(entry.key, 'dial-failed')
      }
      if (stopped.aborted) break
      const wait = entry.backoff.next()
      this.update(entry, { state: 'waiting', nextAttemptAt: Date.now() + wait, rtt: undefined, connectedAt: undefined })
      // a relay gone: maybe another should take its place now
      this.schedule()
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, wait)
        function done (): void { clearTimeout(timer); resolve() }
        entry.wake = done
      })
      entry.wake = undefined
    }
  }

  private async untilDisconnected (peer: PeerId, signal: AbortSignal): Promise<void> {
    if (this.components.connectionManager.getConnections(peer).length === 0) return
    await new Promise<void>(resolve => {
      const onDisconnect = (evt: CustomEvent<PeerId>): void => {
        if (evt.detail.equals(peer)) finish()
      }
      const finish = (): void => {
        this.components.events.removeEventListener('peer:disconnect', onDisconnect)
        signal.removeEventListener('abort', finish)
        resolve()
      }
      this.components.events.addEventListener('peer:disconnect', onDisconnect)
      signal.addEventListener('abort', finish, { once: true })
    })
  }

  private readonly onSelfUpdate = (): void => {
    for (const entry of this.entries.values()) {
      if (entry.status.state === 'connected' || entry.status.state === 'reserved') {
        this.update(entry, { state: this.hasReservation(entry) ? 'reserved' : 'connected' })
      }
    }
  }

  // another part of libp2p (the reconnect queue) may get there first
  private readonly onPeerConnect = (evt: CustomEvent<PeerId>): void => {
    const entry = this.entries.get(evt.detail.toString())
    if (entry?.status.state === 'waiting') entry.wake?.()
  }

  private hasReservation (entry: Entry): boolean {
    return this.reservedRelays().has(entry.key)
  }

  /** Relays our circuit addresses go through, i.e. where we hold a reservation. */
  private reservedRelays (): Set<string> {
    const relays = new Set<string>()
    for (const ma of this.components.addressManager.getAddresses()) {
      const match = /\/p2p\/([^/]+)\/p2p-circuit/.exec(ma.toString())
      if (match?.[1] != null) relays.add(match[1])
    }
    return relays
  }

  private update (entry: Entry, patch: Partial<RelayStatus>): void {
    const next = { ...entry.status, ...patch }
    const changed = (Object.keys(next) as Array<keyof RelayStatus>).some(k => next[k] !== entry.status[k])
    entry.status = next
    if (changed) this.safeDispatchEvent('relay:status', { detail: this.status })
  }
}

export function relayConnector (init: RelayConnectorInit): (components: RelayConnectorComponents) => RelayConnector {
  return (components) => new RelayConnector(components, init)
}
