import { isPrivate } from '@libp2p/utils'
import type { AddressKeys } from '../connection/index.ts'
import type { BanList } from '../peer-session/index.ts'
import type { RefusalCounters } from '../peer-session/index.ts'
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'

export interface InboundGuardInit {
  addresses: AddressKeys
  /** Addresses refused for a while; the session layer fills it. */
  addressBans: BanList
  counters?: RefusalCounters
  /**
   * Connections from one address still in their Noise/Yamux upgrade. Half-open
   * sockets are free to make; libp2p's own cap is shared by everyone.
   * @default 8
   */
  maxPendingPerAddress?: number
}

export interface GaterInit {
  /**
   * Allow dialing loopback and private-range addresses. libp2p's browser
   * default refuses them (and plain `/ws`), which would stop a tab from
   * reaching a relay on localhost or the LAN. @default true
   */
  allowPrivateAddresses?: boolean
  /** Peers refused for a while; shared with the session layer that fills it. */
  banList?: BanList
  /** Per-address limits on inbound connections (relays). */
  inbound?: InboundGuardInit
  /** Asked for each circuit relay reservation (relays): true refuses it. */
  denyReservation?: (peer: PeerId) => boolean
  /**
   * Asked for each inbound connection before anything else: true refuses
   * every one (a relay that drains: the peers it said goodbye to, redialing
   * at once, would hold connections its stop has to wait out).
   */
  refuseInbound?: () => boolean
}

/**
 * Golem Clay's connection gater: private addresses allowed, banned peers
 * refused and, on relays, banned addresses and too many half-open
 * connections from one address refused before any crypto runs.
 */
export function createConnectionGater (init: GaterInit = {}): ConnectionGater {
  const allowPrivate = init.allowPrivateAddresses ?? true
  const banned = (peer: PeerId): boolean => init.banList?.isBanned(peer.toString()) === true
  const pending = init.inbound != null ? pendingCounter(init.inbound) : undefined
  return {
    denyDialMultiaddr: (ma) => allowPrivate ? false : isPrivate(ma),
    denyDialPeer: banned,
    denyInboundConnection: (maConn) => init.refuseInbound?.() === true || (pending?.open(maConn) ?? false),
    denyInboundEncryptedConnection: banned,
    denyOutboundEncryptedConnection: banned,
    denyInboundUpgradedConnection: (peer, maConn) => {
      pending?.upgraded(maConn)
      return banned(peer)
    },
    denyInboundRelayReservation: (peer) => init.denyReservation?.(peer) ?? false
  }
}

/** Counts inbound connections per address from accept to upgrade (or close). */
function pendingCounter (init: InboundGuardInit): { open: (maConn: MultiaddrConnection) => boolean, upgraded: (maConn: MultiaddrConnection) => void } {
  // read on each connection: a relay's operator may change it while running
  const max = (): number => init.maxPendingPerAddress ?? 8
  const counts = new Map<string, number>()
  const held = new WeakMap<MultiaddrConnection, string>()
  const release = (maConn: MultiaddrConnection): void => {
    const key = held.get(maConn)
    if (key == null) return
    held.delete(maConn)
    const n = (counts.get(key) ?? 1) - 1
    if (n <= 0) counts.delete(key)
    else counts.set(key, n)
  }
  return {
    open: (maConn) => {
      const key = init.addresses.keyOf(maConn.remoteAddr)
      if (key == null) return false
      if (init.addressBans.isBanned(key)) {
        init.counters?.add('address-banned')
        return true
      }
      const n = counts.get(key) ?? 0
      if (n >= max()) {
        init.counters?.add('pending-connections')
        return true
      }
      counts.set(key, n + 1)
      held.set(maConn, key)
      maConn.addEventListener('close', () => { release(maConn) }, { once: true })
      return false
    },
    upgraded: release
  }
}
