import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'
import { shortId } from '../web/src/components/format.ts'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { openTab, pageErrors, peerIdOf, sendViaUi, waitDirect } from './fixtures/tab.ts'
import type { BrowserContext, Page } from '@playwright/test'

// The page as a visitor meets it: on a phone, in dark mode, with a screen
// reader, after a reload, and with a wrong address in the URL.
const env = useRelayAndBrowser()
const PHONE = { width: 390, height: 844 }
const contexts: BrowserContext[] = []

// tabs left open by a failed test would link to the next test's tabs
test.afterEach(async () => { await Promise.all(contexts.splice(0).map(async c => { await c.close() })) })

async function newContext (options: Parameters<typeof env.browser.newContext>[0] = {}): Promise<BrowserContext> {
  const context = await env.browser.newContext(options)
  contexts.push(context)
  return context
}

/** Opens `n` tabs of one context and waits until the first is linked directly to every other. */
async function linkedTabs (context: BrowserContext, n: number): Promise<{ tabs: Page[], ids: string[] }> {
  const tabs: Page[] = []
  for (let i = 0; i < n; i++) tabs.push(await openTab(context, env.relay.httpUrl))
  const ids = await Promise.all(tabs.map(peerIdOf))
  for (const id of ids.slice(1)) await waitDirect(tabs[0]!, id)
  return { tabs, ids }
}

/** Axe's serious and critical findings, one line each, so a failure says what and where. */
async function seriousViolations (page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze()
  return violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)
}

/** The chat history this tab's identity keeps in IndexedDB (web/src/node/persisted-list.ts). */
async function storedMessages (page: Page, owner: string): Promise<Array<{ peer: string, read?: boolean }>> {
  return await page.evaluate(async (key) => await new Promise((resolve, reject) => {
    const open = indexedDB.open('golem-clay-history')
    open.onerror = () => { reject(open.error) }
    open.onsuccess = () => {
      const get = open.result.transaction('lists').objectStore('lists').get(key)
      get.onsuccess = () => { resolve(get.result ?? []) }
      get.onerror = () => { reject(get.error) }
    }
  }), `${owner}:messages`)
}

async function background (page: Page): Promise<string> {
  return await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
}

