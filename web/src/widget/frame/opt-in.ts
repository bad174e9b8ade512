import type { WidgetSettings } from '../widget-protocol.ts'

/**
 * The visitor's stored yes, per site: the frame's localStorage, which the
 * browser partitions by the embedding site (Chrome does), so a yes on one
 * site is not a yes on another. The yes is for the terms shown (the account
 * credited, the cores, the CPU share): a site that changes them asks again.
 * A pause or stop by the visitor is kept with it, so neither the host page
 * nor `start="auto"` undoes it. Storage may be denied in a third-party
 * frame: then nothing is remembered and every visit asks again.
 */
const KEY = 'golem-clay-widget:opt-in'

interface Stored { at: number, account: string | null, cores: number, maxCpu: number, held?: 'paused' | 'stopped' }

function read (): Stored | undefined {
  try {
    const raw = localStorage.getItem(KEY)
    return raw == null ? undefined : JSON.parse(raw) as Stored
  } catch {
    return undefined
  }
}

function write (value: Stored): boolean {
  try {
    localStorage.setItem(KEY, JSON.stringify(value))
    return true
  } catch {
    return false
  }
}

/** A stored yes for these very terms. */
export function hasOptIn (s: WidgetSettings): boolean {
  const stored = read()
  return stored != null && stored.account === (s.account?.toLowerCase() ?? null) && stored.cores === s.cores && stored.maxCpu === s.maxCpu
}

/** The visitor paused or stopped the work (under a yes for these terms): only the visitor resumes it. */
export function heldByVisitor (s: WidgetSettings): 'paused' | 'stopped' | undefined {
  return hasOptIn(s) ? read()?.held : undefined
}

/** Remembers the yes for these terms (the visitor's click), clearing a pause or stop; false when storage is denied. */
export function storeOptIn (s: WidgetSettings): boolean {
  return write({ at: Date.now(), account: s.account?.toLowerCase() ?? null, cores: s.cores, maxCpu: s.maxCpu })
}

/** Keeps (or clears) the visitor's pause or stop with the yes. */
export function holdByVisitor (s: WidgetSettings, held: 'paused' | 'stopped' | undefined): void {
  const stored = read()
  if (stored == null || !hasOptIn(s)) return
  const { held: _, ...rest } = stored
  write(held != null ? { ...rest, held } : rest)
}

export function forgetOptIn (): void {
  try {
    localStorage.removeItem(KEY)
  } catch {}
}
