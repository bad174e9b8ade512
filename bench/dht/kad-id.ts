import { createHash } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'

/** kad-dht's keyspace position of a key: SHA-256 of its bytes (see kad-dht `convertBuffer`). */
export function kadId (key: Uint8Array): Uint8Array {
  return createHash('sha256').update(key).digest()
}

export function peerKadId (peer: PeerId): Uint8Array {
  return kadId(peer.toMultihash().bytes)
}

/** <0 when `a` is closer to `target` than `b` by XOR distance. */
export function compareDistance (target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = (a[i] ?? 0) ^ (target[i] ?? 0)
    const db = (b[i] ?? 0) ^ (target[i] ?? 0)
    if (da !== db) return da - db
  }
  return 0
}

/** Indexes of the `k` ids closest to `target`: the ground truth a lookup is checked against. */
export function trueClosest (target: Uint8Array, ids: Uint8Array[], k: number): number[] {
  return ids.map((id, i) => i)
    .sort((a, b) => compareDistance(target, ids[a] ?? target, ids[b] ?? target))
    .slice(0, k)
}
