import AxeBuilder from '@axe-core/playwright'
import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { waitProvider } from './fixtures/compute.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { tcpAddrOf } from './fixtures/rogue.ts'
import { openTab, pageErrors, waitReserved } from './fixtures/tab.ts'
import { chainRpc, tokenBalance as readTokenBalance } from './fixtures/chain-reads.ts'
import { createNodeTaskRunner } from '../relay/compute/node-task-runner.ts'
import { createNodePeer } from '../relay/node-peer/create-node-peer.ts'
import { runnerWith } from '../shared/testing/index.ts'
import { until } from '../relay/testing/wait.ts'
import type { NodePeer } from '../relay/node-peer/create-node-peer.ts'
import type { Browser, BrowserContext, Page } from '@playwright/test'

// A paid task between tabs, on a relay that runs its own chain (`--chain
// embedded`, as `npm start` does; it needs dist/contracts from `npm run
// build`): a requestor tab takes test tokens, is told in words that its
// deposit is too small, deposits, and runs the Mandelbrot demo at 0.001 a
// tile; two provider tabs and a Node provider (the CLI's peer) are paid
// with cheques (the tabs' wallet cards show them uncashed), a tab and the
// Node provider cash theirs through the relay and their balances on the
// chain rise by exactly what their accepted tiles earned, and the other
// tab, reloaded, still holds its cheques (IndexedDB).
const TOKEN = 10n ** 18n
/** 0.001 of an 18-decimal token: the form's default price. */
const PRICE = TOKEN / 1000n
/**
 * 2048 × 2048 px in 512 px tiles, k = 1. The Node provider computes nothing
 * until each tab has had a tile (nodeMayRun), so whichever offer comes
 * first, all three earn; a tile takes long enough that the first tab to
 * offer can't take all the others' share before the second tab's offer
 * arrives (with tiles of a few ms it could).
 */
const TILES = 16
/** What the task may cost: a note for each assignment it may make (16 tiles + a quarter of them reassigned). */
const BUDGET = 20n * PRICE

let relay: RelayProcess
let browser: Browser
let nodeProvider: NodePeer
/** Lets the Node provider's runner compute (it holds its tiles until then). */
let releaseNode = (): void => {}
const nodeMayRun = new Promise<void>(resolve => { releaseNode = resolve })
const contexts: BrowserContext[] = []

test.beforeAll(async () => {
  relay = await RelayProcess.start({ extraArgs: ['--chain', 'embedded'] })
  browser = await launchChromium()
  // two cores and a queued slot: it gets its share of the tiles as soon as it offers, and holds them until released
  const runner = runnerWith(createNodeTaskRunner({ cores: 2 }), async (run) => { await nodeMayRun; return await run() })
  nodeProvider = await createNodePeer({ relays: [tcpAddrOf((await relay.status()).multiaddrs)], maxRelays: 1, provider: { cores: 2, runner, payments: { cashThreshold: 10n ** 30n } } })
  await nodeProvider.start()
  await until(() => nodeProvider.services.relays.status.some(s => s.state === 'reserved') && nodeProvider.services.market.feed.subscribed, 'the Node provider to join', 60_000)
})
test.afterAll(async () => {
  releaseNode()
  await nodeProvider?.stop()
  await Promise.all(contexts.splice(0).map(async c => { await c.close() }))
  await browser?.close()
  await relay?.stop()
})

/** Each tab in a context of its own: its own IndexedDB, so its own identity and payment account. */
async function tab (): Promise<Page> {
  const context = await browser.newContext()
  contexts.push(context)
  const page = await openTab(context, relay.httpUrl)
  await waitProvider(page)
  return page
}

async function value (page: Page, testId: string): Promise<bigint> {
  const raw = await page.getByTestId(testId).getAttribute('data-value') ?? ''
  return raw === '' ? -1n : BigInt(raw)
}

/** Subtasks of this tab's the requestor accepted, as its compute card counts them. */
async function accepted (page: Page): Promise<number> {
  const text = await page.getByTestId('compute-stats').textContent() ?? ''
  return Number(/(\d+) accepted/.exec(text)?.[1] ?? NaN)
}

