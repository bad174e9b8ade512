import { expect, test } from '@playwright/test'
import { RelayProcess } from './fixtures/relay-process.ts'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { openTab, pageErrors, peerIdOf, waitReserved } from './fixtures/tab.ts'

const env = useRelayAndBrowser()
let later: RelayProcess | undefined

test.afterAll(async () => { await later?.stop() })

test('a relay that is down when the page loads: clear state, retries with backoff, joins once it is up', async () => {
  later = await RelayProcess.create()
  const statusUrl = `http://127.0.0.1:${later.ports.http}/status`
  const page = await openTab(await env.browser.newContext(), `${env.relay.httpUrl}?status=${encodeURIComponent(statusUrl)}`, { waitReserved: false })
  // the identity exists before any relay answers
  expect(await peerIdOf(page)).toMatch(/^12D3KooW/)
  const banner = page.getByTestId('connection-banner')
  await expect(banner).toContainText(`Relay at 127.0.0.1:${later.ports.http} is unreachable`)
  await expect(banner).toContainText(/Trying again (in \d+ s|now)/)
  await expect(page.getByTestId('node-status')).toHaveAttribute('data-tone', 'wait')
  // it keeps trying on its own, with growing waits
  await page.waitForFunction(() => window.golemClay!.locate().attempts >= 2, undefined, { polling: 100 })

  await later.launch()
  await waitReserved(page, 60_000)
  await expect(banner).toHaveCount(0)
  const relays = await page.evaluate(() => window.golemClay!.relays())
  expect(relays[0]?.peerId).toBe((await later.status()).peerId)
  expect(pageErrors.get(page)).toEqual([])
})

test('a malformed relay address in the page config shows a clear error, not a blank page', async () => {
  const page = await openTab(await env.browser.newContext(), `${env.relay.httpUrl}?relay=${encodeURIComponent('/ip4/999.1.1.1/tcp/x')}`, { waitReserved: false })
  await expect(page.getByTestId('connection-banner')).toContainText('is not a valid multiaddr')
  await expect(page.getByTestId('node-status')).toHaveText('Stopped')
  await expect(page.getByRole('heading', { name: 'Golem Clay' })).toBeVisible()
  expect(pageErrors.get(page)).toEqual([])
})

test('an unreachable relay multiaddr in the page config is retried with backoff and reported', async () => {
  const deadPeer = (await env.relay.status()).peerId
  const dead = `/ip4/127.0.0.1/tcp/1/ws/p2p/${deadPeer}`
  const page = await openTab(await env.browser.newContext(), `${env.relay.httpUrl}?relay=${encodeURIComponent(dead)}`, { waitReserved: false })
  await page.waitForFunction(() => (window.golemClay!.relays()[0]?.failures ?? 0) >= 2, undefined, { polling: 100, timeout: 30_000 })
  const [status] = await page.evaluate(() => window.golemClay!.relays())
  expect(status?.lastError).toBeTruthy()
  await expect(page.getByTestId('connection-banner')).toContainText('127.0.0.1:1 is unreachable')
  expect(pageErrors.get(page)).toEqual([])
})
