/** Settings of `npm run bench:dht`; env vars override sizes and counts for quick runs. */

function numbers (name: string, fallback: number[]): number[] {
  const raw = process.env[name]
  if (raw == null || raw.trim() === '') return fallback
  const values = raw.split(',').map(Number)
  if (!values.every(v => Number.isInteger(v) && v > 1)) throw new Error(`${name} must be a comma-separated list of integers > 1`)
  return values
}

export const SIM = {
  /** Seeds the peer keys and every random choice: runs see the same network. */
  seed: 20261124,
  /** One network grows through these sizes and is measured at each (DHT_BENCH_SIZES=100,250). */
  sizes: numbers('DHT_BENCH_SIZES', [100, 250, 500, 1000]).sort((a, b) => a - b),
  /** findPeer lookups per size, more from 1,000 nodes up (DHT_BENCH_LOOKUPS sets one count for all). */
  lookups: (size: number): number => numbers('DHT_BENCH_LOOKUPS', [size >= 1000 ? 200 : 100])[0] ?? 100,
  /** Full getClosestPeers lookups per size, checked against the true k closest. */
  closestLookups: 10,
  bootstrapPeers: 3,
  /** Joins in flight at once: each idles ~1 s before its self-lookup, so a few overlap to keep the CPU busy without starving requests. */
  joinConcurrency: 8,
  /** In-memory transport delay per message; 0 = no network latency, so lookup times are CPU time. */
  latencyMs: 0,
  /** Routing tables unchanged this long counts as settled. */
  settleQuietMs: 5000,
  settleMaxMs: 120_000,
  lookupTimeoutMs: 30_000
}