/** The chain read apart from the page, as anyone would. */
const rpc = async (method: string, params: unknown[]): Promise<any> => await chainRpc(relay.httpUrl, method, params)
const tokenBalance = async (address: string): Promise<bigint> => await readTokenBalance(relay.httpUrl, address)

test('a paid Mandelbrot task: deposit, two providers earn cheques, one cashes them on chain, the other keeps them across a reload', async () => {
  test.setTimeout(300_000)
  const [requestor, providerA, providerB] = [await tab(), await tab(), await tab()] as [Page, Page, Page]
  // the requestor lends nothing: only the two providers work
  await requestor.getByTestId('compute-enabled').uncheck()

  // test tokens for the requestor, from the wallet card's faucet
  const wallet = requestor.getByTestId('wallet-card')
  await wallet.getByTestId('wallet-faucet').click()
  await expect(wallet.getByTestId('wallet-tokens')).toHaveAttribute('data-value', String(100n * TOKEN))

  // the form asks a price in tokens and says what the task may cost and lock
  await requestor.getByTestId('task-size').fill('2048')
  await requestor.getByTestId('task-tile').fill('512')
  await requestor.getByTestId('task-k').fill('1')
  await expect(requestor.getByTestId('task-price')).toHaveValue('0.001')
  const cost = requestor.getByTestId('task-cost')
  await expect(cost).toHaveAttribute('data-cost', String(BUDGET))
  await expect(cost).toHaveAttribute('data-locks', String(2n * BUDGET))
  await expect(cost).toContainText('Costs up to 0.02 tCLAY')
  await expect(cost).toContainText('Locks 0.04 tCLAY of your deposit')
  await expect(requestor.getByTestId('task-deposit-short')).toContainText('0.04 tCLAY short')

  // no deposit yet: the submit is refused in words, with what to do, and no task is published
  await requestor.getByTestId('task-submit').click()
  await expect(requestor.getByTestId('task-submit-error')).toContainText('Deposit at least 0.04 tCLAY more in the Wallet card')
  await expect(requestor.getByTestId('task')).toHaveCount(0)

  await wallet.getByTestId('wallet-deposit-amount').fill('1')
  await wallet.getByTestId('wallet-deposit-submit').click()
  await expect(wallet.getByTestId('wallet-deposit')).toHaveAttribute('data-value', String(TOKEN))
  await expect(requestor.getByTestId('task-deposit-short')).toHaveCount(0)

  // the deposit counts at once: the relay reads deposits at the newest block
  await requestor.getByTestId('task-submit').click()
  await expect(requestor.getByTestId('task-submit-error')).toHaveCount(0)
  // each tab gets a tile (the Node provider holds its own meanwhile), then the Node provider computes too
  await expect.poll(async () => `A ${await accepted(providerA)}, B ${await accepted(providerB)}`, { timeout: 60_000 }).toMatch(/^A [1-9]\d*, B [1-9]\d*$/)
  releaseNode()
  await expect(requestor.getByTestId('task').first()).toHaveAttribute('data-state', 'done', { timeout: 180_000 })
  await expect(requestor.getByTestId('task-canvas')).toHaveAttribute('data-tiles', String(TILES))

  // every accepted tile was paid for, at its price, to the provider that computed it, and all three earned.
  // The task is done once the requestor decided every tile: the last verdicts and their cheques may still be
  // on their way, so this waits until the providers' accepted tiles add up to the task's, each paid for
  const earnings = nodeProvider.services.market.earnings
  if (earnings == null) throw new Error('the Node provider has no earnings')
  const nodeAccepted = (): number => nodeProvider.services.market.provider?.accepted ?? 0
  const earned = async (page: Page): Promise<{ earned: bigint, uncashed: bigint, owed: bigint }> =>
    ({ earned: await value(page, 'earnings-earned'), uncashed: await value(page, 'earnings-uncashed'), owed: BigInt(await accepted(page)) * PRICE })
  /** 'paid', or what is off, in words. */
  const paid = async (): Promise<string> => {
    const node = await earnings.summary()
    const shown = [
      { who: 'tab A', ...await earned(providerA) },
      { who: 'tab B', ...await earned(providerB) },
      { who: 'the Node provider', earned: node.earned, uncashed: node.uncashed, owed: BigInt(nodeAccepted()) * PRICE }
    ]
    const owed = shown.reduce((sum, e) => sum + e.owed, 0n)
    const ok = owed === BigInt(TILES) * PRICE && shown.every(e => e.earned > 0n && e.earned === e.owed && e.uncashed === e.earned)
    return ok ? 'paid' : shown.map(e => `${e.who}: earned ${e.earned}, uncashed ${e.uncashed}, owed ${e.owed}`).join('; ')
  }
  await expect.poll(paid, { timeout: 30_000 }).toBe('paid')
  const nodeBefore = await tokenBalance(nodeProvider.services.payments.address)
  const nodeCashed = await earnings.cash()
  expect(nodeCashed).toHaveLength(1)
  expect(await tokenBalance(nodeProvider.services.payments.address) - nodeBefore).toBe(BigInt(nodeAccepted()) * PRICE)
  const requestorAddress = await requestor.evaluate(() => window.golemClay!.paymentAddress()) as string
  await expect(providerA.getByTestId('earnings-payer')).toHaveAttribute('data-payer', requestorAddress)

  // provider A cashes now: the relay sends the cashout, A's tokens on chain rise by exactly what it earned
  const addressA = await providerA.evaluate(() => window.golemClay!.paymentAddress()) as string
  const owedA = (await earned(providerA)).earned
  const before = await tokenBalance(addressA)
  await providerA.getByTestId('earnings-cash').click()
  await expect(providerA.getByTestId('earnings-done')).toContainText('Cashed 0.0', { timeout: 60_000 })
  await expect(providerA.getByTestId('earnings-error')).toHaveCount(0)
  expect(await tokenBalance(addressA) - before).toBe(owedA)
  expect(owedA).toBe(BigInt(await accepted(providerA)) * PRICE)
  await expect(providerA.getByTestId('earnings-uncashed')).toHaveAttribute('data-value', '0')
  await expect(providerA.getByTestId('earnings-cashed')).toHaveAttribute('data-value', String(owedA))
  await expect(providerA.getByTestId('wallet-tokens')).toHaveAttribute('data-value', String(before + owedA))
  // the cashout's transaction, shortened on the card, whole on hover; the chain mined it
  const cashout = providerA.getByTestId('earnings-cashout')
  await expect(cashout).toHaveCount(1)
  await expect(cashout).toHaveAttribute('data-amount', String(owedA))
  const tx = await cashout.getAttribute('data-tx') as string
  expect(tx).toMatch(/^0x[0-9a-f]{64}$/)
  await expect(cashout.getByRole('button')).toHaveAttribute('title', new RegExp(tx))
  await expect(cashout.getByRole('button')).toContainText(`${tx.slice(0, 10)}…${tx.slice(-6)}`)
  expect((await rpc('eth_getTransactionReceipt', [tx]) as { status: string }).status).toBe('0x1')
  // the filled-in earnings fit a 390 px phone, with no serious axe finding
  await providerA.setViewportSize({ width: 390, height: 844 })
  const overflowing = await providerA.evaluate(() => [...document.querySelectorAll('[data-testid="earnings"] *')]
    .filter(el => el.getBoundingClientRect().right > 390.5).map(el => `${el.tagName.toLowerCase()}.${el.className}`))
  expect(overflowing).toEqual([])
  const { violations } = await new AxeBuilder({ page: providerA }).include('[data-testid="earnings"]').analyze()
  expect(violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id)).toEqual([])

  // provider B, reloaded, is the same account and still holds its cheques
  const addressB = await providerB.evaluate(() => window.golemClay!.paymentAddress())
  const uncashedB = await value(providerB, 'earnings-uncashed')
  await providerB.reload()
  await waitReserved(providerB)
  expect(await providerB.evaluate(() => window.golemClay!.paymentAddress())).toBe(addressB)
  await expect(providerB.getByTestId('earnings-uncashed')).toHaveAttribute('data-value', String(uncashedB), { timeout: 30_000 })
  await expect(providerB.getByTestId('earnings-payer')).toHaveAttribute('data-payer', requestorAddress)
  await expect(providerB.getByTestId('earnings-cash')).toBeEnabled()

  for (const page of [requestor, providerA, providerB]) expect(pageErrors.get(page) ?? []).toEqual([])
})
