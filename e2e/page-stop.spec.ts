import { expect, test } from '@playwright/test'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { openTab, pageErrors } from './fixtures/tab.ts'

const env = useRelayAndBrowser()

interface PageTimers {
  intervals: number
  /** Every timer made since the page loaded. */
  made: number
  /** Live timers: kind and where they were made. */
  live: string[]
}

declare global {
  interface Window {
    /** Installed by this test only, before the page's scripts run. */
    pageTimers?: () => PageTimers
  }
}

/** Wraps the tab's timer functions to count what is live and what was ever made. */
function countTimers (): void {
  const live = new Map<number, string>()
  let made = 0
  const native = { setInterval: window.setInterval.bind(window), setTimeout: window.setTimeout.bind(window), clearTimeout: window.clearTimeout.bind(window) }
  const where = (kind: string): string => `${kind} ${(new Error().stack ?? '').split('\n').slice(3, 6).join(' <')}`
  window.setInterval = ((fn: TimerHandler, ms?: number, ...args: unknown[]) => {
    const id = native.setInterval(fn, ms, ...args)
    made++
    live.set(id, where('interval'))
    return id
  }) as typeof window.setInterval
  window.setTimeout = ((fn: TimerHandler, ms?: number, ...args: unknown[]) => {
    const id: number = native.setTimeout((...a: unknown[]) => {
      live.delete(id)
      if (typeof fn === 'function') fn(...a)
    }, ms, ...args)
    made++
    live.set(id, where('timeout'))
    return id
  }) as typeof window.setTimeout
  // browsers share one id pool between the two, and either clear works on both
  const clear = ((id?: number): void => { if (id != null) live.delete(id); native.clearTimeout(id) }) as typeof window.clearTimeout
  window.clearInterval = clear
  window.clearTimeout = clear
  window.pageTimers = () => ({ intervals: [...live.values()].filter(t => t.startsWith('interval')).length, made, live: [...live.values()] })
}

test('a stopped node leaves no timer running in the page', async () => {
  const context = await env.browser.newContext()
  await context.addInitScript(countTimers)
  const page = await openTab(context, env.relay.httpUrl)
  // the count sees the page's timers: its clock, libp2p's and the parts'
  expect((await page.evaluate(() => window.pageTimers!())).intervals).toBeGreaterThan(0)

  await page.evaluate(async () => { await window.golemClay!.stop() })
  expect(await page.evaluate(() => window.golemClay!.phase())).toBe('stopped')
  await expect(page.getByTestId('node-status')).toHaveText('Stopped')
  // one-shot timers of the shutdown itself run out within moments
  await expect.poll(async () => (await page.evaluate(() => window.pageTimers!())).live, { timeout: 15_000 }).toEqual([])
  // and nothing starts new ones: no loop re-arms a timeout in place of an interval
  const made = (await page.evaluate(() => window.pageTimers!())).made
  await page.waitForTimeout(3_000) // a window in which the page's 1 s clock would have ticked thrice
  expect((await page.evaluate(() => window.pageTimers!())).made).toBe(made)
  expect(pageErrors.get(page)).toEqual([])
})
