import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { openTab, pageErrors } from './fixtures/tab.ts'
import { tokenBalance } from './fixtures/chain-reads.ts'
import type { Browser, BrowserContext, Page } from '@playwright/test'

// The wallet card against a relay running its own chain (`--chain embedded`,
// as `npm start` does; it needs dist/contracts from `npm run build`): the
// tab's test tokens from the faucet, a deposit (approve, then deposit, both
// signed in the tab and sent through POST /chain/rpc), an unlock. And a
// relay without a chain, whose page shows no wallet at all.
const TOKEN = 10n ** 18n

let chainRelay: RelayProcess
let plainRelay: RelayProcess
let browser: Browser
const contexts: BrowserContext[] = []

test.beforeAll(async () => {
  chainRelay = await RelayProcess.start({ extraArgs: ['--chain', 'embedded'] })
  browser = await launchChromium()
})
test.afterEach(async () => {
  await Promise.all(contexts.splice(0).map(async c => { await c.close() }))
})
test.afterAll(async () => {
  await browser?.close()
  await chainRelay?.stop()
  await plainRelay?.stop()
})

async function tab (relay: RelayProcess, options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext(options)
  contexts.push(context)
  return await openTab(context, relay.httpUrl)
}

/** A balance as its data-value says it: the smallest unit. */
async function value (page: Page, testId: string): Promise<bigint> {
  return BigInt(await page.getByTestId(testId).getAttribute('data-value') ?? '')
}

test('the wallet card: zero balances, test tokens and gas from the faucet, a deposit of 10, an unlock that keeps Withdraw disabled', async () => {
  const page = await tab(chainRelay)
  const card = page.getByTestId('wallet-card')
  await expect(card).toBeVisible()

  // this tab's payment address, and nothing on it yet
  const address = await page.evaluate(() => window.golemClay?.paymentAddress())
  expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/)
  await expect(card.getByTestId('wallet-address')).toHaveText(address!)
  await expect(card.getByTestId('wallet-tokens')).toHaveAttribute('data-value', '0')
  await expect(card.getByTestId('wallet-gas')).toHaveAttribute('data-value', '0')
  await expect(card.getByTestId('wallet-deposit')).toHaveAttribute('data-value', '0')
  await expect(card.getByTestId('wallet-deposit-state')).toHaveAttribute('data-state', 'empty')
  await expect(card.getByTestId('wallet-unlock')).toBeDisabled()
  await expect(card.getByTestId('wallet-withdraw')).toBeDisabled()

  // a deposit with nothing to deposit says so, and sends nothing
  await card.getByTestId('wallet-deposit-amount').fill('10')
  await card.getByTestId('wallet-deposit-submit').click()
  await expect(card.getByTestId('wallet-error')).toContainText('Not enough tokens')

  // the faucet: 100 test tokens and 1 ether of gas
  await card.getByTestId('wallet-faucet').click()
  await expect(card.getByTestId('wallet-done')).toContainText('Received 100 tCLAY')
  await expect(card.getByTestId('wallet-tokens')).toHaveAttribute('data-value', String(100n * TOKEN))
  expect(await value(page, 'wallet-gas')).toBeGreaterThan(0n)
  await expect(card.getByTestId('wallet-tokens')).toHaveText('100 tCLAY')
  await expect(card.getByTestId('wallet-error')).toHaveCount(0)

  // a second grant for the same address is refused, in words
  await card.getByTestId('wallet-faucet').click()
  await expect(card.getByTestId('wallet-error')).toContainText('faucet is rate-limited')

  // deposit 10: approve, then deposit, each shown while it is pending
  const gasBefore = await value(page, 'wallet-gas')
  const seen = page.evaluate(async () => await new Promise<string[]>(resolve => {
    const actions: string[] = []
    const card = document.querySelector('[data-testid="wallet-card"]')!
    const observer = new MutationObserver(() => {
      const busy = card.getAttribute('data-busy') ?? ''
      if (busy !== '' && actions.at(-1) !== busy) actions.push(busy)
      if (busy === '' && actions.length > 0) { observer.disconnect(); resolve(actions) }
    })
    observer.observe(card, { attributes: true, attributeFilter: ['data-busy'] })
  }))
  await card.getByTestId('wallet-deposit-amount').fill('10')
  await card.getByTestId('wallet-deposit-submit').click()
  expect(await seen).toEqual(['approving', 'depositing'])
  await expect(card.getByTestId('wallet-done')).toHaveText('Deposited 10 tCLAY')
  await expect(card.getByTestId('wallet-deposit')).toHaveAttribute('data-value', String(10n * TOKEN))
  await expect(card.getByTestId('wallet-deposit')).toHaveText('10 tCLAY')
  await expect(card.getByTestId('wallet-tokens')).toHaveAttribute('data-value', String(90n * TOKEN))
  await expect(card.getByTestId('wallet-deposit-state')).toHaveAttribute('data-state', 'locked')
  // two transactions paid their gas from the tab's own address
  expect(await value(page, 'wallet-gas')).toBeLessThan(gasBefore)

  // unlock: the deposit is unlocking for 7 days, and Withdraw stays disabled
  await card.getByTestId('wallet-unlock').click()
  await expect(card.getByTestId('wallet-deposit-state')).toHaveAttribute('data-state', 'unlocking')
  await expect(card.getByTestId('wallet-deposit-state')).toContainText('Unlocking until')
  const unlockAt = Number(await card.getByTestId('wallet-deposit').getAttribute('data-unlock-at'))
  expect(unlockAt * 1000 - Date.now()).toBeGreaterThan(6.9 * 86400_000)
  await expect(card.getByTestId('wallet-withdraw')).toBeDisabled()
  await expect(card.getByTestId('wallet-unlock')).toBeDisabled()
  await expect(card.getByTestId('wallet-deposit')).toHaveAttribute('data-value', String(10n * TOKEN))

  // the chain agrees, read apart from the page (the relay's proxy, as anyone would)
  expect(await tokenBalance(chainRelay.httpUrl, address!)).toBe(90n * TOKEN)

  // the key is nowhere in the page or its debug API: only the address is
  const html = await page.evaluate(() => document.documentElement.outerHTML)
  expect(html).not.toMatch(/0x[0-9a-fA-F]{64}/)
  expect(pageErrors.get(page)).toEqual([])
})

