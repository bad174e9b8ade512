import { PNG } from 'pngjs'
import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { referenceMandelbrot, waitProvider } from './fixtures/compute.ts'
import { PeerProcess } from './fixtures/peer-process.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { openTab, pageErrors, peerIdOf } from './fixtures/tab.ts'
import type { Browser, Page } from '@playwright/test'

let relay: RelayProcess
const browsers: Browser[] = []
const peers: PeerProcess[] = []

test.beforeAll(async () => { relay = await RelayProcess.start() })
test.afterEach(async () => {
  await Promise.all(peers.splice(0).map(async p => { await p.stop() }))
  await Promise.all(browsers.splice(0).map(async b => { await b.close() }))
})
test.afterAll(async () => { await relay.stop() })

// the last `faulty` tabs open the test build's faults page: the page as it ships, with a provider that can be told to lie
async function providers (count: number, faulty = 0): Promise<Page[]> {
  const pages: Page[] = []
  for (let i = 0; i < count; i++) {
    // two browser instances, tabs split between them
    if (browsers.length < 2) browsers.push(await launchChromium())
    const context = await (browsers[i % 2] as Browser).newContext()
    const page = await openTab(context, i >= count - faulty ? `${relay.httpUrl}test-pages/faults.html` : relay.httpUrl)
    await waitProvider(page)
    pages.push(page)
  }
  return pages
}

test('four provider tabs render the Mandelbrot image for a requestor tab; a cheating tab is outvoted and penalised', async () => {
  test.setTimeout(240_000)
  const workers = await providers(4, 1)
  const cheat = workers[3] as Page
  const cheatId = await peerIdOf(cheat)
  await cheat.evaluate(() => { window.golemClayFaults!.returnWrongResults(true) })
  const requestor = await openTab(await (browsers[0] as Browser).newContext(), relay.httpUrl)
  await waitProvider(requestor)
  // the honest tabs wait until the cheat holds work: three fast tabs could otherwise finish the image before its offer lands
  const honestTabs = workers.slice(0, 3)
  for (const page of honestTabs) await page.getByTestId('compute-enabled').uncheck()

  // through the form, as a visitor would: 256 × 256 in 64 px tiles, each tile to 3 providers
  await requestor.getByTestId('task-size').fill('256')
  await requestor.getByTestId('task-tile').fill('64')
  await requestor.getByTestId('task-k').fill('3')
  await requestor.getByTestId('task-submit').click()
  await expect.poll(async () => await cheat.evaluate(() => window.golemClayMarket!.jobs().length), { timeout: 60_000 }).toBeGreaterThan(0)
  for (const page of honestTabs) await page.getByTestId('compute-enabled').check()
  const task = requestor.getByTestId('task').first()
  await expect(task).toHaveAttribute('data-state', 'done', { timeout: 180_000 })
  await expect(requestor.getByTestId('task-canvas')).toHaveAttribute('data-tiles', '16')

  // the picture equals the one computed locally from the same module
  const view = (await requestor.evaluate(() => window.golemClayMarket!.tasks()))[0]!
  const pixels = Buffer.from(await requestor.evaluate((id) => window.golemClayMarket!.pixels(id) ?? '', view.id), 'base64')
  expect(pixels.equals(await referenceMandelbrot({ width: 256, height: 256, tile: 64, maxIter: 256 }))).toBe(true)
  // computed by the honest tabs only: every tile needs two matching results from distinct tabs (quorum 2 of k = 3),
  // so at least 32 finished jobs over at least two honest tabs (how the tiles split between them depends on timing)
  const honest = await Promise.all(honestTabs.map(peerIdOf))
  for (const t of view.tiles) expect(honest).toContain(t.provider)
  // (a provider marks a job done when the requestor's answer lands, which can trail the requestor's own 'done')
  const doneSubtasks = async (): Promise<number[][]> => await Promise.all(honestTabs.map(async page => await page.evaluate((task) =>
    window.golemClayMarket!.jobs().filter(j => j.task === task && j.state === 'done').map(j => j.subtask), view.id)))
  await expect.poll(async () => (await doneSubtasks()).flat().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(32)
  const done = await doneSubtasks()
  for (const subtasks of done) expect(new Set(subtasks).size).toBe(subtasks.length)
  expect(done.filter(s => s.length > 0).length).toBeGreaterThanOrEqual(2)

  // the cheat was outvoted, penalised, told so, and shown as such
  expect(view.rejected.map(r => r.provider)).toContain(cheatId)
  expect(view.rejected.every(r => r.provider === cheatId)).toBe(true)
  expect(await requestor.evaluate(() => window.golemClayMarket!.penalised())).toEqual([cheatId])
  await expect(requestor.getByTestId('task-rejected').first()).toBeVisible()
  await expect(cheat.getByTestId('compute-stats')).toContainText('rejected')
  for (const page of [...workers, requestor]) expect(pageErrors.get(page) ?? []).toEqual([])
})

test('a tab closed mid-subtask has its work reassigned; the Node CLI requestor still gets the whole image', async () => {
  test.setTimeout(240_000)
  const workers = await providers(3)
  const ids = await Promise.all(workers.map(peerIdOf))
  const out = test.info().outputPath('mandelbrot.png')
  // deep zoom and many iterations: subtasks long enough to close a tab in the middle of one
  const cli = PeerProcess.start(relay.httpUrl, ['--exec', `task run mandelbrot --size 192x192 --tile 32 --iter 20000 --out ${out}`])
  peers.push(cli)

  // close the first tab seen computing
  let victim = -1
  await expect.poll(async () => {
    for (let i = 0; i < workers.length; i++) {
      const jobs = await (workers[i] as Page).evaluate(() => window.golemClayMarket!.jobs())
      if (jobs.some(j => j.state === 'running')) { victim = i; return true }
    }
    return false
  }, { timeout: 90_000, intervals: [100] }).toBe(true)
  await (workers[victim] as Page).close()

  const reassigned = await cli.waitForEvent(e => e.event === 'task-reassigned' && e.provider === ids[victim], 90_000)
  expect(reassigned.subtask).toBeGreaterThanOrEqual(0)
  const done = await cli.waitForEvent(e => e.event === 'task-done', 180_000)
  expect(done.providers.length).toBeGreaterThanOrEqual(1)
  const png = PNG.sync.read((await import('node:fs')).readFileSync(out))
  expect(Buffer.from(png.data).equals(await referenceMandelbrot({ width: 192, height: 192, tile: 32, maxIter: 20000 }))).toBe(true)
})
