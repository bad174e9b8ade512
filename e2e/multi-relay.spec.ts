import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { PeerProcess } from './fixtures/peer-process.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { tcpAddrOf } from './fixtures/rogue.ts'
import { openTab, pageErrors, peerIdOf, waitDirect } from './fixtures/tab.ts'
import type { Browser, Page } from '@playwright/test'

// a whole small network on two cores: give it room, but every wait is on an event
test.describe.configure({ timeout: 420_000 })

const relays: RelayProcess[] = []
const browsers: Browser[] = []
const peers: PeerProcess[] = []

test.afterAll(async () => {
  await Promise.all(peers.map(async p => { await p.stop() }))
  await Promise.all(browsers.map(async b => { await b.close() }))
  await Promise.all(relays.map(async r => { await r.stop() }))
})

async function reservedOn (page: Page): Promise<string[]> {
  return await page.evaluate(() => window.golemClay!.relays().filter(r => r.state === 'reserved').map(r => r.peerId ?? ''))
}

async function waitReservations (page: Page, count: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction((n) => window.golemClay!.relays().filter(r => r.state === 'reserved').length >= n, count, { timeout, polling: 200 })
}

test('three relays, six tabs in two browsers and two Node peers form one network that survives losing a relay', async () => {
  const args = ['--difficulty', '16']
  const r1 = await RelayProcess.start({ extraArgs: args })
  relays.push(r1)
  const seed = tcpAddrOf((await r1.status()).multiaddrs)
  const r2 = await RelayProcess.start({ extraArgs: [...args, '--seed', seed] })
  const r3 = await RelayProcess.start({ extraArgs: [...args, '--seed', seed] })
  relays.push(r2, r3)
  const ids = await Promise.all([r1, r2, r3].map(async r => (await r.status()).peerId))
  // relays started with seeds join each other into one network
  for (const r of [r1, r2, r3]) await expect.poll(async () => (await r.status()).network.estimate.relays, { timeout: 60_000 }).toBe(3)

  const b1 = await launchChromium()
  const b2 = await launchChromium()
  browsers.push(b1, b2)
  const [c1, c2] = [await b1.newContext(), await b2.newContext()]
  // each tab starts from the relay that served its page
  const tabs = [
    await openTab(c1, r1.httpUrl), await openTab(c1, r2.httpUrl), await openTab(c1, r3.httpUrl),
    await openTab(c2, r1.httpUrl), await openTab(c2, r2.httpUrl), await openTab(c2, r3.httpUrl)
  ]
  const tabIds = await Promise.all(tabs.map(peerIdOf))
  peers.push(PeerProcess.start(r2.httpUrl), PeerProcess.start(r3.httpUrl))
  const nodeIds = await Promise.all(peers.map(async p => (await p.waitForEvent(e => e.event === 'started')).peerId as string))

  // every tab keeps reservations on two relays
  for (const tab of tabs) await waitReservations(tab, 2)

  // every tab links to every other tab directly over WebRTC, across relays too
  for (const [i, tab] of tabs.entries()) {
    for (const [j, other] of tabIds.entries()) {
      if (i !== j) await waitDirect(tab, other, 90_000)
    }
  }
  // and reaches both Node peers (through a relay)
  for (const [i, tab] of tabs.entries()) {
    for (const [n, nodeId] of nodeIds.entries()) {
      await tab.waitForFunction((id) => window.golemClay!.peers().some(p => p.id === id), nodeId, { timeout: 60_000, polling: 200 })
      const sent = await tab.evaluate(async ([to, text]) => await window.golemClay!.send(to, text), [nodeId, `hello node ${n} from tab ${i}`] as const)
      expect(sent.status).toBe('delivered')
    }
  }
  for (const [n, p] of peers.entries()) {
    for (const [i, id] of tabIds.entries()) await p.waitForEvent(e => e.event === 'message' && e.from === id && e.text === `hello node ${n} from tab ${i}`)
  }
  // the page draws the network it sees
  await expect(tabs[0]!.locator('[data-testid="graph-node"][data-role="relay"]')).toHaveCount(3)
  await expect(tabs[0]!.getByTestId('network-estimate')).toContainText('3 relays')
  await expect(tabs[0]!.getByTestId('network-estimate')).toContainText('6 tabs')
  // the tab's DHT routing table (client mode) holds the relays it talks to
  await expect.poll(async () => (await tabs[0]!.evaluate(() => window.golemClay!.network()?.routing.peers)) ?? 0).toBeGreaterThanOrEqual(2)

  // a relay crashes: every tab is back on the network within 10 s
  await r1.kill()
  const killedAt = Date.now()
  for (const tab of tabs) {
    await tab.waitForFunction((dead) => window.golemClay!.relays().some(r => r.state === 'reserved' && r.peerId !== dead), ids[0], { timeout: 10_000, polling: 100 })
  }
  expect(Date.now() - killedAt).toBeLessThan(10_000)
  // and soon holds two reservations again, on the relays that are left
  for (const tab of tabs) {
    await waitReservations(tab, 2, 60_000)
    expect(await reservedOn(tab)).not.toContain(ids[0])
  }
  // direct links did not need the relay
  for (const [j, other] of tabIds.entries()) if (j !== 0) await waitDirect(tabs[0]!, other)
  for (const tab of tabs) expect(pageErrors.get(tab)).toEqual([])
})

