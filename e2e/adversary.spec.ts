import { readdir, rm } from 'node:fs/promises'
import { join as joinPath } from 'node:path'
import { expect, test } from '@playwright/test'
import { Attacker } from './fixtures/attacks/attacker.ts'
import { launchChromium } from './fixtures/chromium.ts'
import { honestJoin } from './fixtures/honest.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { tcpAddrOf } from './fixtures/rogue.ts'
import { randomFile, uploadViaUi, waitStorageReady } from './fixtures/storage.ts'
import { openTab, pageErrors } from './fixtures/tab.ts'
import type { HonestJoin } from './fixtures/honest.ts'
import type { Browser } from '@playwright/test'

// Each finding of the hardening issue, played against a real relay process
// from other loopback hosts (127.0.0.2, …), while an honest Node peer (from
// 127.0.0.1) joins, reserves and stores, and a tab joins where tabs are hit.
// Every wait is on the attacker's counters or the relay's /status.
test.describe.configure({ timeout: 180_000 })

const BASE = ['--difficulty', '14', '--max-difficulty', '20']
let browser: Browser
const cleanups: Array<() => Promise<unknown>> = []

test.beforeAll(async () => { browser = await launchChromium() })
test.afterEach(async () => { for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {}) })
test.afterAll(async () => { await browser.close() })

async function relayWith (args: string[]): Promise<{ relay: RelayProcess, tcp: string }> {
  const relay = await RelayProcess.start({ extraArgs: [...BASE, ...args] })
  cleanups.push(async () => await relay.stop())
  return { relay, tcp: tcpAddrOf((await relay.status()).multiaddrs) }
}

function attack (...args: Parameters<typeof Attacker.start>): Attacker {
  const attacker = Attacker.start(...args)
  cleanups.push(async () => await attacker.stop())
  return attacker
}

async function honest (tcp: string, store = true): Promise<HonestJoin> {
  const join = await honestJoin(tcp, { store })
  cleanups.push(join.stop)
  return join
}

/** A tab on the relay's page reaches a reservation, without page errors. */
async function honestTab (relay: RelayProcess): Promise<void> {
  const context = await browser.newContext()
  cleanups.push(async () => await context.close())
  const page = await openTab(context, relay.httpUrl)
  expect(pageErrors.get(page)).toEqual([])
}

const hosts = (n: number, from = 2): string[] => Array.from({ length: n }, (_, i) => `127.0.0.${from + i}`)

test('1. handshakes that never solve cannot lock anyone out', async () => {
  const { relay, tcp } = await relayWith(['--max-pending-handshakes', '16', '--max-pending-handshakes-per-address', '4'])
  // four hosts, 8 new stalled handshakes a second, half saying Hello and half nothing
  const attacker = attack('stall', tcp, { hosts: hosts(4), rate: 8, hello: 'mixed' })
  await attacker.waitFor(e => (e.stalled ?? 0) >= 32)
  const during = (await relay.status()).session
  expect(during.pendingInbound).toBeLessThanOrEqual(16)
  expect(during.refusals['evicted-handshake']).toBeGreaterThan(0)
  expect(attacker.last().cut).toBeGreaterThan(0)

  const join = await honest(tcp)
  expect(join.stored?.size).toBe(17)
  await honestTab(relay)
  expect((await relay.status()).session.pendingInbound).toBeLessThanOrEqual(16)
})

test('2. resetting session streams neither raises the difficulty nor goes unpunished', async () => {
  // a low ban threshold, so the ban comes within the test's time (each cut connection is a strike; 200 a minute by default)
  const { relay, tcp } = await relayWith(['--address-strikes', '40'])
  const attacker = attack('reset', tcp, { hosts: hosts(1), connections: 4, rate: 400 })
  await attacker.waitFor(e => (e.reset ?? 0) + (e.failed ?? 0) >= 100)
  expect((await relay.status()).session.difficulty).toBeLessThanOrEqual(15)
  // most resets never reach the handshake (the relay resets or cuts them first): those that did are counted
  await expect.poll(async () => (await relay.status()).session.refusals['abandoned-handshake'], { timeout: 30_000 }).toBeGreaterThan(0)
  // the address is struck for every walked-away handshake (each ten raise its price by a bit), and banned in the end
  await expect.poll(async () => (await relay.status()).session.addressBans, { timeout: 60_000 }).toBeGreaterThan(0)

  const join = await honest(tcp)
  expect(join.difficulty).toBeLessThanOrEqual(15)
  await honestTab(relay)
})

test('3. saying "relay" in a Hello grants no replication: the catalog and every drive stay private', async () => {
  const { relay, tcp } = await relayWith([])
  const victim = await honest(tcp)
  expect(victim.stored).toBeDefined()
  const attacker = attack('claim-relay', tcp, { host: '127.0.0.2' })
  const replicate = await attacker.waitFor(e => e.event === 'replicate')
  expect(replicate.reply).toMatchObject({ type: 'error', error: { name: 'AccessDeniedError' } })
  const stream = await attacker.waitFor(e => e.event === 'replication-stream')
  expect(stream.result).not.toBe('data')
  const status = await relay.status() as any
  expect(status.storage.replication.replicas).toEqual([])
  expect(status.storage.refusals['access-denied']).toBeGreaterThanOrEqual(2)
  await honest(tcp)
})

