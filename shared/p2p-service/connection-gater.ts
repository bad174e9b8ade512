import { isPrivate } from '@libp2p/utils'
import type { BanList } from '../peer-session/ban-list.ts'
import type { ConnectionGater, PeerId } from '@libp2p/interface'

export interface GaterInit {
  /**
   * Allow dialing loopback and private-range addresses. libp2p's browser
   * default refuses them (and plain `/ws`), which would stop a tab from
   * reaching a relay on localhost or the LAN. @default true
   */
  allowPrivateAddresses?: boolean
  /** Peers refused for a while; shared with the session layer that fills it. */
  banList?: BanList
}

/** Golem Clay's connection gater: private addresses allowed, banned peers refused. */
export function createConnectionGater (init: GaterInit = {}): ConnectionGater {
  const allowPrivate = init.allowPrivateAddresses ?? true
  const banned = (peer: PeerId): boolean => init.banList?.isBanned(peer.toString()) === true
  return {
    denyDialMultiaddr: (ma) => allowPrivate ? false : isPrivate(ma),
    denyDialPeer: banned,
    denyInboundEncryptedConnection: banned,
    denyOutboundEncryptedConnection: banned
  }
}
