import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { PeerProcess } from './fixtures/peer-process.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { downloadViaUi, randomFile, resolveInPage, shareViaUi, sha256Hex, uploadViaUi, waitStorageReady } from './fixtures/storage.ts'
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

test('a small file goes tab → relay → another tab, and only with a valid token or a link for it', async () => {
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

  // ... so is one holding a link made for someone else, or that link's token ...
  const forA = await shareViaUi(a, await peerIdOf(a))
  const wrongPeer = await downloadViaUi(b, forA)
  expect(wrongPeer.error?.name).toBe('AccessDeniedError')
  expect(wrongPeer.error?.message).toContain('another peer')
  const tokenOfA = await downloadViaUi(b, (await resolveInPage(a, forA)).address)
  expect(tokenOfA.error?.name).toBe('InvalidTokenError')
  expect(tokenOfA.error?.message).toContain('another peer')

  // ... and a token for another object
  const other = await randomFile('other.bin', 1000)
  files.push(other.path)
  const up2 = await uploadViaUi(a, other.path)
  const tokenForOther = new URL(`x:?${(await resolveInPage(b, await shareViaUi(a, idB))).address.split('?')[1]}`).searchParams.get('token')!
  const stolen = `${up.address!}&token=${encodeURIComponent(tokenForOther)}`
  expect(up2.state).toBe('done')
  const wrongObject = await downloadViaUi(b, stolen)
  expect(wrongObject.error?.name).toBe('InvalidTokenError')
  expect(wrongObject.error?.message).toContain('another object')

  // with a link of its own the other tab gets the exact bytes
  const forB = await shareViaUi(a, idB, { index: 1 })
  const got = await downloadViaUi(b, forB)
  expect(got.state).toBe('done')
  expect(sha256Hex(got.bytes!)).toBe(f.sha256)

  const s = await storageStatus()
  expect(s.refusals['access-denied']).toBeGreaterThanOrEqual(2)
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

test('share with a peer the page lists, or with anyone until a date shown; each share says who and until when', async () => {
  const [a, b, c] = [await storageTab(), await storageTab(), await storageTab()]
  const idB = await peerIdOf(b)
  const f = await randomFile('to-share.bin', 200_000)
  files.push(f.path)
  const up = await uploadViaUi(a, f.path)
  expect(up.state).toBe('done')
  const item = a.getByTestId('upload').first()

  // the private address is labelled as such, apart from sharing
  await expect(item.locator('details.private summary')).toContainText('only you')
  // the peer is picked from the page's list, not pasted; the lifetime's default and choices are in view
  await expect(item.getByTestId('share-with').locator(`option[value="${idB}"]`)).toHaveCount(1, { timeout: 30_000 })
  await expect(item.getByTestId('share-for').locator('option:checked')).toHaveText('1 day')
  expect(await item.getByTestId('share-for').locator('option').allTextContents()).toEqual(['1 hour', '1 day', '7 days', 'as long as the file is kept'])
  await expect(item.getByTestId('share')).toBeDisabled()
  await item.getByTestId('share-with').selectOption(idB)
  await expect(item.getByTestId('share-until')).toContainText('works until')
  const made = Date.now()
  await item.getByTestId('share').click()
  const forB = item.locator(`[data-testid="share-item"][data-grantee="${idB}"]`)
  await expect(forB).toContainText(`Tab ${idB.slice(0, 8)}`)
  await expect(forB.getByTestId('share-expires')).toBeVisible()
  const expiresB = Number(await forB.getAttribute('data-expires'))
  expect(expiresB).toBeGreaterThanOrEqual(made + 86_400_000 - 60_000)
  expect(expiresB).toBeLessThanOrEqual(Date.now() + 86_400_000)
  const link = (await forB.getByTestId('share-link').textContent())!
  expect(link).toMatch(/^golem-clay:share\/[a-z2-7]{26}\?relay=\//)
  expect(link.length).toBeLessThan(200)

  // the other tab downloads by the short link; a third is told the link is not for it
  const got = await downloadViaUi(b, link)
  expect(got.state, JSON.stringify(got.error)).toBe('done')
  expect(sha256Hex(got.bytes!)).toBe(f.sha256)
  const notForC = await downloadViaUi(c, link)
  expect(notForC.error?.name).toBe('AccessDeniedError')
  expect(notForC.error?.message).toMatch(/shared with another peer/)

  // a link anyone may use, for an hour: the date is shown before and after it is made
  const pub = await shareViaUi(a, 'anyone', { for: '1 hour' })
  const forAnyone = item.locator('[data-testid="share-item"][data-grantee="*"]')
  await expect(forAnyone).toContainText('Anyone with the link')
  const expiresPub = Number(await forAnyone.getAttribute('data-expires'))
  expect(Math.abs(expiresPub - (Date.now() + 3_600_000))).toBeLessThan(60_000)
  await expect(forAnyone.getByTestId('share-expires')).toHaveText(await a.evaluate((at) => new Date(at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }), expiresPub))
  const byAnyone = await downloadViaUi(c, pub)
  expect(byAnyone.state, JSON.stringify(byAnyone.error)).toBe('done')
  expect(sha256Hex(byAnyone.bytes!)).toBe(f.sha256)
  expect((await storageStatus()).shares).toBeGreaterThanOrEqual(2)
  for (const p of [a, b, c]) expect(pageErrors.get(p)).toEqual([])
})

test('the upload list, with its addresses and share links, survives a reload', async () => {
  const a = await storageTab()
  const f = await randomFile('kept.bin', 50_000)
  files.push(f.path)
  const up = await uploadViaUi(a, f.path)
  expect(up.state).toBe('done')
  const link = await shareViaUi(a, 'anyone')
  const id = await peerIdOf(a)

  await a.reload()
  // shown while the tab is still joining: the list is the tab's, kept in IndexedDB under its peer ID
  await expect(a.getByTestId('upload')).toHaveCount(1)
  await expect(a.getByTestId('upload').first()).toHaveAttribute('data-name', /kept\.bin$/)
  await expect(a.getByTestId('upload-address')).toHaveText(up.address!)
  await expect(a.getByTestId('share-link')).toHaveText(link)
  expect(await peerIdOf(a)).toBe(id)
  // and the kept address still reads the object: the same identity, the same owner
  await waitStorageReady(a)
  const back = await downloadViaUi(a, up.address!)
  expect(sha256Hex(back.bytes!)).toBe(f.sha256)
  expect(pageErrors.get(a)).toEqual([])
})

test('bad addresses get human messages at once, and sizes are checked before anything is allocated', async () => {
  const a = await storageTab()
  const drive = 'ab'.repeat(32)
  const sha = 'cd'.repeat(32)
  const relayAddr = `/ip4/127.0.0.1/tcp/1/ws/p2p/${await peerIdOf(a)}`
  const cases: Array<[string, string, RegExp]> = [
    [`golem-clay:${drive}/x.bin?sha256=${sha}&size=99999999999`, 'ObjectTooLargeError', /This file is 100\.0 GB; a tab keeps a download in memory and takes at most .* GB here/],
    [`golem-clay:${drive}/x.bin?sha256=${sha}&size=2000000000`, 'ObjectTooLargeError', /This file is 2\.0 GB/],
    [`golem-clay:${drive}/x.bin?sha256=${sha}&size=12abc`, 'InvalidAddressError', /size "12abc" is not a number of bytes/],
    [`golem-clay:${drive}/x.bin?sha256=${sha}&size=99999999999999999999`, 'InvalidAddressError', /larger than any stored object/],
    [`golem-clay:share/abc?relay=${relayAddr}`, 'InvalidAddressError', /damaged.*cut short/]
  ]
  // every typed-array allocation the page asks for from here, by size
  await a.evaluate(() => {
    const w = window as any
    w.largestAllocation = 0
    const watch = <T extends object>(Original: T): T => new Proxy(Original as any, {
      construct (target, args, newTarget) {
        if (typeof args[0] === 'number') w.largestAllocation = Math.max(w.largestAllocation, args[0])
        return Reflect.construct(target, args, newTarget)
      }
    })
    w.Uint8Array = watch(Uint8Array)
    w.ArrayBuffer = watch(ArrayBuffer)
  })
  for (const [address, name, message] of cases) {
    const started = Date.now()
    const view = await downloadViaUi(a, address, 5_000)
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(view.state).toBe('failed')
    expect(view.error?.name, address).toBe(name)
    expect(view.error?.message).toMatch(message)
    await expect(a.getByTestId('download-error').first()).toHaveAttribute('data-error', name)
  }
  // within what a tab takes, an address no relay backs up allocates nothing either: the buffer comes with the first bytes
  const missing = await downloadViaUi(a, `golem-clay:${drive}/x.bin?sha256=${sha}&size=200000000`)
  expect(missing.error?.name).toBe('ObjectNotFoundError')
  expect(await a.evaluate(() => (window as any).largestAllocation)).toBeLessThan(16 * 1024 * 1024)
  expect(pageErrors.get(a)).toEqual([])
})

test('the CLI\'s grant prints a short link and until when it works; get takes the link, and refuses bad sizes in words', async () => {
  const [owner, other] = [PeerProcess.start(relay.httpUrl), PeerProcess.start(relay.httpUrl)]
  try {
    const otherId = String((await other.waitForEvent(e => e.event === 'ready', 60_000)).peerId)
    await owner.waitForEvent(e => e.event === 'ready', 60_000)
    const f = await randomFile('cli-share.bin', 100_000)
    const out = join(tmpdir(), `golem-clay-e2e-${process.pid}-cli-share.out`)
    files.push(f.path, out)
    owner.command(`put ${f.path}`)
    const stored = await owner.waitForEvent(e => e.event === 'stored' || e.event === 'error', 60_000)
    expect(stored.event, JSON.stringify(stored)).toBe('stored')

    // a link for anyone, for two hours
    owner.command(`grant ${String(stored.address)} anyone 2h`)
    const pub = await owner.waitForEvent(e => e.event === 'granted' || e.event === 'error')
    expect(pub, JSON.stringify(pub)).toMatchObject({ event: 'granted', peer: '*' })
    expect(pub.link).toMatch(/^golem-clay:share\/[a-z2-7]{26}\?relay=/)
    expect(Math.abs(pub.expiresAt - (Date.now() + 2 * 3_600_000))).toBeLessThan(60_000)
    other.command(`get ${String(pub.link)} ${out}`)
    const fetched = await other.waitForEvent(e => e.event === 'fetched' || e.event === 'error', 60_000)
    expect(fetched.event, JSON.stringify(fetched)).toBe('fetched')
    expect(sha256Hex(await readFile(out))).toBe(f.sha256)

    // for one peer, a day unless told otherwise (the same default as the page's)
    owner.command(`grant ${String(stored.address)} ${otherId}`)
    const forOther = await owner.waitForEvent(e => e.event === 'granted' && e.peer === otherId)
    expect(Math.abs(forOther.expiresAt - (Date.now() + 86_400_000))).toBeLessThan(60_000)

    const drive = 'ab'.repeat(32)
    const sha = 'cd'.repeat(32)
    for (const [size, message] of [['99999999999999999999', /larger than any stored object/], ['12abc', /not a number of bytes/], [String(2 ** 49), /but the disk .* has .* free/]] as const) {
      const from = other.output.lines.length
      other.command(`get golem-clay:${drive}/x.bin?sha256=${sha}&size=${size} ${out}.bad`)
      const refused = JSON.parse(await other.output.waitFor(l => /"event":"error".*"command":"get"|"command":"get".*"event":"error"/.test(l), 10_000, from))
      expect(refused.message).toMatch(message)
    }
  } finally {
    await Promise.all([owner.stop(), other.stop()])
  }
})
