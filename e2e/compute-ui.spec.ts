import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { PNG } from 'pngjs'
import { expect, test } from '@playwright/test'
import { referenceMandelbrot, waitProvider } from './fixtures/compute.ts'
import { openTab, pageErrors, peerIdOf } from './fixtures/tab.ts'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import type { Page } from '@playwright/test'

// The task card as a visitor meets it: waiting and cancelling, several tasks at once, history and
// pictures through a reload, and the form's messages. Every tab also lends its cores, but never to its own tasks.
const env = useRelayAndBrowser()
const contexts: Array<{ close: () => Promise<void> }> = []
test.afterEach(async () => { await Promise.all(contexts.splice(0).map(async c => { await c.close() })) })

async function tab (): Promise<Page> {
  const context = await env.browser.newContext()
  contexts.push(context)
  const page = await openTab(context, env.relay.httpUrl)
  await waitProvider(page)
  return page
}

/** Console errors too: the old form threw "width must be a u32, got null" there and nowhere else. */
function consoleErrors (page: Page): string[] {
  const errors: string[] = []
  page.on('console', msg => { if (msg.type() === 'error') errors.push(msg.text()) })
  return errors
}

async function submitMandelbrot (page: Page, size: number, tile: number): Promise<void> {
  await page.getByTestId('task-kind').selectOption('mandelbrot')
  await page.getByTestId('task-size').fill(String(size))
  await page.getByTestId('task-tile').fill(String(tile))
  await page.getByTestId('task-submit').click()
}

