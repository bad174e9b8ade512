import { rm } from 'node:fs/promises'
import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { downloadViaUi, randomFile, shareViaUi, sha256Hex, uploadViaUi, waitStorageReady } from './fixtures/storage.ts'
import { openTab, pageErrors, peerIdOf } from './fixtures/tab.ts'
import type { Browser, BrowserContext, Page } from '@playwright/test'

// tabs get a fresh quota each (a new peer ID per tab): 80 MB fits the 50 MB test
const PEER_QUOTA = 80 * 1024 * 1024

let relay: RelayProcess
let browser: Browser
const files: string[] = []
const contexts: BrowserContext[] = []

test.beforeAll(async () => {
  relay = await RelayProcess.start({ extraArgs: ['--difficulty', '16', '--storage-peer-quota', String(PEER_QUOTA)] })
  browser = await launchChromium()
})
test.afterEach(async () => {
  await Promise.all(contexts.splice(0).map(async c => { await c.close() }))
})
test.afterAll(async () => {
  await browser.close()
  await relay.stop()
  await Promise.all(files.map(async f => { await rm(f, { force: true }) }))
})

// `faulty`: the test build's faults page, whose transfers can be told to meet a flaky network
async function storageTab (faulty = false): Promise<Page> {
  const context = await browser.newContext()
  contexts.push(context)
  const page = await openTab(context, faulty ? `${relay.httpUrl}test-pages/faults.html` : relay.httpUrl)
  await waitStorageReady(page)
  return page
}

async function storageStatus (): Promise<any> {
  return (await relay.status() as any).storage
}

test('a small file goes tab → relay → another tab, and only with a valid token', async () => {
  const [a, b] = [await storageTab(), await storageTab()]
  const idB = await peerIdOf(b)
  const f = await randomFile('small.bin', 300_000)
  files.push(f.path)

  const up = await uploadViaUi(a, f.path)
  expect(up.state).toBe('done')
  expect(up.address).toContain(`sha256=${f.sha256}`)
  await expect(a.getByTestId('upload-address').first()).toHaveText(up.address!)

  // the uploader reads its own object
  const own = await downloadViaUi(a, up.address!)
  expect(own.state).toBe('done')
  expect(sha256Hex(own.bytes!)).toBe(f.sha256)

  // another tab without a token is refused ...
  const bare = await downloadViaUi(b, up.address!)
  expect(bare.state).toBe('failed')
  expect(bare.error?.name).toBe('AccessDeniedError')
  await expect(b.getByTestId('download-error').first()).toHaveAttribute('data-error', 'AccessDeniedError')

  // ... so is one holding a token issued to someone else ...
  const forA = await shareViaUi(a, await peerIdOf(a))
  const wrongPeer = await downloadViaUi(b, forA)
  expect(wrongPeer.error?.name).toBe('InvalidTokenError')
  expect(wrongPeer.error?.message).toContain('another peer')

  // ... and a token for another object
  const other = await randomFile('other.bin', 1000)
  files.push(other.path)
  const up2 = await uploadViaUi(a, other.path)
  const tokenForOther = new URL(`x:?${(await shareViaUi(a, idB)).split('?')[1]}`).searchParams.get('token')!
  const stolen = `${up.address!}&token=${encodeURIComponent(tokenForOther)}`
  expect(up2.state).toBe('done')
  const wrongObject = await downloadViaUi(b, stolen)
  expect(wrongObject.error?.name).toBe('InvalidTokenError')
  expect(wrongObject.error?.message).toContain('another object')

  // with its own token the other tab gets the exact bytes
  await a.getByTestId('upload').nth(1).getByTestId('share-peer').fill(idB)
  await a.getByTestId('upload').nth(1).getByTestId('share').click()
  const forB = (await a.getByTestId('upload').nth(1).locator(`[data-testid="share-address"][data-peer="${idB}"]`).textContent())!
  const got = await downloadViaUi(b, forB)
  expect(got.state).toBe('done')
  expect(sha256Hex(got.bytes!)).toBe(f.sha256)

  const s = await storageStatus()
  expect(s.refusals['access-denied']).toBeGreaterThanOrEqual(1)
  expect(s.refusals['bad-token']).toBeGreaterThanOrEqual(2)
  expect(pageErrors.get(a)).toEqual([])
  expect(pageErrors.get(b)).toEqual([])
})

