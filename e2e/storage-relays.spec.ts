import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { PeerProcess } from './fixtures/peer-process.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { tcpAddrOf } from './fixtures/rogue.ts'
import { downloadViaUi, randomFile, resolveInPage, shareViaUi, sha256Hex, uploadViaUi, waitStorageReady } from './fixtures/storage.ts'
import { openTab, peerIdOf } from './fixtures/tab.ts'

const cleanup: Array<() => Promise<unknown>> = []
test.afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {})
})

test('a relay restart keeps stored objects, and an upload cut by a relay crash resumes from the blocks the relay holds', async () => {
  test.setTimeout(180_000)
  const relay = await RelayProcess.start({ extraArgs: ['--difficulty', '16'] })
  cleanup.push(async () => await relay.stop())
  const peerData = await mkdtemp(join(tmpdir(), 'golem-clay-peer-'))
  cleanup.push(async () => { await rm(peerData, { recursive: true, force: true }) })
  const peer = PeerProcess.start(relay.httpUrl, ['--data', peerData])
  cleanup.push(async () => { await peer.stop() })
  await peer.waitForEvent(e => e.event === 'ready', 60_000)

  const size = 40 * 1024 * 1024
  const f = await randomFile('restart.bin', size)
  cleanup.push(async () => { await rm(f.path, { force: true }) })
  peer.command(`put ${f.path}`)
  // the relay crashes mid-upload (it has checked at least 8 MiB by then: the client keeps at most 8 MiB unacknowledged) ...
  await peer.waitForEvent(e => e.event === 'progress' && e.phase === 'uploading' && e.bytes > 16 * 1024 * 1024, 60_000)
  await relay.kill()
  // ... and comes back: the client reconnects and sends only what the relay's blob core lacks
  await relay.launch()
  const stored = await peer.waitForEvent(e => e.event === 'stored' || e.event === 'error', 120_000)
  expect(stored.event, JSON.stringify(stored)).toBe('stored')
  expect(stored.sha256).toBe(f.sha256)
  const resumed = (await relay.status() as any).storage
  // the resume skipped the blocks the restarted relay's blob core holds (at least one block of 256 KiB). Not all it had
  // appended: a SIGKILL loses the blob core's latest appends (RocksDB under Hypercore), which the client sends again
  expect(resumed.bytesIn).toBeLessThanOrEqual(size - 256 * 1024)
  expect(resumed.pendingUploads).toBe(0)

  // a clean restart keeps the object
  await relay.stop()
  await relay.launch()
  expect((await relay.status() as any).storage).toMatchObject({ objects: 1, bytes: size })
  const out = join(peerData, 'restart.out')
  peer.command(`get ${String(stored.address)} ${out}`)
  const fetched = await peer.waitForEvent(e => e.event === 'fetched' || (e.event === 'error' && e.command === 'get'), 120_000)
  expect(fetched.event, JSON.stringify(fetched)).toBe('fetched')
  expect(sha256Hex(await readFile(out))).toBe(f.sha256)
})

test('a second relay replicates the first; a download falls back to it once the first is killed', async () => {
  test.setTimeout(180_000)
  // only relays on A's allowlist may copy it: B's peer ID is known before either starts
  const b = await RelayProcess.create({ extraArgs: ['--difficulty', '16'] })
  const a = await RelayProcess.start({ extraArgs: ['--difficulty', '16', '--replication-allow', await b.peerId()] })
  cleanup.push(async () => await a.stop())
  const aId = (await a.status()).peerId
  b.extraArgs.push('--replicate-from', tcpAddrOf((await a.status()).multiaddrs))
  await b.launch()
  cleanup.push(async () => await b.stop())
  const bId = (await b.status()).peerId
  await expect.poll(async () => (await a.status() as any).storage.replication.replicas, { timeout: 60_000 }).toContain(bId)

  const browser = await launchChromium()
  cleanup.push(async () => { await browser.close() })
  const uploader = await openTab(await browser.newContext(), a.httpUrl)
  const reader = await openTab(await browser.newContext(), b.httpUrl)
  await waitStorageReady(uploader)
  const f = await randomFile('replicated.bin', 6 * 1024 * 1024)
  cleanup.push(async () => { await rm(f.path, { force: true }) })
  const up = await uploadViaUi(uploader, f.path)
  expect(up.state, JSON.stringify(up.error)).toBe('done')
  // the address names both relays, the uploader's first
  expect(up.address!.indexOf(aId)).toBeGreaterThan(0)
  expect(up.address!.indexOf(bId)).toBeGreaterThan(up.address!.indexOf(aId))
  // a share link is kept by the uploader's relay: the reader looks it up while A runs; the address it gets names both relays
  await waitStorageReady(reader)
  const shared = (await resolveInPage(reader, await shareViaUi(uploader, await peerIdOf(reader)))).address
  expect(shared.indexOf(bId)).toBeGreaterThan(shared.indexOf(aId))

  await expect.poll(async () => (await b.status() as any).storage.replication.replicated.bytes, { timeout: 60_000 }).toBeGreaterThanOrEqual(f.bytes.length)
  await a.kill()

  await waitStorageReady(reader)
  const got = await downloadViaUi(reader, shared, 90_000)
  expect(got.state, JSON.stringify(got.error)).toBe('done')
  expect(sha256Hex(got.bytes!)).toBe(f.sha256)
  const served = (await b.status() as any).storage
  expect(served.downloads).toBe(1)
  expect(served.refusals['bad-token']).toBe(0)
})
