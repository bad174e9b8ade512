// libp2p steps of the transport bench, run by the bench process (Node) and by
// the bench page (tabs) alike.
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { connectionKind } from '../../shared/connection/index.ts'
import { createConnectionGater } from '../../shared/p2p-service/index.ts'
import { lastPeerId } from '../../shared/util/index.ts'
import { waitUntil } from '../common/timing.ts'
import { sendBulk } from './bench-protocol.ts'
import { setupLoop, transferLoop } from './loops.ts'
import type { Attempt, SetupSamples, ThroughputRequest } from './loops.ts'
import type { ConnectionKind } from '../../shared/connection/index.ts'
import type { SetupRequest } from '../../web/bench/transport/bench-api.ts'
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'
import type { Multiaddr } from '@multiformats/multiaddr'

type Log = (line: string) => void
type TransportFactory = NonNullable<Libp2pOptions['transports']>[number]

/** The peer a multiaddr ends with (the target, for circuit addresses). */
export function targetPeer (ma: Multiaddr): PeerId {
  const id = lastPeerId(ma)
  if (id == null) throw new Error(`${ma.toString()} names no peer`)
  return peerIdFromString(id)
}

/** Closes every connection to `peer` and waits until libp2p has dropped them. */
export async function closeAll (node: Libp2p<any>, peer: PeerId): Promise<void> {
  await Promise.all(node.getConnections(peer).map(async conn => {
    await conn.close({ signal: AbortSignal.timeout(2_000) }).catch(err => { conn.abort(err) })
  }))
  await waitUntil(() => node.getConnections(peer).length === 0, 5_000, 'old connections to close')
}

/** Dials `target`, insisting on the kind of connection the bench means to time. */
export async function dialKind (node: Libp2p<any>, target: Multiaddr, kind: ConnectionKind, signal: AbortSignal, onProgress?: (evt: { type: string }) => void): Promise<Connection> {
  const conn = await node.dial(target, { signal, onProgress })
  const got = connectionKind(conn)
  if (got !== kind) throw new Error(`dial returned a ${got} connection, wanted ${kind}`)
  return conn
}

/**
 * A set-up attempt: the ms `dialKind` took, and when each progress event
 * the transports report (e.g. `webrtc:open-signaling-stream`) first fired.
 */
export async function timeDial (node: Libp2p<any>, target: Multiaddr, kind: ConnectionKind, signal: AbortSignal): Promise<Attempt> {
  const marks: Record<string, number> = {}
  const start = performance.now()
  await dialKind(node, target, kind, signal, (evt) => { marks[evt.type] ??= performance.now() - start })
  return { ms: performance.now() - start, marks }
}

/** Times dials from `node` to `target`, each rep starting with no connection to its peer. */
export async function dialSetup (node: Libp2p<any>, target: Multiaddr, kind: ConnectionKind, req: SetupRequest, log: Log): Promise<SetupSamples> {
  const peer = targetPeer(target)
  await closeAll(node, peer)
  return await setupLoop({
    ...req,
    log,
    attempt: async (signal) => await timeDial(node, target, kind, signal),
    reset: async () => { await closeAll(node, peer) }
  })
}

/**
 * Times dials to `target` from a second, bare node (`transport` + Noise +
 * Yamux, as the caller's node uses), so the caller's own connections, and
 * any reservation on them, stay untouched.
 */
export async function probeSetup (transport: TransportFactory, target: Multiaddr, kind: ConnectionKind, req: SetupRequest, log: Log): Promise<SetupSamples> {
  const probe = await createLibp2p({
    transports: [transport],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater()
  })
  try {
    return await dialSetup(probe, target, kind, req, log)
  } finally {
    await probe.stop()
  }
}

/** The open connection of `kind` that `node` already has to `peer`, if any. */
export function openConnection (node: Libp2p<any>, peer: string, kind: ConnectionKind): Connection | undefined {
  return node.getConnections(peerIdFromString(peer)).find(c => c.status === 'open' && connectionKind(c) === kind)
}

/** Transfers to the bench sink at the far end of `conn`, a new stream each. */
export async function bulkTransfers (conn: Connection, req: ThroughputRequest): Promise<number[]> {
  return await transferLoop(req, async (bytes, signal) => await sendBulk(conn, bytes, { signal }))
}
