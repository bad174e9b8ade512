import type { AbortOptions, Connection, PeerId } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

/**
 * An open connection to `peer`, reusing one we have, relayed ones included.
 * libp2p's `openConnection` never reuses a limited (relayed) connection and
 * dials a new circuit instead; the session layer then closes the older one
 * as a duplicate, killing the streams on it. Direct links are preferred.
 */
export async function openConnection (connectionManager: ConnectionManager, peer: PeerId, options: AbortOptions = {}): Promise<Connection> {
  const open = connectionManager.getConnections(peer).filter(c => c.status === 'open')
  const best = open.find(c => c.limits == null) ?? open[0]
  if (best != null) return best
  return await connectionManager.openConnection(peer, options)
}
