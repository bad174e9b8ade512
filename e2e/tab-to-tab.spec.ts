import { expect, test } from '@playwright/test'
import { launchChromium } from './fixtures/chromium.ts'
import { RelayProcess } from './fixtures/relay-process.ts'
import { expectReceived, openTab, pageErrors, peerIdOf, sendViaUi, waitDirect } from './fixtures/tab.ts'
import type { Browser, Page } from '@playwright/test'

let relay: RelayProcess
const browsers: Browser[] = []

test.beforeAll(async () => { relay = await RelayProcess.start() })
test.afterEach(async () => {
  await Promise.all(browsers.splice(0).map(async b => { await b.close() }))
})
test.afterAll(async () => { await relay.stop() })

/** Both tabs see one direct WebRTC link and nothing relayed between them. */
async function expectDirectLink (a: Page, b: Page): Promise<{ idA: string, idB: string }> {
  const [idA, idB] = [await peerIdOf(a), await peerIdOf(b)]
  expect(idA).not.toBe(idB)
  await waitDirect(a, idB)
  await waitDirect(b, idA)
  for (const [page, other] of [[a, idB], [b, idA]] as const) {
    const conns = await page.evaluate((id) => window.golemClay!.connections().filter(c => c.peer === id), other)
    const webrtc = conns.filter(c => c.kind === 'webrtc')
    expect(webrtc.length).toBeGreaterThanOrEqual(1)
    for (const c of webrtc) {
      expect(c.limited).toBe(false)
      expect(c.multiplexer).toBe('/webrtc')
    }
    // the relayed connection used for signalling is closed once WebRTC is up
    await expect.poll(async () => await page.evaluate((id) => window.golemClay!.connections().filter(c => c.peer === id && c.limited).length, other)).toBe(0)
    await expect(page.locator(`[data-testid="peer-row"][data-peer-id="${other}"]`)).toHaveAttribute('data-kind', 'webrtc')
  }
  return { idA, idB }
}

test('two tabs in one browser connect directly over WebRTC and message both ways', async () => {
  const browser = await launchChromium()
  browsers.push(browser)
  const context = await browser.newContext()
  const a = await openTab(context, relay.httpUrl)
  const b = await openTab(context, relay.httpUrl)
  const { idA, idB } = await expectDirectLink(a, b)

  await sendViaUi(a, idB, 'hello from tab A')
  await expectReceived(b, idA, 'hello from tab A')
  await sendViaUi(b, idA, 'and hello back from B')
  await expectReceived(a, idB, 'and hello back from B')

  // the messages travelled over the direct link, as the receiver saw it
  const received = await b.evaluate(() => window.golemClay!.messages().filter(m => m.direction === 'in'))
  expect(received.map(m => m.kind)).toEqual(['webrtc'])
  const sent = await b.evaluate(() => window.golemClay!.messages().filter(m => m.direction === 'out'))
  expect(sent[0]?.kind).toBe('webrtc')

  // the relay only sees each tab's own WebSocket, never a relayed tab-to-tab link
  const status = await relay.status()
  for (const id of [idA, idB]) {
    expect(status.peers.find(p => p.peerId === id)?.kinds).toEqual(['websocket'])
  }
  expect(pageErrors.get(a)).toEqual([])
  expect(pageErrors.get(b)).toEqual([])
})

test('tabs in two browser instances connect directly over WebRTC and message both ways', async () => {
  const first = await launchChromium()
  const second = await launchChromium()
  browsers.push(first, second)
  const a = await openTab(await first.newContext(), relay.httpUrl)
  const b = await openTab(await second.newContext(), relay.httpUrl)
  const { idA, idB } = await expectDirectLink(a, b)
  for (const page of [a, b]) await recordDataChannelSends(page)

  const there = await a.evaluate(async (to) => await window.golemClay!.send(to, 'across browsers'), idB)
  expect(there.status).toBe('delivered')
  expect(there.kind).toBe('webrtc')
  await expectReceived(b, idA, 'across browsers')
  const back = await b.evaluate(async (to) => await window.golemClay!.send(to, 'and back'), idA)
  expect(back.status).toBe('delivered')
  expect(back.kind).toBe('webrtc')
  await expectReceived(a, idB, 'and back')

  // every data channel message is one whole length-prefixed frame: our patch of
  // @libp2p/webrtc (patches/) sends prefix and protobuf together, where the
  // package sent the prefix alone first (twice the messages, each a thread hop)
  for (const page of [a, b]) {
    const sends = await page.evaluate(() => (window as unknown as { dcSends: DataChannelSend[] }).dcSends)
    expect(sends.length).toBeGreaterThan(0)
    for (const { head, length } of sends) {
      let framed = 0
      let at = 0
      for (let shift = 0; ; shift += 7) {
        const byte = head[at++] as number
        framed += (byte & 0x7f) * 2 ** shift
        if ((byte & 0x80) === 0) break
      }
      expect(length).toBe(at + framed)
    }
  }
})

interface DataChannelSend { head: number[], length: number }

/** Keeps the first bytes (a varint prefix is at most 10) and the length of every RTCDataChannel message the page sends from now on. */
async function recordDataChannelSends (page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { dcSends: DataChannelSend[] }
    w.dcSends = []
    const send = RTCDataChannel.prototype.send as (this: RTCDataChannel, data: unknown) => void
    RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: string | Blob | ArrayBuffer | ArrayBufferView<ArrayBuffer>) {
      const view = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(0)
      w.dcSends.push({ head: [...view.subarray(0, 10)], length: view.byteLength })
      send.call(this, data)
    }
  })
}
