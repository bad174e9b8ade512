import { isPrivate } from '@libp2p/utils'
import type { ConnectionGater } from '@libp2p/interface'

export interface GaterInit {
  /**
   * Allow dialing loopback and private-range addresses. libp2p's browser
   * default refuses them (and plain `/ws`), which would stop a tab from
   * reaching a relay on localhost or the LAN. @default true
   */
  allowPrivateAddresses?: boolean
}

/** Golem Clay's connection gater; later issues add the ban list here. */
export function createConnectionGater (init: GaterInit = {}): ConnectionGater {
  const allowPrivate = init.allowPrivateAddresses ?? true
  return {
    denyDialMultiaddr: (ma) => allowPrivate ? false : isPrivate(ma)
  }
}
