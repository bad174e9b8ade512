/** Every kind of refusal the session layer counts. */
export const REFUSAL_KINDS = [
  'version-mismatch',
  'bad-frame',
  'oversized-frame',
  'wrong-identity',
  'invalid-proof',
  'expired-challenge',
  'replayed-challenge',
  'difficulty-too-high',
  'handshake-timeout',
  'too-many-peers',
  'too-many-pending',
  'evicted-handshake',
  'abandoned-handshake',
  'repeated-handshake',
  'address-banned',
  'pending-connections',
  'unverified-connections',
  'reservation-refused',
  'duplicate-peer',
  'unverified-stream',
  'rate-limited',
  'banned',
  'heartbeat-timeout',
  'draining'
] as const

export type RefusalKind = typeof REFUSAL_KINDS[number]

/** Counters for refusals, e.g. for /status and the page. */
export class RefusalCounters {
  private readonly counts = new Map<RefusalKind, number>(REFUSAL_KINDS.map(k => [k, 0]))

  add (kind: RefusalKind): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1)
  }

  get (kind: RefusalKind): number {
    return this.counts.get(kind) ?? 0
  }

  toJSON (): Record<RefusalKind, number> {
    return Object.fromEntries(this.counts) as Record<RefusalKind, number>
  }
}
