import type { Connection } from '@libp2p/interface'

/**
 * Inbound connections from each address that have no verified session yet.
 * They cost a Noise handshake and nothing more, and each holds one of the
 * node's connection slots (shared by everyone) until its handshake times
 * out: one address holds only so many at once.
 */
export class UnverifiedConnections {
  private readonly byAddress = new Map<string, Set<Connection>>()
  private readonly addressOf = new WeakMap<Connection, string>()

  constructor (private readonly maxPerAddress: number) {}

  /** Records `conn`; false (and nothing recorded) when its address already holds its share. */
  add (conn: Connection, address: string): boolean {
    const set = this.byAddress.get(address) ?? new Set<Connection>()
    if (set.size >= this.maxPerAddress) return false
    set.add(conn)
    this.byAddress.set(address, set)
    this.addressOf.set(conn, address)
    conn.addEventListener('close', () => { this.done(conn) }, { once: true })
    return true
  }

  /** The connection got its session, or went away. */
  done (conn: Connection): void {
    const address = this.addressOf.get(conn)
    if (address == null) return
    this.addressOf.delete(conn)
    const set = this.byAddress.get(address)
    set?.delete(conn)
    if (set?.size === 0) this.byAddress.delete(address)
  }
}
