import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { bulkTransfers, closeAll, dialKind, dialSetup, openConnection, probeSetup, targetPeer } from './libp2p-helpers.ts'
import type { SetupSamples, ThroughputRequest } from './loops.ts'
import type { NodePeer } from '../../relay/node-peer/create-node-peer.ts'
import type { SetupRequest } from '../../web/bench/transport/bench-api.ts'

type Log = (line: string) => void

/**
 * Node-to-relay TCP set-up from a bare node (TCP + Noise + Yamux, as the
 * Node peer uses), so the Node peer's relay connection is left alone.
 */
export async function libp2pTcpSetup (relayTcp: string, req: SetupRequest, log: Log): Promise<SetupSamples> {
  return await probeSetup(tcp(), multiaddr(relayTcp), 'tcp', req, log)
}

/** Transfers to the relay's sink over the Node peer's own TCP connection. */
export async function libp2pTcpThroughput (peer: NodePeer, relayPeerId: string, req: ThroughputRequest): Promise<number[]> {
  const conn = openConnection(peer, relayPeerId, 'tcp')
  if (conn == null) throw new Error('the Node peer has no open TCP connection to the relay')
  return await bulkTransfers(conn, req)
}

/**
 * Node-to-tab set-up through the relay (circuit relay v2): the Node peer is
 * already connected to the relay, so a dial is the HOP/STOP exchange plus
 * Noise and Yamux over the circuit.
 */
export async function relayedSetup (peer: NodePeer, tabCircuit: string, req: SetupRequest, log: Log): Promise<SetupSamples> {
  return await dialSetup(peer, multiaddr(tabCircuit), 'relayed', req, log)
}

/** Transfers to the tab's sink over one relayed connection. */
export async function relayedThroughput (peer: NodePeer, tabCircuit: string, req: ThroughputRequest): Promise<number[]> {
  const target = multiaddr(tabCircuit)
  await closeAll(peer, targetPeer(target))
  const conn = await dialKind(peer, target, 'relayed', AbortSignal.timeout(10_000))
  try {
    return await bulkTransfers(conn, req)
  } finally {
    await conn.close().catch(err => { conn.abort(err) })
  }
}
