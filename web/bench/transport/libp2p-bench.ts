import { webSockets } from '@libp2p/websockets'
import { multiaddr } from '@multiformats/multiaddr'
import { bulkTransfers, closeAll, dialKind, dialSetup, openConnection, probeSetup, targetPeer } from '../../../bench/transport/libp2p-helpers.ts'
import type { SetupRequest, ThroughputRequest } from './bench-api.ts'
import type { SetupSamples } from '../../../bench/transport/loops.ts'
import type { Connection, Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

type Log = (line: string) => void

/**
 * Tab-to-tab WebRTC set-up: every rep starts with no connection to the other
 * tab, so a dial includes the relayed circuit used for signalling, SDP/ICE
 * over it, DTLS and the Noise handshake on the first data channel.
 */
export async function webrtcSetup (node: Libp2p<any>, opts: SetupRequest & { target: string }, log: Log): Promise<SetupSamples> {
  return await dialSetup(node, multiaddr(opts.target), 'webrtc', opts, log)
}

/** A fresh WebRTC connection to the peer `target` names, retried like the set-up loop. */
async function freshWebrtc (node: Libp2p<any>, target: Multiaddr): Promise<Connection> {
  const peer = targetPeer(target)
  await closeAll(node, peer)
  for (let attempt = 1; ; attempt++) {
    try {
      return await dialKind(node, target, 'webrtc', AbortSignal.timeout(5_000))
    } catch (err) {
      await closeAll(node, peer)
      if (attempt >= 3) throw err
    }
  }
}

/** Transfers over one fresh WebRTC connection, a new stream (data channel) each. */
export async function webrtcThroughput (node: Libp2p<any>, opts: ThroughputRequest & { target: string }): Promise<number[]> {
  const conn = await freshWebrtc(node, multiaddr(opts.target))
  return await bulkTransfers(conn, opts)
}

/**
 * Tab-to-relay WebSocket set-up, from a second, bare node (WebSockets +
 * Noise + Yamux, as the tab's node uses) so the tab's own relay connection
 * and reservation stay untouched and its relay connector does not redial.
 */
export async function wsSetup (opts: SetupRequest & { relayWs: string }, log: Log): Promise<SetupSamples> {
  return await probeSetup(webSockets(), multiaddr(opts.relayWs), 'websocket', opts, log)
}

/** Transfers to the relay's bench sink over the tab node's own relay connection. */
export async function wsThroughput (node: Libp2p<any>, opts: ThroughputRequest & { relayPeer: string }): Promise<number[]> {
  const conn = openConnection(node, opts.relayPeer, 'websocket')
  if (conn == null) throw new Error('the tab has no open WebSocket connection to the relay')
  return await bulkTransfers(conn, opts)
}