test('4. reservations of peers that left are freed at once; one address holds only its share', async () => {
  const { relay, tcp } = await relayWith(['--max-reservations', '24', '--max-reservations-per-address', '4'])
  // 30 throwaway identities from three hosts take a reservation each and leave
  const churn = attack('reserve', tcp, { hosts: hosts(3), count: 30 })
  const done = await churn.waitFor(e => e.event === 'done', 120_000)
  expect(done.reserved).toBeGreaterThanOrEqual(24)
  await expect.poll(async () => (await relay.status()).reservations).toBe(0)
  expect((await relay.status() as any).limits.reservationsReleased).toBeGreaterThanOrEqual(24)

  // 8 that stay, from one host: only 4 get a slot
  const holders = attack('reserve', tcp, { hosts: ['127.0.0.9'], count: 8, hold: true })
  const held = await holders.waitFor(e => (e.done ?? 0) > 0)
  expect(held.reserved).toBe(4)
  expect(held['no-reservation']).toBe(4)
  expect((await relay.status()).session.refusals['reservation-refused']).toBeGreaterThanOrEqual(4)

  const join = await honest(tcp)
  expect(join.stored).toBeDefined()
  await honestTab(relay)
})

test('5. the storage quota counts bytes received: declared uploads that never come fill nothing', async () => {
  const { relay, tcp } = await relayWith(['--storage-quota', '10GiB', '--storage-peer-quota', '1GiB'])
  // ten identities declare 1 GiB each and send nothing; one more declares 200 one-byte uploads
  const attacker = attack('declare', tcp, { hosts: hosts(2), identities: 10, size: 2 ** 30, many: 200 })
  // every declaration answered, queued, refused, or its stream refused (a connection takes 32 storage streams at once)
  const tried = (e: Record<string, any>): number => Object.entries(e).filter(([k]) => k !== 'event').reduce((n, [, v]) => n + Number(v), 0)
  const seen = await attacker.waitFor(e => tried(e) >= 210, 120_000)
  expect(Object.keys(seen).filter(k => k.startsWith('refused:'))).toEqual(['refused:TooManyUploadsError'])
  const storage = (await relay.status() as any).storage
  expect(storage.pendingBytes).toBe(0)
  expect(storage.refusals['too-many-uploads']).toBeGreaterThan(0)
  // uploads in progress, and their records on disk, stay within the per-peer and per-address caps
  expect(storage.pendingUploads).toBeLessThanOrEqual(64)
  expect((await readdir(joinPath(relay.dataDir, 'storage', 'partial'))).length).toBeLessThanOrEqual(64)

  const join = await honest(tcp)
  expect(join.stored?.size).toBe(17)
  // and a tab uploads through its page
  const context = await browser.newContext()
  cleanups.push(async () => await context.close())
  const page = await openTab(context, relay.httpUrl)
  await waitStorageReady(page)
  const file = await randomFile('adversary.bin', 64 * 1024)
  cleanups.push(async () => await rm(file.path, { force: true }))
  const up = await uploadViaUi(page, file.path)
  expect(up.state, JSON.stringify(up.error)).toBe('done')
})

test('6. half-open sockets from one address do not starve everyone else\'s connections', async () => {
  const { relay, tcp } = await relayWith([])
  const wsPort = relay.ports.ws
  // 2 new half-open sockets a second from 127.0.0.2, on the TCP and the WebSocket port, 16 of each held open
  const onTcp = attack('half-open', tcp, { target: { host: '127.0.0.1', port: relay.ports.tcp }, hosts: ['127.0.0.2'], rate: 2, max: 16 })
  const onWs = attack('half-open', tcp, { target: { host: '127.0.0.1', port: wsPort }, hosts: ['127.0.0.2'], rate: 2, max: 16 })
  await onTcp.waitFor(e => (e.opened ?? 0) >= 12)
  await onWs.waitFor(e => (e.opened ?? 0) >= 12)
  await expect.poll(async () => (await relay.status()).session.refusals['pending-connections']).toBeGreaterThan(0)

  // fourteen honest joins in a row, as in the finding: every one gets through at its first dial
  for (let i = 0; i < 14; i++) {
    const join = await honest(tcp, i === 0)
    expect(join.dialFailures).toBe(0)
    await join.stop()
  }
  await honestTab(relay)
})

test('7. peer exchange keeps no relay it did not verify, and no source fills it', async () => {
  const { relay, tcp } = await relayWith([])
  const attacker = attack('poison', tcp, { host: '127.0.0.2', perAsk: 64 })
  await attacker.waitFor(e => (e.joined ?? 0) > 0)
  // the relay dials the liar back (it listens, so it passes as a relay), then gossips with it every 10 s
  await expect.poll(async () => (await relay.status() as any).limits.keeperRefusedFromSources, { timeout: 60_000 }).toBeGreaterThan(0)
  await attacker.waitFor(e => (e.served ?? 0) >= 128)
  // one source adds at most 64 peers the relay has not verified itself
  const status = await relay.status()
  expect(status.network.kept).toBeLessThanOrEqual(64 + 4)

  // an honest newcomer asking the relay for relays hears of no fake one from it. It may meet the liar too (the relay passes
  // the liar on: it did answer as a relay) and hear the fakes from it: kept on the liar's word alone, they are candidates
  // to dial back, never relays it verified
  const join = await honest(tcp, false)
  await join.peer.services.pex.ask(join.peer.getConnections().find(c => c.remotePeer.toString() === status.peerId)!, ['relay'], 32)
  const keeper = join.peer.services.keeper
  const fakes = keeper.list().filter(p => p.multiaddrs.some(a => a.includes('/10.66.')))
  expect(fakes.filter(p => p.via === status.peerId).map(p => p.id)).toEqual([])
  expect(fakes.filter(p => keeper.isVerifiedRelay(p.id)).map(p => p.id)).toEqual([])
  await honestTab(relay)
})
