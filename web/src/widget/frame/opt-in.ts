/**
 * The visitor's stored yes, per site: the frame's localStorage, which the
 * browser partitions by the embedding site (Chrome does), so a yes on one
 * site is not a yes on another. Storage may be denied in a third-party
 * frame: then nothing is remembered and every visit asks again.
 */
const KEY = 'golem-clay-widget:opt-in'

export function hasOptIn (): boolean {
  try {
    return localStorage.getItem(KEY) != null
  } catch {
    return false
  }
}

/** Remembers the yes; false when storage is denied. */
export function storeOptIn (): boolean {
  try {
    localStorage.setItem(KEY, JSON.stringify({ at: Date.now() }))
    return true
  } catch {
    return false
  }
}

export function forgetOptIn (): void {
  try {
    localStorage.removeItem(KEY)
  } catch {}
}