test('on a 390 px phone in dark mode: the card fits, with no serious axe finding', async () => {
  const PHONE = { width: 390, height: 844 }
  const page = await tab(chainRelay, { viewport: PHONE, colorScheme: 'dark' })
  const card = page.getByTestId('wallet-card')
  await expect(card.getByTestId('wallet-deposit-state')).toBeVisible()
  await card.getByTestId('wallet-deposit-amount').fill('abc')
  await card.getByTestId('wallet-deposit-submit').click()
  await expect(card.getByTestId('wallet-error')).toHaveText('Enter an amount such as 10 or 2.5')
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
  const overflowing = await page.evaluate((width) => [...document.querySelectorAll('[data-testid="wallet-card"] *')]
    .filter(el => el.getBoundingClientRect().right > width + 0.5)
    .map(el => `${el.tagName.toLowerCase()}.${el.className}`), PHONE.width)
  expect(overflowing).toEqual([])
  const { violations } = await new AxeBuilder({ page }).include('[data-testid="wallet-card"]').analyze()
  expect(violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)).toEqual([])
})

test('a relay without a chain: no wallet card, and GET /chain was asked once and nothing after', async () => {
  plainRelay = await RelayProcess.start()
  const context = await browser.newContext()
  contexts.push(context)
  const chainCalls: string[] = []
  context.on('request', req => { if (new URL(req.url()).pathname.startsWith('/chain')) chainCalls.push(`${req.method()} ${new URL(req.url()).pathname}`) })
  const page = await openTab(context, plainRelay.httpUrl)
  await expect(page.getByTestId('compute-card')).toBeVisible()
  await expect.poll(() => chainCalls).toEqual(['GET /chain'])
  await expect(page.getByTestId('wallet-card')).toHaveCount(0)
  expect(pageErrors.get(page)).toEqual([])
})
