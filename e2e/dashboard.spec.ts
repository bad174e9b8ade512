import { expect, test } from '@playwright/test'
import { DASHBOARD_CSP } from '../relay/http/sandbox-headers.ts'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { STATUS_TOKEN } from './fixtures/relay-process.ts'
import { openTab, peerIdOf } from './fixtures/tab.ts'
import type { Page } from '@playwright/test'

// The operator dashboard (/dashboard on a real relay process) in real
// Chromium: uPlot plots of the relay's own samples, which move when a tab
// joins; peer IDs only for the holder of the status token.

const env = useRelayAndBrowser()

/** Any base58 peer ID (Ed25519 `12D3KooW…`, RSA/SHA-256 `Qm…`). */
const PEER_ID = /\b(?:12D3KooW|16Uiu2H)[1-9A-HJ-NP-Za-km-z]{40,}|\bQm[1-9A-HJ-NP-Za-km-z]{44}\b/

interface Snapshot { operator: boolean, t: number[], series: Record<string, Array<number | null>>, peers?: Array<{ peerId: string, roles: string[] }> }

async function series (token?: string): Promise<{ text: string, body: Snapshot }> {
  const res = await fetch(new URL('/dashboard/series', env.relay.httpUrl), { headers: token != null ? { Authorization: `Bearer ${token}` } : {} })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('application/json')
  const text = await res.text()
  return { text, body: JSON.parse(text) as Snapshot }
}

const last = (body: Snapshot, key: string): number | null | undefined => body.series[key]?.at(-1)

/** Opens /dashboard, collecting what the page reports wrong (errors, CSP violations). */
async function openDashboard (page: Page, problems: string[]): Promise<void> {
  page.on('pageerror', err => { problems.push(err.message) })
  page.on('console', msg => { if (msg.type() === 'error') problems.push(msg.text()) })
  const response = await page.goto(new URL('/dashboard', env.relay.httpUrl).toString())
  expect(response?.status()).toBe(200)
  expect(response?.headers()['content-security-policy']).toBe(DASHBOARD_CSP)
}

test('the dashboard plots the relay\'s samples with uPlot, and they move when a tab joins; no peer ID without the token', async () => {
  const problems: string[] = []
  const context = await env.browser.newContext()
  const page = await context.newPage()
  await openDashboard(page, problems)

  // nine plots, each a uPlot canvas, with the relay's first samples in them
  const charts = page.locator('[data-testid^="chart-"]')
  await expect(charts).toHaveCount(9)
  await expect(page.locator('[data-testid^="chart-"] .uplot canvas')).toHaveCount(9)
  await expect(page.getByTestId('dashboard-state')).toHaveText('Live')
  await expect(page.getByTestId('now-sessions')).toHaveText('0')
  const pointsBefore = Number(await page.getByTestId('chart-sessions').getAttribute('data-points'))
  expect(pointsBefore).toBeGreaterThan(0)
  await expect(page.getByTestId('now-cpu')).toHaveText(/\d %/)
  await expect(page.getByTestId('now-memory')).toHaveText(/\d+(\.\d)? MiB/)

  // a tab joins: the next samples show its session, its WebSocket and its reservation
  const tabContext = await env.browser.newContext()
  const tab = await openTab(tabContext, env.relay.httpUrl)
  const tabId = await peerIdOf(tab)
  await expect(page.getByTestId('now-sessions')).toHaveText('1', { timeout: 30_000 })
  await expect(page.getByTestId('now-reservations')).toHaveText('1', { timeout: 30_000 })
  expect(Number(await page.getByTestId('chart-sessions').getAttribute('data-points'))).toBeGreaterThan(pointsBefore)
  const anonymous = await series()
  expect(last(anonymous.body, 'tabs')).toBe(1)
  expect(Math.max(...(anonymous.body.series.bytesIn ?? []).map(v => v ?? 0))).toBeGreaterThan(0)
  expect(Math.max(...(anonymous.body.series.bytesOut ?? []).map(v => v ?? 0))).toBeGreaterThan(0)

  // counts and plots for everyone; no peer ID in the JSON nor on the page
  expect(anonymous.body.operator).toBe(false)
  expect(anonymous.body.peers).toBeUndefined()
  expect(anonymous.text).not.toContain(tabId)
  expect(anonymous.text).not.toMatch(PEER_ID)
  await expect(page.getByTestId('peer-table')).toHaveCount(0)
  const html = await page.content()
  expect(html).not.toContain(tabId)
  expect(html).not.toMatch(PEER_ID)

  // ?since= answers only newer samples
  const newest = anonymous.body.t.at(-1) ?? 0
  const since = await (await fetch(new URL(`/dashboard/series?since=${newest}`, env.relay.httpUrl))).json() as Snapshot
  expect(since.t.every(t => t > newest)).toBe(true)

  // the status token shows who is connected, in the JSON and on the page
  const operator = await series(STATUS_TOKEN)
  expect(operator.body.operator).toBe(true)
  // (the pattern the anonymous answer was checked with does find IDs)
  expect(operator.text).toMatch(PEER_ID)
  expect(operator.body.peers?.find(p => p.peerId === tabId)?.roles).toEqual(['tab'])
  expect((await series('wrong-token')).body.peers).toBeUndefined()

  await page.getByTestId('token-input').fill(STATUS_TOKEN)
  await page.getByTestId('token-submit').click()
  await expect(page.locator(`[data-testid="peer-row"][data-peer-id="${tabId}"]`)).toBeVisible()
  expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(STATUS_TOKEN)
  // kept for the tab's life: a reload still shows the table
  await page.reload()
  await expect(page.locator(`[data-testid="peer-row"][data-peer-id="${tabId}"]`)).toBeVisible()
  await page.getByTestId('token-forget').click()
  await expect(page.getByTestId('peer-table')).toHaveCount(0)
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0)

  // a wrong token is said to be wrong, and shows nothing more
  await page.getByTestId('token-input').fill('wrong-token')
  await page.getByTestId('token-submit').click()
  await expect(page.getByTestId('token-refused')).toBeVisible()
  await expect(page.getByTestId('peer-table')).toHaveCount(0)

  await tabContext.close()
  await expect(page.getByTestId('now-sessions')).toHaveText('0', { timeout: 30_000 })
  // the relay's CSP let everything the page does through
  expect(problems).toEqual([])
  await context.close()
})

test('the dashboard fits a 390 px phone and follows the dark colour scheme', async () => {
  const problems: string[] = []
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' })
  const page = await context.newPage()
  await openDashboard(page, problems)
  await expect(page.locator('[data-testid^="chart-"] .uplot canvas')).toHaveCount(9)
  await expect(page.getByTestId('now-sessions')).toHaveText('0')
  // nothing wider than the screen: no sideways scrolling, plots as wide as their cards
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
  const widths = await page.locator('[data-testid^="chart-"] .uplot').evaluateAll(els => els.map(e => e.getBoundingClientRect().width))
  for (const width of widths) expect(width).toBeGreaterThan(250)
  for (const width of widths) expect(width).toBeLessThanOrEqual(390)
  expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(22, 20, 18)')

  await page.emulateMedia({ colorScheme: 'light' })
  await expect.poll(async () => await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(247, 245, 242)')
  // the plots are drawn again in the light colours, not lost
  await expect(page.locator('[data-testid^="chart-"] .uplot canvas')).toHaveCount(9)
  expect(problems).toEqual([])
  await context.close()
})
