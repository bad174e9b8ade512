import { peerIdFromString } from '@libp2p/peer-id'
import { connectionKind } from '../../shared/connection/index.ts'
import { lastPeerId } from '../../shared/util/index.ts'
import { waitUntil } from './bench-util.ts'
import type { Attempt } from './bench-util.ts'
import type { ConnectionKind } from '../../shared/connection/index.ts'
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

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
