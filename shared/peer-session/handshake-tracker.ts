import { UnverifiedSessionError } from './disconnect.ts'
import type { PeerSession } from './peer-session.ts'
import type { Connection } from '@libp2p/interface'

interface Waiter { resolve: () => void }

/**
 * Handshakes under way, by connection, and the streams waiting for one to
 * start (a gated stream can arrive before its connection's session stream).
 */
export class HandshakeTracker {
  private readonly pending = new Map<string, Promise<PeerSession>>()
  private readonly waiters = new Map<string, Waiter[]>()

  get size (): number {
    return this.pending.size
  }

  get (conn: Connection): Promise<PeerSession> | undefined {
    return this.pending.get(conn.id)
  }

  has (conn: Connection): boolean {
    return this.pending.has(conn.id)
  }

  /** Records `attempt` as the connection's handshake until it settles, waking whoever waited for it. */
  async track (conn: Connection, attempt: Promise<PeerSession>): Promise<PeerSession> {
    this.pending.set(conn.id, attempt)
    for (const w of this.waiters.get(conn.id) ?? []) w.resolve()
    this.waiters.delete(conn.id)
    try {
      return await attempt
    } finally {
      this.pending.delete(conn.id)
    }
  }

  /** Resolves once a handshake starts on `conn`; rejects with UnverifiedSessionError when `signal` aborts first. */
  async waitForStart (conn: Connection, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const list = this.waiters.get(conn.id) ?? []
      const waiter = { resolve: () => { signal.removeEventListener('abort', onAbort); resolve() } }
      const onAbort = (): void => {
        const rest = (this.waiters.get(conn.id) ?? []).filter(w => w !== waiter)
        if (rest.length > 0) this.waiters.set(conn.id, rest)
        else this.waiters.delete(conn.id)
        reject(new UnverifiedSessionError(`No session with ${conn.remotePeer.toString()} on this connection`))
      }
      list.push(waiter)
      this.waiters.set(conn.id, list)
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}
