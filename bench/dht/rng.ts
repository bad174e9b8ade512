/** mulberry32: a small seeded PRNG, so a run's choices (bootstrap peers, searchers, targets) can be repeated. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function pick<T> (rand: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)]
  if (item === undefined) throw new Error('pick from an empty list')
  return item
}

/** Up to `n` distinct items, in random order. */
export function sample<T> (rand: () => number, items: readonly T[], n: number): T[] {
  const copy = [...items]
  const out: T[] = []
  while (out.length < n && copy.length > 0) {
    const i = Math.floor(rand() * copy.length)
    out.push(...copy.splice(i, 1))
  }
  return out
}
