import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { openTab, peerIdOf, waitDirect, waitReserved } from './fixtures/tab.ts'
import type { Browser } from '@playwright/test'

let relay: RelayProcess
let browser: Browser

test.beforeAll(async () => {
  relay = await RelayProcess.start()
  browser = await launchChromium()
})
test.afterAll(async () => {
  await browser.close()
  await relay.stop()
})

test('a reloaded tab keeps its peer ID, and other tabs get their own', async () => {
  const context = await browser.newContext()
  const a = await openTab(context, relay.httpUrl)
  const b = await openTab(context, relay.httpUrl)
  const idA = await peerIdOf(a)
  const idB = await peerIdOf(b)
  expect(idA).not.toBe(idB)
  await expect(a.getByTestId('peer-id')).toHaveText(idA)

  await a.reload()
  await waitReserved(a)
  expect(await peerIdOf(a)).toBe(idA)
  await expect(a.getByTestId('peer-id')).toHaveText(idA)
  // the identity was restored, not created again
  await expect(a.getByText('Restored')).toBeVisible()

  // and the reloaded tab is back on the network under the same ID
  await waitDirect(b, idA)
  await waitDirect(a, idB)
})

test('the relay keeps its peer ID across restarts', async () => {
  const before = (await relay.status()).peerId
  await relay.stop()
  await relay.launch()
  expect((await relay.status()).peerId).toBe(before)
})
