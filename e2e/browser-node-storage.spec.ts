import { expect, test } from '@playwright/test'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { openTab, pageErrors, peerIdOf } from './fixtures/tab.ts'

const env = useRelayAndBrowser()

test('a tab whose browser keeps no data joins with an identity in memory, says so, and is a new peer after a reload', async () => {
  const context = await env.browser.newContext()
  // as where the visitor blocks site data, or in a sandboxed iframe: reading IndexedDB throws
  await context.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', { configurable: true, get () { throw new DOMException('The user denied permission to access the database.', 'SecurityError') } })
  })
  const page = await openTab(context, env.relay.httpUrl)
  expect(await page.evaluate(() => window.golemClay!.phase())).toBe('running')
  const first = await peerIdOf(page)
  const notices = await page.evaluate(() => window.golemClay!.notices().map(n => n.text))
  expect(notices.some(n => n.startsWith('(this tab) keeps its identity and payment key in memory only: this browser does not let the page keep data'))).toBe(true)
  expect(notices.some(n => n.startsWith('(this tab) keeps its payments in memory only'))).toBe(true)
  await expect(page.getByText('New this session')).toBeVisible()

  await page.reload()
  await page.waitForFunction(() => window.golemClay?.phase() === 'running', undefined, { polling: 100, timeout: 30_000 })
  expect(await peerIdOf(page)).not.toBe(first)
  expect(pageErrors.get(page)).toEqual([])
  await context.close()
})
