import { peerIdFromString } from '@libp2p/peer-id'
import { isMultiaddr } from '@multiformats/multiaddr'
import { relayedLinkRule } from '../wire/index.ts'
import { anySignal, lastPeerId, raceSignal } from '../util/index.ts'
import { DirectLinkRequiredError, UndeclaredProtocolError } from './errors.ts'
import { OPEN_TIMEOUT } from './session-defaults.ts'
import type { RelayedLinkRule } from '../wire/index.ts'
import type { PeerSession } from './peer-session.ts'
import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Where a stream goes: a peer (its known addresses), addresses ending in its /p2p/ ID, or a connection already chosen. */
export type OpenTarget = PeerId | Multiaddr | Multiaddr[] | Connection

export interface OpenOptions extends AbortOptions {
  /** The longest the link, its session and the stream together may take to come up, in ms. @default OPEN_TIMEOUT (70 s) */
  timeout?: number
  /** The longest dialing a new connection may take, in ms (within `timeout`). @default none of its own */
  dialTimeout?: number
}

/** A stream on a connection with a verified session. */
export interface OpenedStream {
  stream: Stream
  connection: Connection
  session: PeerSession
}

/** Where a connection's session stands: verified, still to come (a handshake under way or not begun), or over (the link is going). */
export type LinkSession = 'verified' | 'pending' | 'ended'

export interface OpenStreamContext {
  connectionManager: ConnectionManager
  /** The verified session on `conn`: ours to start if we dialed it, the remote's to finish if it did. */
  ensure: (conn: Connection, options: AbortOptions) => Promise<PeerSession>
  /** Where `conn`'s session stands. @default every link 'pending' (the first open one is taken) */
  sessionOf?: (conn: Connection) => LinkSession
  /** Aborts when the session layer stops. */
  stopped: AbortSignal
}

/**
 * Opens a `protocol` stream to `target` over a connection with a verified
 * session. An open connection is reused: a verified one before one still
 * in its handshake (two tabs that dial each other at once hold a second
 * link for a while that may never get a session), never one whose session
 * ended, a direct one first, and a relayed one only where the protocol's
 * relayed-link rule allows (RELAYED_LINKS); otherwise one is dialed.
 * libp2p's own `openConnection` never reuses a relayed connection and dials
 * a second circuit, which the session layer then closes as a duplicate,
 * killing the streams on it. `timeout` and the
 * caller's signal bound all of it; the stream itself lives on.
 */
export async function openStream (ctx: OpenStreamContext, target: OpenTarget, protocol: string, options: OpenOptions = {}): Promise<OpenedStream> {
  const rule = relayedLinkRule(protocol)
  if (rule == null) throw new UndeclaredProtocolError(`${protocol} has no relayed-link rule`)
  const signal = anySignal([options.signal, ctx.stopped], options.timeout ?? OPEN_TIMEOUT)
  const connection = isConnection(target) ? target : await link(ctx, target, rule, signal, options.dialTimeout)
  if (rule === 'direct-only' && connection.limits != null) {
    throw new DirectLinkRequiredError(`${protocol} needs a direct link to ${connection.remotePeer.toString()}, not a relayed one`)
  }
  // the handshake belongs to the connection and goes on; the caller stops waiting
  const session = await raceSignal(ctx.ensure(connection, { signal }), signal)
  const stream = await connection.newStream(protocol, { signal, runOnLimitedConnection: rule === 'relayed-ok' })
  return { stream, connection, session }
}

async function link (ctx: OpenStreamContext, target: PeerId | Multiaddr | Multiaddr[], rule: RelayedLinkRule, signal: AbortSignal, dialTimeout?: number): Promise<Connection> {
  const cm = ctx.connectionManager
  const peer = peerOf(target)
  let force = false
  if (peer != null) {
    const sessionOf = ctx.sessionOf ?? (() => 'pending')
    // verified direct, verified relayed, then direct and relayed ones still in their handshake
    const rank = (c: Connection): number => (sessionOf(c) === 'verified' ? 0 : 2) + (c.limits == null ? 0 : 1)
    const open = cm.getConnections(peer).filter(c => c.status === 'open')
    const usable = open.filter(c => (c.limits == null || rule === 'relayed-ok') && sessionOf(c) !== 'ended')
    const reuse = usable.sort((a, b) => rank(a) - rank(b))[0]
    if (reuse != null) return reuse
    // libp2p would hand back a link whose session ended while it closes
    force = open.some(c => sessionOf(c) === 'ended')
  }
  return await cm.openConnection(target, { signal: dialTimeout != null ? anySignal([signal], dialTimeout) : signal, force })
}

function peerOf (target: PeerId | Multiaddr | Multiaddr[]): PeerId | undefined {
  if (!Array.isArray(target) && !isMultiaddr(target)) return target
  for (const ma of Array.isArray(target) ? target : [target]) {
    const id = lastPeerId(ma)
    if (id != null) return peerIdFromString(id)
  }
  return undefined
}

function isConnection (target: OpenTarget): target is Connection {
  return !Array.isArray(target) && typeof (target as Partial<Connection>).newStream === 'function'
}
