import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { tcpAddrOf } from './fixtures/rogue.ts'
import { openTab, pageErrors } from './fixtures/tab.ts'
import type { Browser, Page } from '@playwright/test'

const relays: RelayProcess[] = []
let browser: Browser | undefined

test.afterAll(async () => {
  await browser?.close()
  await Promise.all(relays.map(async r => { await r.stop() }))
})

async function reservedOn (page: Page): Promise<string[]> {
  return await page.evaluate(() => window.golemClay!.relays().filter(r => r.state === 'reserved').map(r => r.peerId ?? ''))
}

/** The relay's JSON log line for `event`. */
function logged (relay: RelayProcess, event: string): Record<string, any> | undefined {
  const line = relay.output?.lines.find(l => l.includes(`"event":"${event}"`))
  return line == null ? undefined : JSON.parse(line.slice(line.indexOf('{')))
}

test('SIGTERM drains a relay: its tabs are told, close their links, and stay reserved on the other relay', async () => {
  const r1 = await RelayProcess.start()
  relays.push(r1)
  const r2 = await RelayProcess.start({ extraArgs: ['--seed', tcpAddrOf((await r1.status()).multiaddrs)] })
  relays.push(r2)
  const [id1, id2] = [await r1.peerId(), await r2.peerId()]
  browser = await launchChromium()
  const context = await browser.newContext()
  const tabs = [await openTab(context, r1.httpUrl), await openTab(context, r1.httpUrl)]
  for (const tab of tabs) {
    await tab.waitForFunction(([a, b]) => { const held = window.golemClay!.relays().filter(r => r.state === 'reserved').map(r => r.peerId); return held.includes(a) && held.includes(b) }, [id1, id2], { timeout: 60_000, polling: 200 })
  }

  // healthy until told to stop
  expect((await fetch(new URL('/healthz', r1.httpUrl))).status).toBe(200)
  const code = await r1.stop()
  expect(code).toBe(0)
  const drain = logged(r1, 'relay-drain')
  const stop = logged(r1, 'relay-stop')
  expect(drain).toBeDefined()
  // every tab (and the other relay) closed its links on the goodbye, before the relay stopped waiting
  expect(stop, JSON.stringify(stop)).toMatchObject({ sessions: 3, left: 0 })
  expect(stop!.waitedMs).toBeLessThan(5_000)

  for (const tab of tabs) {
    await tab.waitForFunction((gone) => window.golemClay!.relays().every(r => r.peerId !== gone || r.state !== 'reserved'), id1, { timeout: 10_000, polling: 100 })
    expect(await reservedOn(tab)).toContain(id2)
    expect(pageErrors.get(tab)).toEqual([])
  }
})
