import { expect, test } from '@playwright/test'
import { PeerProcess } from './fixtures/peer-process.ts'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { expectReceived, openTab, pageErrors, peerIdOf, waitDirect, waitReserved } from './fixtures/tab.ts'

const env = useRelayAndBrowser()
let peer: PeerProcess | undefined

test.afterAll(async () => { await peer?.stop() })

test('tabs survive a relay crash: they reconnect, reserve again and are reachable again', async () => {
  const context = await env.browser.newContext()
  const a = await openTab(context, env.relay.httpUrl)
  const b = await openTab(context, env.relay.httpUrl)
  const [idA, idB] = [await peerIdOf(a), await peerIdOf(b)]
  await waitDirect(a, idB)

  await env.relay.kill()

  // both tabs notice and say so, with the retry countdown
  for (const page of [a, b]) {
    await page.waitForFunction(() => window.golemClay!.relays().every(r => r.state === 'waiting' || r.state === 'connecting'), undefined, { polling: 100 })
    await expect(page.getByTestId('connection-banner')).toContainText('unreachable')
    await expect(page.getByTestId('node-status')).toHaveAttribute('data-tone', 'bad')
  }
  // the direct link does not need the relay
  const meanwhile = await a.evaluate(async (to) => await window.golemClay!.send(to, 'relay is down'), idB)
  expect(meanwhile).toMatchObject({ status: 'delivered', kind: 'webrtc' })

  await env.relay.launch()

  // tabs come back by themselves, without a reload
  await waitReserved(a, 60_000)
  await waitReserved(b, 60_000)
  await expect(a.getByTestId('node-status')).toHaveAttribute('data-tone', 'good')
  await expect(a.getByTestId('connection-banner')).toHaveCount(0)
  const status = await env.relay.status()
  expect(status.reservations).toBeGreaterThanOrEqual(2)

  // reachable again through the relay: a Node peer that only knows the relay messages tab A
  peer = PeerProcess.start(env.relay.httpUrl)
  const peerId = (await peer.waitForEvent(e => e.event === 'started')).peerId as string
  await peer.waitForEvent(e => e.event === 'peers' && e.peers.some((p: any) => p.id === idA), 60_000)
  peer.command(`send ${idA} back online?`)
  const sent = await peer.waitForEvent(e => e.event === 'sent' || e.event === 'error')
  expect(sent).toMatchObject({ event: 'sent', to: idA, kind: 'relayed' })
  await expectReceived(a, peerId, 'back online?')

  // and a tab that arrives after the restart gets a direct link to both
  const c = await openTab(context, env.relay.httpUrl)
  const idC = await peerIdOf(c)
  await waitDirect(c, idA)
  await waitDirect(c, idB)
  await waitDirect(a, idC)
  for (const page of [a, b, c]) expect(pageErrors.get(page)).toEqual([])
})