test('50 MB tab → relay → tab with hashes checked; dropped connections resume where they stopped', async () => {
  test.setTimeout(180_000)
  const [a, b] = [await storageTab(true), await storageTab(true)]
  const size = 50 * 1024 * 1024
  const f = await randomFile('big.bin', size)
  files.push(f.path)
  const before = await storageStatus()

  // the connection to the relay drops 20 MB in; the upload continues from what the relay holds
  await a.evaluate(() => { window.golemClayFaults!.injectFaults({ dropAt: 20 * 1024 * 1024 }) })
  const up = await uploadViaUi(a, f.path, 150_000)
  expect(up.state, JSON.stringify(up.error)).toBe('done')
  expect(up.progress?.attempt).toBeGreaterThan(1)
  // the second attempt picked up where the relay's pending upload ended
  expect(up.history!.find(h => h.phase === 'uploading' && h.attempt > 1)?.bytes).toBeGreaterThan(4 * 1024 * 1024)
  const afterUp = await storageStatus()
  // resumed, not restarted: far fewer than 20 MB were sent twice
  expect(afterUp.bytesIn - before.bytesIn).toBeLessThan(size + 16 * 1024 * 1024)
  expect(afterUp.bytesIn - before.bytesIn).toBeGreaterThanOrEqual(size)

  const shared = await shareViaUi(a, await peerIdOf(b))
  await b.evaluate(() => { window.golemClayFaults!.injectFaults({ dropAt: 30 * 1024 * 1024 }) })
  const got = await downloadViaUi(b, shared, 150_000)
  expect(got.state, JSON.stringify(got.error)).toBe('done')
  expect(got.progress?.attempt).toBeGreaterThan(1)
  expect(got.bytes!.length).toBe(size)
  expect(sha256Hex(got.bytes!)).toBe(f.sha256)
  // resumed at the last verified byte, not from the start
  const resumedAt = got.history!.find(h => h.phase === 'downloading' && h.attempt > 1)?.bytes
  expect(resumedAt).toBeGreaterThanOrEqual(30 * 1024 * 1024)
})

test('a corrupted chunk is refused and sent again; a wrong content hash stores nothing', async () => {
  const a = await storageTab(true)
  const f = await randomFile('corrupt.bin', 3 * 1024 * 1024)
  files.push(f.path)
  const before = await storageStatus()

  await a.evaluate(() => { window.golemClayFaults!.injectFaults({ corruptAt: 1_500_000 }) })
  const up = await uploadViaUi(a, f.path)
  expect(up.state, JSON.stringify(up.error)).toBe('done')
  const after = await storageStatus()
  expect(after.refusals['corrupt-chunk']).toBe(before.refusals['corrupt-chunk'] + 1)
  const back = await downloadViaUi(a, up.address!)
  expect(sha256Hex(back.bytes!)).toBe(f.sha256)

  await a.evaluate(() => { window.golemClayFaults!.injectFaults({ wrongHash: '0'.repeat(64) }) })
  const bad = await uploadViaUi(a, f.path)
  expect(bad.state).toBe('failed')
  expect(bad.error?.name).toBe('ContentHashMismatchError')
  await expect(a.getByTestId('upload-error').first()).toHaveAttribute('data-error', 'ContentHashMismatchError')
  const end = await storageStatus()
  expect(end.refusals['hash-mismatch']).toBe(before.refusals['hash-mismatch'] + 1)
  expect(end.objects).toBe(after.objects)
  expect(end.pendingUploads).toBe(0)
})

test('an upload past the quota is refused up front and loses nothing', async () => {
  const a = await storageTab()
  const keep = await randomFile('keep.bin', 1024 * 1024)
  files.push(keep.path)
  const up = await uploadViaUi(a, keep.path)
  expect(up.state).toBe('done')
  const before = await storageStatus()

  const tooBig = await a.evaluate(async (size) => await window.golemClayStorage!.uploadGenerated('too-big.bin', size), PEER_QUOTA)
  expect(tooBig.state).toBe('failed')
  expect(tooBig.error?.name).toBe('StorageQuotaExceededError')
  expect(tooBig.error?.message).toMatch(/quota exceeded/i)
  await expect(a.getByTestId('upload-error').first()).toContainText('quota')
  const after = await storageStatus()
  expect(after.refusals.quota).toBe(before.refusals.quota + 1)
  expect(after.bytesIn).toBe(before.bytesIn)

  const back = await downloadViaUi(a, up.address!)
  expect(sha256Hex(back.bytes!)).toBe(keep.sha256)
})