test('on a 390 px phone with peers: no sideways scrolling, compact peer rows with RTT, named buttons, no serious axe finding, dark mode on request', async () => {
  const phone = await newContext({ viewport: PHONE, colorScheme: 'light' })
  const { tabs: [a, b, c], ids: [, idB, idC] } = await linkedTabs(phone, 3) as { tabs: Page[], ids: string[] }
  const rows = a!.getByTestId('peer-row')
  await expect(rows).toHaveCount(2)

  // the page is as wide as the phone, every card inside it
  expect(await a!.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
  const overflowing = await a!.evaluate((width) => [...document.querySelectorAll('section, button, input, select, code, li')]
    .filter(el => el.getBoundingClientRect().right > width + 0.5)
    .map(el => `${el.tagName.toLowerCase()}.${el.className}`), PHONE.width)
  expect(overflowing).toEqual([])

  // a peer row is two short lines, and its RTT is shown
  for (const row of await rows.all()) {
    await expect(row).toContainText('Browser tab · verified')
    await expect(row.getByTestId('peer-rtt')).toBeVisible()
    await expect(row.getByTestId('peer-rtt')).toHaveText(/\d ms$/)
    expect((await row.boundingBox())!.height).toBeLessThan(80)
  }

  // each Message button says whom it messages; an unread count is part of the name, not "Message1"
  for (const id of [idB!, idC!]) await expect(a!.getByRole('button', { name: `Message ${shortId(id)}`, exact: true })).toBeVisible()
  await sendViaUi(b!, (await peerIdOf(a!)), 'hello from B')
  const fromB = a!.getByRole('button', { name: `Message ${shortId(idB)}, 1 unread`, exact: true })
  await expect(fromB).toBeVisible()
  await expect(fromB.getByTestId('unread')).toHaveText('1')
  await expect(fromB.getByTestId('unread')).toHaveAttribute('aria-hidden', 'true')

  // accessibility: nothing serious or critical, with peers, a notice list and an open conversation
  expect(await seriousViolations(a!)).toEqual([])
  await fromB.click()
  await expect(a!.getByRole('button', { name: `Message ${shortId(idB)}`, exact: true })).toBeVisible()
  await expect(a!.getByRole('list', { name: `Messages with ${shortId(idB)}` })).toBeVisible()
  expect(await seriousViolations(a!)).toEqual([])

  // dark mode follows prefers-color-scheme, with no serious finding either (contrast included)
  const dark = await newContext({ viewport: PHONE, colorScheme: 'dark' })
  const night = await openTab(dark, env.relay.httpUrl)
  expect(await background(night)).not.toBe(await background(a!))
  expect(await night.evaluate(() => getComputedStyle(document.querySelector('.card')!).backgroundColor)).not.toBe('rgb(255, 255, 255)')
  await waitDirect(night, await peerIdOf(a!))
  expect(await night.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
  expect(await seriousViolations(night)).toEqual([])

  for (const page of [a, b, c, night]) expect(pageErrors.get(page!)).toEqual([])
})

test('a reload keeps the chat and its unread counts; an inbox keeps what a tab that left had sent', async () => {
  const context = await newContext()
  const { tabs: [a, b, c], ids: [idA, idB, idC] } = await linkedTabs(context, 3) as { tabs: Page[], ids: string[] }
  await sendViaUi(a!, idB!, 'from A to B')
  await sendViaUi(b!, idA!, 'from B to A')
  await sendViaUi(c!, idA!, 'from C, who is about to leave')
  // A has B's conversation open, so B's reply is read as it comes; C's waits, unread
  await expect(a!.locator('[data-testid="message"][data-direction="in"]', { hasText: 'from B to A' })).toBeVisible()
  await expect(a!.getByRole('button', { name: `Message ${shortId(idB)}`, exact: true })).toBeVisible()
  await expect(a!.getByRole('button', { name: `Message ${shortId(idC)}, 1 unread`, exact: true })).toBeVisible()

  // C leaves: it is no longer counted as online, but stays in A's list with its message
  await c!.close()
  await expect(a!.getByTestId('network-live')).toContainText('2 tabs', { timeout: 30_000 })
  await expect(a!.locator(`[data-testid="peer-row"][data-peer-id="${idC}"]`)).toHaveAttribute('data-left', 'true', { timeout: 30_000 })
  // C's goodbye is news, not an error
  await expect(a!.getByTestId('notice').filter({ hasText: 'shutting down' }).first()).toHaveAttribute('data-tone', 'info')

  // the scrolling lists (network events, a conversation) can be read by keyboard once they overflow
  await a!.addStyleTag({ content: '[data-testid="notices"], [data-testid="messages"] { height: 1.2rem !important; max-height: 1.2rem !important; }' })
  const scrolling = await new AxeBuilder({ page: a! }).include('[data-testid="notices"]').include('[data-testid="messages"]').analyze()
  expect(scrolling.violations.map(v => v.id)).toEqual([])
  expect(scrolling.passes.map(v => v.id)).toContain('scrollable-region-focusable')

  await a!.reload()
  expect(await peerIdOf(a!)).toBe(idA)
  // the conversation with B is back, read; C's message is back, still unread
  const rowB = a!.locator(`[data-testid="peer-row"][data-peer-id="${idB}"]`)
  await expect(rowB).toBeVisible()
  await expect(rowB.getByTestId('unread')).toHaveCount(0)
  const toC = a!.getByRole('button', { name: `Message ${shortId(idC)}, 1 unread`, exact: true })
  await expect(toC).toBeVisible()
  await rowB.getByRole('button').click()
  await expect(a!.locator('[data-testid="message"][data-direction="out"]', { hasText: 'from A to B' })).toHaveAttribute('data-status', 'delivered')
  await expect(a!.locator('[data-testid="message"][data-direction="in"]', { hasText: 'from B to A' })).toBeVisible()
  await toC.click()
  await expect(a!.locator('[data-testid="message"][data-direction="in"]', { hasText: 'from C, who is about to leave' })).toBeVisible()
  await expect(a!.getByRole('button', { name: `Message ${shortId(idC)}`, exact: true })).toBeVisible()
  // reading it is kept too (once written: a reload can cut off a write still in flight)
  await expect.poll(async () => await storedMessages(a!, idA!)).toContainEqual(expect.objectContaining({ peer: idC, read: true }))
  await a!.reload()
  await expect(a!.getByRole('button', { name: `Message ${shortId(idC)}`, exact: true })).toBeVisible()
  expect(await a!.evaluate(() => window.golemClay!.messages().length)).toBe(3)

  for (const page of [a, b]) expect(pageErrors.get(page!)).toEqual([])
})

test('a malformed ?relay= shows the tab\'s identity, a clear error and what to do; nothing claims to run', async () => {
  const context = await newContext()
  const page = await openTab(context, `${env.relay.httpUrl}?relay=${encodeURIComponent('/ip4/999.1.1.1/tcp/x')}`, { waitReserved: false })
  const banner = page.getByTestId('connection-banner')
  await expect(banner).toHaveAttribute('data-tone', 'bad')
  await expect(banner).toContainText('is not a valid multiaddr')
  await expect(page.getByTestId('banner-hint')).toContainText('?relay=')
  await expect(page.getByTestId('peer-id')).toHaveText(/^12D3KooW/)
  await expect(page.getByTestId('relay-state')).toHaveAttribute('data-state', 'failed')
  // no "Lend your CPU: On" on a node that never started
  await expect(page.getByTestId('not-running')).toBeVisible()
  await expect(page.getByTestId('compute-card')).toHaveCount(0)
  expect(pageErrors.get(page)).toEqual([])
})

test('an unreachable relay and a dead ?status= say so in words, and what to do', async () => {
  const context = await newContext()
  // a relay address that refuses: the WebSocket fails with a bare Event, which must not show as "[object Event]"
  const deadPeer = (await env.relay.status()).peerId
  const refused = await openTab(context, `${env.relay.httpUrl}?relay=${encodeURIComponent(`/ip4/127.0.0.1/tcp/1/ws/p2p/${deadPeer}`)}`, { waitReserved: false })
  const banner = refused.getByTestId('connection-banner')
  await expect(banner).toContainText('127.0.0.1:1 is unreachable')
  await expect(refused.getByTestId('relay-state')).toHaveAttribute('data-state', 'waiting')
  for (const text of [await banner.textContent(), await refused.getByTestId('relay-state').textContent()]) {
    expect(text).not.toContain('[object')
    expect(text).toContain('the connection failed')
  }

  // a status address nobody answers: not "Looking up…" for ever
  const page = await openTab(context, `${env.relay.httpUrl}?status=${encodeURIComponent('http://127.0.0.1:1/status')}`, { waitReserved: false })
  const card = page.getByTestId('relay-state')
  await expect(card).toHaveAttribute('data-state', 'lookup-failed')
  await expect(card).toContainText('127.0.0.1:1')
  await expect(card).toContainText('Unreachable')
  await expect(card).toContainText('?status=')
  await expect(page.getByTestId('banner-hint')).toContainText('?status=')
  await expect(page.getByTestId('peer-id')).toHaveText(/^12D3KooW/)

  // a status address that is not a URL at all is a config error, not a retry loop
  const typo = await openTab(context, `${env.relay.httpUrl}?status=not-a-url`, { waitReserved: false })
  await expect(typo.getByTestId('connection-banner')).toContainText('Status address "not-a-url" is not a URL')
  await expect(typo.getByTestId('node-status')).toHaveText('Stopped')
  for (const p of [refused, page, typo]) expect(pageErrors.get(p)).toEqual([])
})