test('a restarted tab, and a new tab of the same browser, find their way back from kept peer records when all seeds are down', async () => {
  const [, r2, r3] = relays as [RelayProcess, RelayProcess, RelayProcess]
  const r2Addr = (await r2.status()).multiaddrs.find(a => a.startsWith('/ip4/127.0.0.1/') && a.includes('/ws/'))
  // the page is served by r3 but told to use r2 as its only seed
  const url = `${r3.httpUrl}?relay=${encodeURIComponent(r2Addr ?? '')}`
  const context = await browsers[0]!.newContext()
  const tab = await openTab(context, url)
  const r3Id = (await r3.status()).peerId
  // it learned of r3 from r2 and kept it (IndexedDB)
  await tab.waitForFunction((id) => window.golemClay!.relays().some(r => r.peerId === id && r.state === 'reserved'), r3Id, { timeout: 60_000, polling: 200 })

  // a verified relay is written at once; the reload waits for that write, not for luck
  // (polled from here: waitForFunction takes a returned promise for a truthy answer)
  await expect.poll(async () => await tab.evaluate(async (id) => await new Promise<boolean>((resolve) => {
    const open = indexedDB.open('golem-clay-peers')
    open.onerror = () => { resolve(false) }
    open.onsuccess = () => {
      const db = open.result
      if (!db.objectStoreNames.contains('peers')) { db.close(); resolve(false); return }
      const all = db.transaction('peers').objectStore('peers').getAll()
      all.onsuccess = () => {
        db.close()
        const kept = (all.result as string[]).flatMap(list => JSON.parse(list) as Array<{ id: string, verified?: string[] }>)
        resolve(kept.some(p => p.id === id && p.verified?.includes('relay') === true))
      }
      all.onerror = () => { db.close(); resolve(false) }
    }
  }), r3Id), { timeout: 10_000, intervals: [200] }).toBe(true)
  const before = await peerIdOf(tab)
  await r2.kill()
  await tab.reload()
  try {
    await tab.waitForFunction((id) => window.golemClay!.relays().some(r => r.peerId === id && r.state === 'reserved'), r3Id, { timeout: 60_000, polling: 200 })
  } catch (err) {
    // say what the tab was doing: a rare failure here is otherwise blind
    const relays = await tab.evaluate(() => window.golemClay?.relays().map(r => [r.peerId?.slice(-6), r.state, r.addr, r.failures, r.lastError]))
    const after = await tab.evaluate(() => window.golemClay?.peerId())
    const peers = await tab.evaluate(() => window.golemClay?.peers().map(p => [p.id.slice(-6), p.role, p.kind, p.verified]))
    // what IndexedDB holds now, per key: which lists still name r3
    const kept = await tab.evaluate(async (id) => await new Promise<unknown>((resolve) => {
      const open = indexedDB.open('golem-clay-peers')
      open.onerror = () => { resolve('open failed') }
      open.onsuccess = () => {
        const db = open.result
        if (!db.objectStoreNames.contains('peers')) { resolve(`no peers store (version ${db.version}, stores ${JSON.stringify([...db.objectStoreNames])})`); db.close(); return }
        const tx = db.transaction('peers')
        const keys = tx.objectStore('peers').getAllKeys()
        const all = tx.objectStore('peers').getAll()
        tx.oncomplete = () => {
          db.close()
          resolve((keys.result as string[]).map((k, i) => [k, (JSON.parse(all.result[i] as string) as Array<{ id: string, verified?: string[] }>).filter(p => p.id === id).map(p => p.verified)]))
        }
      }
    }), r3Id)
    const databases = await tab.evaluate(async () => await indexedDB.databases())
    throw new Error(`databases: ${JSON.stringify(databases)}; no reservation on ${r3Id.slice(-6)} after the reload (peer ID ${before.slice(-6)} → ${after?.slice(-6)}); relays: ${JSON.stringify(relays)}; peers: ${JSON.stringify(peers)}; kept r3 per key: ${JSON.stringify(kept)}`, { cause: err })
  }
  const seedState = await tab.evaluate(() => window.golemClay!.relays().find(r => r.seed))
  expect(seedState?.state === 'reserved').toBe(false)

  // a new tab of this browser, a node of its own with nothing kept yet, starts from what the first one learned
  const second = await openTab(context, url)
  expect(await peerIdOf(second)).not.toBe(await peerIdOf(tab))
  await second.waitForFunction((id) => window.golemClay!.relays().some(r => r.peerId === id && r.state === 'reserved'), r3Id, { timeout: 60_000, polling: 200 })
})
