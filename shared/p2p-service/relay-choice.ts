/** One relay the connector knows about, as the choice policy sees it. */
export interface RelaySlot {
  key: string
  active: boolean
  /** Connected, or still trying for the first time: it counts toward the target. */
  healthy: boolean
  /** Lower is better (see relayRank). */
  rank: number
  load?: number
}

export interface RelayCandidate {
  key: string
  rank: number
  load?: number
}

export interface RelayChoiceInit {
  /** How many relays to keep (tabs: two, so one going down never cuts them off). */
  maxRelays: number
  /** A relay reporting this load or more is replaced when there is an alternative. */
  overloaded: number
}

export interface RelayPlan {
  activate: string[]
  deactivate: string[]
}

/**
 * Decides which relays to be connected to. Healthy relays that are not
 * overloaded are kept up to the target; missing slots (a relay down,
 * overloaded, or never enough) are filled with the best candidates; once
 * enough healthy relays run, the surplus (the worst, the overloaded, the
 * ones that are down) is let go.
 */
export function planRelays (slots: RelaySlot[], candidates: RelayCandidate[], init: RelayChoiceInit): RelayPlan {
  const active = slots.filter(s => s.active)
  const good = active.filter(s => s.healthy && (s.load ?? 0) < init.overloaded).sort((a, b) => a.rank - b.rank)
  const activeKeys = new Set(active.map(s => s.key))
  const need = Math.max(0, init.maxRelays - good.length)
  const activate = candidates
    .filter(c => !activeKeys.has(c.key) && (c.load ?? 0) < init.overloaded)
    .sort((a, b) => a.rank - b.rank)
    .slice(0, need)
    .map(c => c.key)
  if (good.length < init.maxRelays) return { activate, deactivate: [] }
  const keep = new Set(good.slice(0, init.maxRelays).map(s => s.key))
  return { activate, deactivate: active.filter(s => !keep.has(s.key)).map(s => s.key) }
}
