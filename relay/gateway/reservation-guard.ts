import type { SessionClosed, SessionManager } from '../../shared/peer-session/index.ts'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

export interface ReservationGuardInit {
  /** Most reservations held by peers at one network address. @default 32 */
  maxPerAddress?: number
  /** Most reservations in all; libp2p's own cap is fixed at start, this one can change. @default 512 */
  maxReservations?: number
}

export interface ReservationGuardComponents {
  sessions: SessionManager
  relay: CircuitRelayService
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

/**
 * Circuit relay reservations are worth their slot only while their holder
 * is here: one is released as soon as its holder's last session ends
 * (libp2p would keep it for its whole TTL), and one network address holds
 * only so many, whatever number of peer IDs it makes up.
 */
export class ReservationGuard implements Startable {
  private readonly components: ReservationGuardComponents
  private readonly log: Logger
  private maxPerAddress: number
  private maxReservations: number
  private sweeper?: ReturnType<typeof setInterval>
  released = 0

  constructor (components: ReservationGuardComponents, init: ReservationGuardInit = {}) {
    this.components = components
    this.log = components.logger.forComponent('golem-clay:reservation-guard')
    this.maxPerAddress = init.maxPerAddress ?? 32
    this.maxReservations = init.maxReservations ?? 512
  }

  /** New caps for reservations asked from now on; those held stay. */
  setLimits (limits: ReservationGuardInit): void {
    this.maxPerAddress = limits.maxPerAddress ?? this.maxPerAddress
    this.maxReservations = limits.maxReservations ?? this.maxReservations
  }

  readonly [Symbol.toStringTag] = '@golem-clay/reservation-guard'

  start (): void {
    this.components.sessions.addEventListener('session:close', this.onClose)
    // a reservation made just as its holder's session ended has nobody to release it: sweep
    this.sweeper = setInterval(() => { this.sweep() }, 30_000)
  }

  stop (): void {
    clearInterval(this.sweeper)
    this.components.sessions.removeEventListener('session:close', this.onClose)
  }

  /** For the connection gater: true refuses `peer`'s reservation. */
  deny (peer: PeerId): boolean {
    const sessions = this.components.sessions
    if (!sessions.list().some(s => s.remotePeer === peer.toString())) {
      sessions.counters.add('reservation-refused')
      return true
    }
    const reservations = this.components.relay.reservations
    // a renewal by a holder is not a new slot
    if (!reservations.has(peer) && reservations.size >= this.maxReservations) {
      sessions.counters.add('reservation-refused')
      this.log('refused a reservation for %p: %d held, the most allowed', peer, reservations.size)
      return true
    }
    const conns = this.components.connectionManager.getConnections(peer)
    const address = conns.map(c => sessions.addressOf(c)).find(a => a != null)
    if (address == null) return false
    let held = 0
    for (const [holder, reservation] of this.components.relay.reservations) {
      if (!holder.equals(peer) && sessions.addresses.keyOf(reservation.addr) === address) held++
    }
    if (held < this.maxPerAddress) return false
    sessions.counters.add('reservation-refused')
    this.log('refused a reservation for %p: %s holds %d already', peer, address, held)
    return true
  }

  private readonly onClose = (evt: CustomEvent<SessionClosed>): void => {
    const peer = evt.detail.peer
    if (this.components.sessions.list().some(s => s.remotePeer === peer)) return
    this.release(peer)
  }

  /** Releases every reservation whose holder has no session left. */
  sweep (): void {
    const holders = new Set(this.components.sessions.list().map(s => s.remotePeer))
    for (const [holder] of [...this.components.relay.reservations]) {
      if (!holders.has(holder.toString())) this.release(holder.toString())
    }
  }

  private release (peer: string): void {
    for (const [holder, reservation] of [...this.components.relay.reservations]) {
      if (holder.toString() !== peer) continue
      // the expiry timer would later delete whatever reservation the peer holds then
      reservation.signal.clear()
      this.components.relay.reservations.delete(holder)
      this.released++
      this.log('released the reservation of %s: its last session ended', peer)
    }
  }
}

export function reservationGuard (init: ReservationGuardInit = {}): (components: ReservationGuardComponents) => ReservationGuard {
  return (components) => new ReservationGuard(components, init)
}
