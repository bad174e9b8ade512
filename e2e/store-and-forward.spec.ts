import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { expectReceived, openTab, pageErrors, peerIdOf, waitReserved } from './fixtures/tab.ts'
import type { Browser } from '@playwright/test'

let relay: RelayProcess
let browser: Browser

test.beforeAll(async () => {
  relay = await RelayProcess.start({ extraArgs: ['--difficulty', '16'] })
  browser = await launchChromium()
})
test.afterAll(async () => {
  await browser.close()
  await relay.stop()
})

test('a message to a tab that is offline waits in the queue and arrives when it is back', async () => {
  const context = await browser.newContext()
  const a = await openTab(context, relay.httpUrl)
  const b = await openTab(context, relay.httpUrl)
  const [idA, idB] = [await peerIdOf(a), await peerIdOf(b)]
  await a.waitForFunction((id) => window.golemClay!.sessions().some(s => s.peer === id), idB, { polling: 100 })

  // B goes away (a reload keeps its peer ID) ...
  await b.goto('about:blank')
  await a.waitForFunction((id) => !window.golemClay!.sessions().some(s => s.peer === id) && !window.golemClay!.connections().some(c => c.peer === id), idB, { polling: 100 })

  // ... A writes to it anyway
  const pending = a.evaluate(async (to) => await window.golemClay!.send(to, 'written while you were away'), idB)
  await a.waitForFunction(() => window.golemClay!.messages().some(m => m.direction === 'out' && m.status === 'queued'), undefined, { polling: 100, timeout: 30_000 })

  // ... and B gets it once it is back on the network
  await b.goto(relay.httpUrl)
  await waitReserved(b)
  expect(await peerIdOf(b)).toBe(idB)
  expect((await pending).status).toBe('delivered')
  await expectReceived(b, idA, 'written while you were away')
  await a.locator(`[data-testid="peer-row"][data-peer-id="${idB}"] button`).click()
  await expect(a.locator('[data-testid="message"][data-direction="out"]', { hasText: 'written while you were away' })).toHaveAttribute('data-status', 'delivered')
  expect(pageErrors.get(a)).toEqual([])
})
