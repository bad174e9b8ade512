// Chromium for benches: the e2e suite's launcher (its binary and flags), and
// the pid of each browser, for benches that count CPU time per browser.
import { childrenMatching } from './cpu-groups.ts'
import type { Browser } from '@playwright/test'

/**
 * Launches headless Chromium as the e2e suite does. Playwright is loaded on
 * the first launch, so benches without tabs (and their helper processes)
 * never load it.
 */
export async function launchChromium (): Promise<Browser> {
  const e2e = await import('../../e2e/fixtures/chromium.ts')
  return await e2e.launchChromium()
}

/** Launches Chromium and returns it with the pid of its browser process (-1 if not found). */
export async function launchChromiumWithPid (): Promise<{ browser: Browser, pid: number }> {
  const before = new Set(childrenMatching(process.pid, 'chrom'))
  const browser = await launchChromium()
  const pid = childrenMatching(process.pid, 'chrom').find(p => !before.has(p))
  return { browser, pid: pid ?? -1 }
}
