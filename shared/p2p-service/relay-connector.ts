import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { InvalidMultiaddrError } from '../errors.ts'
import { Backoff } from '../util/backoff.ts'
import { measureRtt } from './rtt.ts'
import { lastPeerId } from '../util/multiaddr.ts'
import type { BackoffInit } from '../util/backoff.ts'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export type RelayState = 'connecting' | 'connected' | 'reserved' | 'waiting' | 'stopped'

export interface RelayStatus {
  addr: string
  peerId?: string
  state: RelayState
  /** Failed attempts since the last success. */
  failures: number
  /** When the next attempt starts (ms since epoch), while waiting. */
  nextAttemptAt?: number
  lastError?: string
  connectedAt?: number
  rtt?: number
}

export interface RelayConnectorInit {
  /** Relays to keep a connection (and so a reservation) with. */
  relays: Array<string | Multiaddr>
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
}

export interface RelayConnectorEvents {
  'relay:status': CustomEvent<RelayStatus[]>
}

interface Entry {
  addr: Multiaddr
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
 * Keeps this node connected to its configured relays: dials each one, notices
 * when the connection drops and redials with backoff and jitter, and reports
 * per-relay state including whether a reservation is held.
 */
export class RelayConnector extends TypedEventEmitter<RelayConnectorEvents> implements Startable {
  private readonly components: RelayConnectorComponents
  private readonly log: Logger
  private readonly entries: Entry[]
  private readonly dialTimeout: number
  private controller?: AbortController

  constructor (components: RelayConnectorComponents, init: RelayConnectorInit) {
    super()
    this.components = components
    this.log = components.logger.forComponent('golem-clay:relay-connector')
    this.dialTimeout = init.dialTimeout ?? 10_000
    this.entries = init.relays.map(value => {
      const addr = parseRelayAddr(value)
      return {
        addr,
        backoff: new Backoff(init.backoff),
        status: { addr: addr.toString(), peerId: lastPeerId(addr) ?? undefined, state: 'stopped', failures: 0 }
      }
    })
  }

  readonly [Symbol.toStringTag] = '@golem-clay/relay-connector'

  /** Per-relay state; the RTT is the live one libp2p's connection monitor keeps. */
  get status (): RelayStatus[] {
    return this.entries.map(e => {
      const peer = e.status.peerId
      const conn = peer == null ? undefined : this.components.connectionManager.getConnections().find(c => c.remotePeer.toString() === peer && c.status === 'open')
      return { ...e.status, rtt: conn?.rtt ?? e.status.rtt }
    })
  }

  start (): void {
    this.controller = new AbortController()
    this.components.events.addEventListener('self:peer:update', this.onSelfUpdate)
    this.components.events.addEventListener('peer:connect', this.onPeerConnect)
  }

  afterStart (): void {
    for (const entry of this.entries) {
      this.run(entry).catch(err => { this.log.error('relay loop for %a crashed - %e', entry.addr, err) })
    }
  }

  stop (): void {
    this.controller?.abort()
    this.components.events.removeEventListener('self:peer:update', this.onSelfUpdate)
    this.components.events.removeEventListener('peer:connect', this.onPeerConnect)
    for (const entry of this.entries) {
      entry.wake?.()
      entry.status = { ...entry.status, state: 'stopped', nextAttemptAt: undefined }
    }
  }

  /** Skips the current backoff wait and dials every waiting relay now. */
  retryNow (): void {
    for (const entry of this.entries) {
      entry.backoff.reset()
      entry.wake?.()
    }
  }

  private async run (entry: Entry): Promise<void> {
    const stopped = this.controller?.signal
    while (stopped?.aborted === false) {
      this.update(entry, { state: 'connecting', nextAttemptAt: undefined })
      try {
        const signal = AbortSignal.any([stopped, AbortSignal.timeout(this.dialTimeout)])
        const conn = await this.components.connectionManager.openConnection(entry.addr, { signal })
        entry.backoff.reset()
        this.update(entry, { peerId: conn.remotePeer.toString(), failures: 0, lastError: undefined, connectedAt: Date.now() })
        this.update(entry, { state: this.hasReservation(entry) ? 'reserved' : 'connected' })
        measureRtt(conn, { signal: stopped }).then(rtt => { this.update(entry, { rtt }) }, () => {})
        await this.untilDisconnected(conn.remotePeer, stopped)
        this.log('lost connection to relay %a', entry.addr)
      } catch (err: any) {
        if (stopped.aborted) break
        this.log('could not reach relay %a - %s', entry.addr, err.message)
        this.update(entry, { failures: entry.status.failures + 1, lastError: describeError(err) })
      }
      if (stopped.aborted) break
      const wait = entry.backoff.next()
      this.update(entry, { state: 'waiting', nextAttemptAt: Date.now() + wait, rtt: undefined, connectedAt: undefined })
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
    for (const entry of this.entries) {
      if (entry.status.state === 'connected' || entry.status.state === 'reserved') {
        this.update(entry, { state: this.hasReservation(entry) ? 'reserved' : 'connected' })
      }
    }
  }

  // another part of libp2p (the reconnect queue) may get there first
  private readonly onPeerConnect = (evt: CustomEvent<PeerId>): void => {
    const entry = this.entries.find(e => e.status.peerId === evt.detail.toString())
    if (entry?.status.state === 'waiting') entry.wake?.()
  }

  private hasReservation (entry: Entry): boolean {
    const relay = entry.status.peerId
    if (relay == null) return false
    const marker = `/p2p/${relay}/p2p-circuit`
    return this.components.addressManager.getAddresses().some(ma => ma.toString().includes(marker))
  }

  private update (entry: Entry, patch: Partial<RelayStatus>): void {
    const next = { ...entry.status, ...patch }
    const changed = (Object.keys(next) as Array<keyof RelayStatus>).some(k => next[k] !== entry.status[k])
    entry.status = next
    if (changed) this.safeDispatchEvent('relay:status', { detail: this.status })
  }
}

function describeError (err: any): string {
  if (err?.name === 'AggregateError' && Array.isArray(err.errors) && err.errors.length > 0) {
    return describeError(err.errors[0])
  }
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timed out'
  return err?.message ?? String(err)
}

export function relayConnector (init: RelayConnectorInit): (components: RelayConnectorComponents) => RelayConnector {
  return (components) => new RelayConnector(components, init)
}
