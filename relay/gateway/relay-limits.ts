import type { ReservationGuard } from './reservation-guard.ts'
import type { InboundGuardInit } from '../../shared/p2p-service/index.ts'
import type { SessionManager } from '../../shared/peer-session/index.ts'
import type { ConnectionManager } from '@libp2p/interface-internal'

/** The limits a relay's operator may change while it runs (SIGHUP). */
export interface RelayLimits {
  maxConnections: number
  maxReservations: number
  maxSessions: number
  maxPendingHandshakes: number
  difficulty: { base: number, max: number }
  perAddress: { pendingConnections: number, pendingHandshakes: number, reservations: number }
}

export interface RelayLimitsComponents {
  sessions: SessionManager
  reservationGuard: ReservationGuard
  connectionManager: ConnectionManager
}

export interface RelayLimitsInit {
  /** The connection gater's per-address settings, read by it on each connection. */
  gater: InboundGuardInit
}

/**
 * Applies new limits to every part that enforces one. They bind what comes
 * next (connections, handshakes, reservations); nobody already in is
 * dropped, except that libp2p prunes connections above a lowered
 * maxConnections.
 */
export class RelayLimitsService {
  private readonly components: RelayLimitsComponents
  private readonly init: RelayLimitsInit

  constructor (components: RelayLimitsComponents, init: RelayLimitsInit) {
    this.components = components
    this.init = init
  }

  readonly [Symbol.toStringTag] = '@golem-clay/relay-limits'

  apply (limits: RelayLimits): void {
    const { sessions, reservationGuard, connectionManager } = this.components
    sessions.setLimits({
      maxSessions: limits.maxSessions,
      maxPendingHandshakes: limits.maxPendingHandshakes,
      maxPendingHandshakesPerAddress: limits.perAddress.pendingHandshakes,
      difficulty: limits.difficulty
    })
    reservationGuard.setLimits({ maxReservations: limits.maxReservations, maxPerAddress: limits.perAddress.reservations })
    this.init.gater.maxPendingPerAddress = limits.perAddress.pendingConnections
    connectionManager.setMaxConnections(limits.maxConnections)
  }
}

export function relayLimits (init: RelayLimitsInit): (components: RelayLimitsComponents) => RelayLimitsService {
  return (components) => new RelayLimitsService(components, init)
}
