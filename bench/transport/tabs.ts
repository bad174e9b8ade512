import { launchChromium, withTimeout } from '../common/index.ts'
import type { TransportBenchApi } from '../../web/bench/transport/bench-api.ts'
import type { Browser, Page } from '@playwright/test'

type Api = TransportBenchApi
type Method = { [K in keyof Api]: Api[K] extends (arg: any) => Promise<any> ? K : never }[keyof Api]
type Arg<K extends Method> = Parameters<Api[K]>[0]
type Result<K extends Method> = Awaited<ReturnType<Api[K]>>

/** One bench tab: the bench page, called through `page.evaluate`. */
export class BenchTab {
  constructor (readonly page: Page, readonly name: string) {}

  /** Calls `window.transportBench[method](arg)` in the tab, with a timeout. */
  async call<K extends Method> (method: K, arg: Arg<K>, timeoutMs: number): Promise<Result<K>> {
    const run = this.page.evaluate(async ({ method, arg }) => {
      const api = window.transportBench
      if (api == null) throw new Error('bench page not loaded')
      return await (api[method] as (a: unknown) => Promise<unknown>)(arg)
    }, { method, arg: arg as unknown })
    return await withTimeout(run, timeoutMs, `${this.name}.${method}`) as Result<K>
  }
}

/** Launches Chromium with two bench tabs in one context (so BroadcastChannel links them). */
export async function openTabs (url: string, log: (line: string) => void): Promise<{ browser: Browser, chromium: string, tabs: [BenchTab, BenchTab] }> {
  const browser = await launchChromium()
  try {
    const context = await browser.newContext()
    const open = async (name: string): Promise<BenchTab> => {
      const page = await context.newPage()
      page.on('pageerror', (err) => { log(`[${name}] page error: ${err.message}`) })
      page.on('console', (msg) => { if (msg.type() === 'error') log(`[${name}] console: ${msg.text()}`) })
      await page.exposeFunction('benchLog', (line: string) => { log(`[${name}] ${line}`) })
      await page.goto(url, { timeout: 15_000 })
      await page.waitForFunction(() => window.transportBench != null, undefined, { timeout: 15_000 })
      return new BenchTab(page, name)
    }
    const tabs: [BenchTab, BenchTab] = [await open('tab A'), await open('tab B')]
    return { browser, chromium: `Chromium ${browser.version()}`, tabs }
  } catch (err) {
    await browser.close()
    throw err
  }
}
