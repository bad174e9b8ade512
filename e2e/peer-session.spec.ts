import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { runRogue, tcpAddrOf } from './fixtures/rogue.ts'
import { expectReceived, openTab, pageErrors, peerIdOf, waitDirect, waitReserved } from './fixtures/tab.ts'
import type { Browser } from '@playwright/test'

let browser: Browser
const relays: RelayProcess[] = []

test.beforeAll(async () => { browser = await launchChromium() })
test.afterAll(async () => {
  await browser.close()
  await Promise.all(relays.map(async r => { await r.stop() }))
})

async function relayWith (args: string[]): Promise<RelayProcess> {
  const relay = await RelayProcess.start({ extraArgs: args })
  relays.push(relay)
  return relay
}

test('a tab joins with a visible Hashcash progress bar', async () => {
  // a harder puzzle than usual, so there is work to watch
  const relay = await relayWith(['--difficulty', '25', '--max-difficulty', '25'])
  const context = await browser.newContext()
  // record every value the bar shows, whatever the luck of the search
  await context.addInitScript(() => {
    const seen: number[] = []
    ;(window as any).__barValues = seen
    new MutationObserver(() => {
      const bar = document.querySelector('[data-testid="hashcash-progress"] progress') as HTMLProgressElement | null
      if (bar != null && seen.at(-1) !== bar.value) seen.push(bar.value)
    }).observe(document, { subtree: true, childList: true, attributes: true })
  })
  const page = await openTab(context, relay.httpUrl, { waitReserved: false })
  const bar = page.getByTestId('hashcash-progress')
  await expect(bar).toBeVisible()
  await expect(bar).toHaveAttribute('data-difficulty', '25')
  await expect(bar).toHaveAttribute('data-state', 'done', { timeout: 60_000 })
  await expect(bar).toContainText(/done in [\d.]+ m?s at [\d.]+ M hashes\/s/)
  const values = await page.evaluate(() => (window as any).__barValues as number[])
  expect(values.length).toBeGreaterThanOrEqual(2)
  expect(values.at(-1)).toBe(1)
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] as number)
  await waitReserved(page, 60_000)
  await expect(bar).toHaveCount(0)
  await expect(page.getByTestId('relay-difficulty')).toHaveText('Proof of work 25 bits')
  const sessions = await page.evaluate(() => window.golemClay!.sessions())
  const relayId = (await relay.status()).peerId
  expect(sessions.find(s => s.peer === relayId)).toMatchObject({ dialer: true, difficulty: 25, kind: 'websocket' })
  expect(pageErrors.get(page)).toEqual([])
})

test('a peer that sends a wrong solution is refused and banned while honest tabs keep working', async () => {
  const relay = await relayWith(['--difficulty', '18'])
  const context = await browser.newContext()
  const a = await openTab(context, relay.httpUrl)
  const b = await openTab(context, relay.httpUrl)
  const [idA, idB] = [await peerIdOf(a), await peerIdOf(b)]
  await waitDirect(a, idB)

  const lines = await runRogue('wrong-solution', tcpAddrOf((await relay.status()).multiaddrs))
  expect(lines.find(l => l.event === 'refused')).toMatchObject({ reason: 'InvalidProof', remote: true })
  expect(lines.some(l => l.event === 'accepted')).toBe(false)
  const status = await relay.status()
  expect(status.session.refusals['invalid-proof']).toBe(1)
  expect(status.session.bans).toBeGreaterThanOrEqual(1)
  const rogue = lines.find(l => l.done === true)?.peerId as string
  expect(status.peers.some(p => p.peerId === rogue)).toBe(false)

  // honest tabs never noticed
  await a.evaluate(async (to) => await window.golemClay!.send(to, 'business as usual'), idB)
  await expectReceived(b, idA, 'business as usual')
  const c = await openTab(context, relay.httpUrl)
  await waitDirect(c, idA)
  for (const page of [a, b, c]) expect(pageErrors.get(page)).toEqual([])
})

