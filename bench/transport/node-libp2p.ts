import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { createConnectionGater } from '../../shared/p2p-service/index.ts'
import { connectionKind } from '../../shared/connection/index.ts'
import { sendBulk } from './bench-protocol.ts'
import { setupLoop, transferLoop } from './bench-util.ts'
import { closeAll, dialKind, targetPeer, timeDial } from './libp2p-helpers.ts'
import type { NodePeer } from '../../relay/node-peer/create-node-peer.ts'
import type { SetupRequest } from '../../web/bench/transport/bench-api.ts'
import type { SetupSamples, ThroughputRequest } from './bench-util.ts'
import type { Connection } from '@libp2p/interface'

type Log = (line: string) => void

/**
 * Node-to-relay TCP set-up from a bare node (TCP + Noise + Yamux, as the
 * Node peer uses), so the Node peer's relay connection is left alone.
 */
export async function libp2pTcpSetup (relayTcp: string, req: SetupRequest, log: Log): Promise<SetupSamples> {
  const target = multiaddr(relayTcp)
  const peer = targetPeer(target)
  const probe = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater()
  })
  try {
    return await setupLoop({
      ...req,
      log,
      attempt: async (signal) => await timeDial(probe, target, 'tcp', signal),
      reset: async () => { await closeAll(probe, peer) }
    })
  } finally {
    await probe.stop()
  }
}

async function transfers (conn: Connection, req: ThroughputRequest): Promise<number[]> {
  return await transferLoop(req, async (bytes, signal) => await sendBulk(conn, bytes, { signal }))
}

/** Transfers to the relay's sink over the Node peer's own TCP connection. */
export async function libp2pTcpThroughput (peer: NodePeer, relayPeerId: string, req: ThroughputRequest): Promise<number[]> {
  const conn = peer.getConnections(peerIdFromString(relayPeerId)).find(c => c.status === 'open' && connectionKind(c) === 'tcp')
  if (conn == null) throw new Error('the Node peer has no open TCP connection to the relay')
  return await transfers(conn, req)
}

/**
 * Node-to-tab set-up through the relay (circuit relay v2): the Node peer is
 * already connected to the relay, so a dial is the HOP/STOP exchange plus
 * Noise and Yamux over the circuit.
 */
export async function relayedSetup (peer: NodePeer, tabCircuit: string, req: SetupRequest, log: Log): Promise<SetupSamples> {
  const target = multiaddr(tabCircuit)
  const tab = targetPeer(target)
  await closeAll(peer, tab)
  return await setupLoop({
    ...req,
    log,
    attempt: async (signal) => await timeDial(peer, target, 'relayed', signal),
    reset: async () => { await closeAll(peer, tab) }
  })
}

/** Transfers to the tab's sink over one relayed connection. */
export async function relayedThroughput (peer: NodePeer, tabCircuit: string, req: ThroughputRequest): Promise<number[]> {
  const target = multiaddr(tabCircuit)
  await closeAll(peer, targetPeer(target))
  const conn = await dialKind(peer, target, 'relayed', AbortSignal.timeout(10_000))
  try {
    return await transfers(conn, req)
  } finally {
    await conn.close().catch(err => { conn.abort(err) })
  }
}
