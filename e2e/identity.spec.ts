import { expect, test } from '@playwright/test'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { openTab, peerIdOf, waitDirect, waitReserved } from './fixtures/tab.ts'

const env = useRelayAndBrowser()

test('a reloaded tab keeps its peer ID, and other tabs get their own', async () => {
  const context = await env.browser.newContext()
  const a = await openTab(context, env.relay.httpUrl)
  const b = await openTab(context, env.relay.httpUrl)
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
  const before = (await env.relay.status()).peerId
  await env.relay.stop()
  await env.relay.launch()
  expect((await env.relay.status()).peerId).toBe(before)
})