test('a flood of handshake attempts raises the difficulty and an honest tab still joins', async () => {
  const relay = await relayWith(['--difficulty', '16', '--max-difficulty', '22'])
  const before = (await relay.status()).session.difficulty
  expect(before).toBe(16)
  const [flood] = await runRogue('flood', tcpAddrOf((await relay.status()).multiaddrs), 300)
  // the flood came from many loopback hosts, as a botnet would from many IPs
  expect(flood?.challenged).toBeGreaterThan(20)
  const during = (await relay.status()).session
  expect(during.difficulty).toBeGreaterThan(before)
  expect(during.handshakeRate).toBeGreaterThan(5)

  const page = await openTab(await browser.newContext(), relay.httpUrl)
  const relayId = (await relay.status()).peerId
  const asked = await page.evaluate((id) => window.golemClay!.sessions().find(s => s.peer === id)?.difficulty, relayId)
  expect(asked).toBeGreaterThan(before)
  await expect(page.getByTestId('node-status')).toHaveAttribute('data-tone', 'good')
})

test('a tab that stops answering is dropped by its peer through the heartbeat within ~10 s', async () => {
  const relay = await relayWith(['--difficulty', '16'])
  const other = await launchChromium()
  try {
    const a = await openTab(await browser.newContext(), relay.httpUrl)
    const b = await openTab(await other.newContext(), relay.httpUrl)
    const [idA, idB] = [await peerIdOf(a), await peerIdOf(b)]
    await waitDirect(a, idB)
    await waitDirect(b, idA)
    await expect(a.locator(`[data-testid="peer-row"][data-peer-id="${idB}"]`)).toHaveAttribute('data-verified', 'true')
    // B's heartbeat RTT shows up in A's page
    await expect(a.locator(`[data-testid="peer-row"][data-peer-id="${idB}"] [data-testid="peer-rtt"]`)).toHaveText(/\d+(\.\d)? ms/)

    // freeze B's page: its WebRTC stack keeps the link up, only the heartbeat can tell
    const cdp = await b.context().newCDPSession(b)
    await cdp.send('Debugger.enable')
    const frozenAt = Date.now()
    void cdp.send('Debugger.pause')
    await a.waitForFunction((id) => !window.golemClay!.sessions().some(s => s.peer === id), idB, { timeout: 20_000, polling: 100 })
    expect(Date.now() - frozenAt).toBeLessThan(12_000)
    const notices = await a.evaluate((id) => window.golemClay!.notices().filter(n => n.peer === id).map(n => n.text), idB)
    expect(notices.some(text => text.includes('timed out'))).toBe(true)
    // one notice per session that timed out: the direct link's and, while it lived, the relayed one's
    await expect(a.getByTestId('notice').filter({ hasText: 'timed out' }).first()).toBeVisible()
  } finally {
    await other.close()
  }
})

test('a closed tab says goodbye and leaves its peers\' list at once', async () => {
  const relay = await relayWith(['--difficulty', '16'])
  const context = await browser.newContext()
  const a = await openTab(context, relay.httpUrl)
  const b = await openTab(context, relay.httpUrl)
  const idB = await peerIdOf(b)
  await waitDirect(a, idB)
  const closedAt = Date.now()
  await b.close()
  // no waiting for the heartbeat: the tab ends its sessions as it closes
  await expect(a.locator(`[data-testid="peer-row"][data-peer-id="${idB}"]`)).toHaveCount(0, { timeout: 5_000 })
  expect(Date.now() - closedAt).toBeLessThan(5_000)
  expect(await a.evaluate((id) => window.golemClay!.sessions().some(s => s.peer === id), idB)).toBe(false)
  // the relay heard the reason too
  await expect.poll(async () => (await relay.status()).peers.some(p => p.peerId === idB)).toBe(false)
})
