import { createLibp2p } from 'libp2p'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { sendBulk } from '../../../bench/transport/bench-protocol.ts'
import { setupLoop, transferLoop } from '../../../bench/transport/bench-util.ts'
import { closeAll, dialKind, targetPeer, timeDial } from '../../../bench/transport/libp2p-helpers.ts'
import { createConnectionGater } from '../../../shared/p2p-service/index.ts'
import { connectionKind } from '../../../shared/connection/index.ts'
import type { SetupRequest, ThroughputRequest } from './bench-api.ts'
import type { SetupSamples } from '../../../bench/transport/bench-util.ts'
import type { Connection, Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

type Log = (line: string) => void

/**
 * Tab-to-tab WebRTC set-up: every rep starts with no connection to the other
 * tab, so a dial includes the relayed circuit used for signalling, SDP/ICE
 * over it, DTLS and the Noise handshake on the first data channel.
 */
export async function webrtcSetup (node: Libp2p<any>, opts: SetupRequest & { target: string }, log: Log): Promise<SetupSamples> {
  const target = multiaddr(opts.target)
  const peer = targetPeer(target)
  await closeAll(node, peer)
  return await setupLoop({
    ...opts,
    log,
    attempt: async (signal) => await timeDial(node, target, 'webrtc', signal),
    reset: async () => { await closeAll(node, peer) }
  })
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
  return await transferLoop(opts, async (bytes, signal) => await sendBulk(conn, bytes, { signal }))
}

/**
 * Tab-to-relay WebSocket set-up, from a second, bare node (WebSockets +
 * Noise + Yamux, as the tab's node uses) so the tab's own relay connection
 * and reservation stay untouched and its relay connector does not redial.
 */
export async function wsSetup (opts: SetupRequest & { relayWs: string }, log: Log): Promise<SetupSamples> {
  const target = multiaddr(opts.relayWs)
  const peer = targetPeer(target)
  const probe = await createLibp2p({
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater()
  })
  try {
    return await setupLoop({
      ...opts,
      log,
      attempt: async (signal) => await timeDial(probe, target, 'websocket', signal),
      reset: async () => { await closeAll(probe, peer) }
    })
  } finally {
    await probe.stop()
  }
}

/** Transfers to the relay's bench sink over the tab node's own relay connection. */
export async function wsThroughput (node: Libp2p<any>, opts: ThroughputRequest & { relayPeer: string }): Promise<number[]> {
  const conn = node.getConnections(peerIdFromString(opts.relayPeer)).find(c => c.status === 'open' && connectionKind(c) === 'websocket')
  if (conn == null) throw new Error('the tab has no open WebSocket connection to the relay')
  return await transferLoop(opts, async (bytes, signal) => await sendBulk(conn, bytes, { signal }))
}
