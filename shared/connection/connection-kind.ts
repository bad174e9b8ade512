import { Circuit, TCP, WebRTC, WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher'
import type { Connection } from '@libp2p/interface'

/** How a connection actually carries bytes, as shown to users. */
export type ConnectionKind = 'webrtc' | 'relayed' | 'websocket' | 'tcp' | 'other'

export const CONNECTION_KIND_LABEL: Record<ConnectionKind, string> = {
  webrtc: 'WebRTC direct',
  relayed: 'Relayed',
  websocket: 'WebSocket',
  tcp: 'TCP',
  other: 'Other'
}

/**
 * Classifies a connection. A WebRTC dialer still sees the circuit in the
 * remote address, so the address alone can't tell direct from relayed: a
 * relayed connection carries the relay's limits, a WebRTC one has none and
 * is multiplexed by the data channels themselves.
 */
export function connectionKind (conn: Pick<Connection, 'remoteAddr' | 'limits' | 'multiplexer'>): ConnectionKind {
  const addr = conn.remoteAddr
  if (conn.limits != null) return 'relayed'
  if (WebRTC.matches(addr)) return 'webrtc'
  if (Circuit.matches(addr)) return 'relayed'
  if (WebSockets.matches(addr) || WebSocketsSecure.matches(addr)) return 'websocket'
  if (TCP.matches(addr)) return 'tcp'
  return 'other'
}

/** A plain snapshot of a connection, safe to show or hand to tests. */
export interface ConnectionInfo {
  id: string
  peer: string
  kind: ConnectionKind
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  multiplexer?: string
  limited: boolean
  rtt?: number
  openedAt: number
}

export function connectionInfo (conn: Connection): ConnectionInfo {
  return {
    id: conn.id,
    peer: conn.remotePeer.toString(),
    kind: connectionKind(conn),
    remoteAddr: conn.remoteAddr.toString(),
    direction: conn.direction,
    multiplexer: conn.multiplexer,
    limited: conn.limits != null,
    rtt: conn.rtt,
    openedAt: conn.timeline.open
  }
}