async function submitPrimes (page: Page, below: number): Promise<void> {
  await page.getByTestId('task-kind').selectOption('primes')
  await page.getByTestId('task-primes-to').fill(String(below))
  await page.getByTestId('task-submit').click()
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

test('a task with no provider says it waits; Cancel closes it, and a provider that joins later never gets it', async () => {
  test.setTimeout(180_000)
  const requestor = await tab()
  await submitMandelbrot(requestor, 128, 64)
  const task = requestor.getByTestId('task').first()
  await expect(task).toHaveAttribute('data-state', 'waiting')
  await expect(task.getByTestId('task-status')).toHaveText('Waiting for providers: none has offered yet')
  await expect(task.getByTestId('task-meta')).toHaveText('0 subtasks running on 0 providers')
  // the tab is not stuck: Submit stays free while the task waits
  await expect(requestor.getByTestId('task-submit')).toBeEnabled()
  const cancelledId = await task.getAttribute('data-task-id')
  expect(cancelledId).toMatch(/^[0-9a-f-]{36}$/)

  await task.getByTestId('task-cancel').click()
  await expect(task).toHaveAttribute('data-state', 'cancelled')
  await expect(task.getByTestId('task-status')).toHaveText('Cancelled at 0 / 4 subtasks')
  await expect(task.getByTestId('task-cancel')).toHaveCount(0)

  // a provider joins; a task submitted now reaches it (so it hears this requestor's tasks), the cancelled one never does
  const provider = await tab()
  await submitPrimes(requestor, 100_000)
  const next = requestor.getByTestId('task').first()
  await expect(next).toHaveAttribute('data-state', 'done', { timeout: 90_000 })
  await expect(next.getByTestId('task-answer')).toHaveText('9,592 primes; the largest is 99,991')
  // (the provider's job list redraws every 250 ms, so it can trail the requestor's 'done')
  const doneId = await next.getAttribute('data-task-id')
  await expect.poll(async () => await provider.evaluate((id) => window.golemClayMarket!.jobs().filter(j => j.task === id).length, doneId)).toBeGreaterThan(0)
  // an open task's header goes out again every 3 s: two rounds more with the provider in the mesh, and
  // still no work of the cancelled task (a negative, so a window, not an event)
  const until = Date.now() + 6_500
  while (Date.now() < until) {
    expect(await provider.evaluate((id) => window.golemClayMarket!.jobs().filter(j => j.task === id), cancelledId)).toEqual([])
    await provider.waitForTimeout(500)
  }
  await expect(requestor.locator(`[data-testid="task"][data-task-id="${cancelledId}"]`)).toHaveAttribute('data-state', 'cancelled')
  for (const page of [requestor, provider]) expect(pageErrors.get(page) ?? []).toEqual([])
})

test('several tasks run at once; a reload keeps the history, the answer and the picture, and the PNG downloads at full size', async () => {
  test.setTimeout(240_000)
  const requestor = await tab()
  const provider = await tab()
  const before = await peerIdOf(requestor)

  // four tasks without waiting for any: more than the three the card used to show
  await submitMandelbrot(requestor, 256, 64)
  await submitPrimes(requestor, 1_000_000)
  await submitPrimes(requestor, 1_000)
  await submitPrimes(requestor, 2_000)
  const cards = requestor.getByTestId('task')
  await expect(cards).toHaveCount(4)
  for (let i = 0; i < 4; i++) await expect(cards.nth(i)).toHaveAttribute('data-state', 'done', { timeout: 180_000 })
  // the provider's card shows the feed its offers came from
  const feed = provider.getByTestId('compute-feed')
  await expect(feed).toHaveAttribute('data-subscribed', 'true')
  await expect(feed).toContainText(/Task feed: subscribed · [1-9]\d* peers? on it · last task header \d+ s ago/, { timeout: 10_000 })
  const image = requestor.locator('[data-testid="task"]', { hasText: 'Mandelbrot 256×256' })
  await expect(image.getByTestId('tile-legend')).toContainText(/\d+ tiles?/)
  const legend = await image.getByTestId('tile-legend').innerText()
  expect(legend).not.toMatch(/\b1 tiles\b/)

  await requestor.reload()
  expect(await peerIdOf(requestor)).toBe(before)
  await expect(cards).toHaveCount(4)
  for (let i = 0; i < 4; i++) await expect(cards.nth(i)).toHaveAttribute('data-state', 'done')
  await expect(requestor.locator('[data-testid="task-answer"]', { hasText: '78,498 primes; the largest is 999,983' })).toBeVisible()
  await expect(requestor.locator('[data-testid="task-answer"]', { hasText: '168 primes; the largest is 997' })).toBeVisible()

  // the picture is drawn again from the kept PNG: without the tile outlines it is the reference image
  const reference = await referenceMandelbrot({ width: 256, height: 256, tile: 64, maxIter: 256 })
  await image.getByLabel('Show who computed each tile').uncheck()
  await expect.poll(async () => await image.getByTestId('task-canvas').evaluate(async (canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
    return [...new Uint8Array(await crypto.subtle.digest('SHA-256', data))].map(b => b.toString(16).padStart(2, '0')).join('')
  })).toBe(sha(reference))

  const [download] = await Promise.all([requestor.waitForEvent('download'), image.getByTestId('task-download').click()])
  expect(download.suggestedFilename()).toBe('mandelbrot-256x256.png')
  const png = PNG.sync.read(readFileSync(await download.path()))
  expect([png.width, png.height]).toEqual([256, 256])
  expect(sha(png.data)).toBe(sha(reference))
  expect(pageErrors.get(requestor) ?? []).toEqual([])
})

test('the form says what is wrong next to each field, and the lending state reads in words', async () => {
  test.setTimeout(120_000)
  const page = await tab()
  const errors = consoleErrors(page)
  const submit = page.getByTestId('task-submit')

  await page.getByTestId('task-size').fill('')
  await submit.click()
  await expect(page.getByTestId('task-size-error')).toHaveText('Size is empty: enter a whole number from 16 to 4,096 px')
  await expect(page.getByTestId('task-size')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByTestId('task-size')).toBeFocused()
  await page.getByTestId('task-size').fill('99999')
  await page.getByTestId('task-tile').fill('3')
  await page.getByTestId('task-k').fill('0')
  await submit.click()
  await expect(page.getByTestId('task-size-error')).toHaveText('Size must be a whole number from 16 to 4,096 px, not 99,999')
  await expect(page.getByTestId('task-tile-error')).toHaveText('Tile must be a whole number from 8 to 512 px, not 3')
  await expect(page.getByTestId('task-k-error')).toHaveText('Redundancy k must be a whole number from 1 to 9, not 0')
  await page.getByTestId('task-size').fill('4096')
  await page.getByTestId('task-tile').fill('8')
  await page.getByTestId('task-k').fill('1')
  await submit.click()
  await expect(page.getByTestId('task-tile-error')).toHaveText(/cuts the image into 262,144 subtasks; at most 10,000: use larger tiles/)
  await page.getByTestId('task-kind').selectOption('primes')
  await page.getByTestId('task-primes-to').fill('')
  await submit.click()
  await expect(page.getByTestId('task-primesTo-error')).toHaveText(/^N is empty: enter a whole number from 1 to/)
  // nothing was submitted, and nothing went to the console instead
  await expect(page.getByTestId('task')).toHaveCount(0)
  await page.getByTestId('task-primes-to').fill('1000')
  await expect(page.getByTestId('task-primesTo-error')).toHaveCount(0)

  const lending = page.getByTestId('compute-lending')
  await expect(lending).toHaveText('Lending: on')
  await page.getByTestId('compute-pause').click()
  await expect(lending).toHaveText('Lending: paused')
  await expect(page.getByTestId('compute-pause')).toHaveText('Resume lending')
  await page.getByTestId('compute-pause').click()
  await expect(lending).toHaveText('Lending: on')
  await page.getByTestId('compute-enabled').uncheck()
  await expect(lending).toHaveText('Lending: off')
  await page.getByTestId('compute-enabled').check()
  expect(errors).toEqual([])
  expect(pageErrors.get(page) ?? []).toEqual([])
})
