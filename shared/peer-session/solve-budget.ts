export interface SolveBudgetInit {
  /** Time every dialer gets whatever the difficulty, ms (network, slow starts). @default 10_000 */
  floor?: number
  /** The slowest solver we wait for, hashes per second. @default 1_000_000 */
  minRate?: number
  /** How many mean solve times at that rate we allow (the search time is geometric). @default 3 */
  factor?: number
}

/**
 * How long a dialer may take to answer a challenge of `difficulty` bits:
 * a floor plus a few mean solve times of a slow solver, capped. A stranger
 * holding a handshake slot without solving loses it this soon.
 */
export function solveBudget (difficulty: number, max: number, init: SolveBudgetInit = {}): number {
  const mean = 2 ** difficulty / (init.minRate ?? 1_000_000) * 1000
  return Math.round(Math.min(max, (init.floor ?? 10_000) + (init.factor ?? 3) * mean))
}
