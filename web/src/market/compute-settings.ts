/** What the visitor chose last time: cores and whether to lend them. */
export interface ComputeSettings { cores?: number, enabled?: boolean }

const SETTINGS_KEY = 'golem-clay:compute'

export function loadComputeSettings (): ComputeSettings {
  try {
    return JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}')
  } catch {
    return {}
  }
}

export function saveComputeSettings (change: ComputeSettings): void {
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify({ ...loadComputeSettings(), ...change }))
  } catch {}
}
