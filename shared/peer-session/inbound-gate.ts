import { PROTOCOL_PREFIX, SESSION_PROTOCOL } from '../wire/index.ts'
import { SessionRefusedError, UnverifiedSessionError } from './disconnect.ts'
import type { PeerSession } from './peer-session.ts'
import type { RefusalCounters } from './refusals.ts'
import type { SessionGate } from './session-gate.ts'
import type { AbortOptions, Connection, Logger, StreamHandler } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

export interface InboundGateInit {
  /** Non-Golem protocols to gate as well (e.g. the relay's hop protocol). */
  extra?: string[]
  /** How long a stream may wait for its connection's handshake, in ms. @default 10_000 */
  wait?: number
  limits: SessionGate
  counters: RefusalCounters
  log: Logger
  /** The verified session on `conn`, once its handshake is done. */
  ensure: (conn: Connection, options: AbortOptions) => Promise<PeerSession>
  addressOf: (conn: Connection) => string | undefined
  /** Aborts when the session layer stops. */
  stopped: () => AbortSignal
}

/**
 * The session gate on inbound streams, put around a handler once, when it
 * is registered: a stream on a gated protocol waits for its connection's
 * verified session and is refused, and its peer struck, without one; a peer
 * over its stream rate limits is refused too.
 */
export class InboundGate {
  private readonly init: InboundGateInit
  private readonly wrapped = new WeakSet<StreamHandler>()

  constructor (init: InboundGateInit) {
    this.init = init
  }

  /** Whether streams on `protocol` need a verified session: every Golem Clay protocol but the handshake's own, and the extra ones. */
  gates (protocol: string): boolean {
    return (protocol.startsWith(`${PROTOCOL_PREFIX}/`) && protocol !== SESSION_PROTOCOL) || (this.init.extra ?? []).includes(protocol)
  }

  /** `handler` behind the gate (a handler already behind it is returned as is). */
  wrap (protocol: string, handler: StreamHandler): StreamHandler {
    if (this.wrapped.has(handler)) return handler
    const { limits, counters, log } = this.init
    const gated: StreamHandler = async (stream, conn) => {
      const peer = conn.remotePeer.toString()
      const address = this.init.addressOf(conn)
      let session: PeerSession | undefined
      try {
        session = await this.init.ensure(conn, { signal: AbortSignal.any([AbortSignal.timeout(this.init.wait ?? 10_000), this.init.stopped()]) })
      } catch {}
      if (session == null) {
        counters.add('unverified-stream')
        limits.strike(peer, 'streams without a session', address)
        stream.abort(new UnverifiedSessionError(`${protocol} needs a verified session`))
        return
      }
      if (!limits.allow(peer, protocol, address)) {
        log('refused a %s stream from %s: rate limit', protocol, peer)
        stream.abort(new SessionRefusedError('RateLimited', `too many ${protocol} streams`))
        return
      }
      await handler(stream, conn)
    }
    this.wrapped.add(gated)
    return gated
  }

  /** Protocols on `registrar` that need the gate and whose handler was registered without it. */
  ungated (registrar: Registrar): string[] {
    return registrar.getProtocols().filter(p => this.gates(p) && !this.wrapped.has(registrar.getHandler(p).handler))
  }
}
