import { expect, test } from '@playwright/test'
import { PeerProcess } from './fixtures/peer-process.ts'
import { useRelayAndBrowser } from './fixtures/relay-and-browser.ts'
import { expectReceived, openTab, pageErrors, peerIdOf, sendViaUi } from './fixtures/tab.ts'

const env = useRelayAndBrowser()
let peer: PeerProcess | undefined

test.afterEach(async () => { await peer?.stop() })

test('a Node peer joins over TCP and talks to a tab through the relay', async () => {
  const tab = await openTab(await env.browser.newContext(), env.relay.httpUrl)
  const tabId = await peerIdOf(tab)

  peer = PeerProcess.start(env.relay.httpUrl)
  const started = await peer.waitForEvent(e => e.event === 'started')
  const peerId = started.peerId as string
  // the peer picked the relay's TCP address from /status, not WebSockets
  expect(started.relays[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
  expect(started.relays[0]).not.toContain('/ws')
  await peer.waitForEvent(e => e.event === 'ready')
  const relayView = await env.relay.status()
  expect(relayView.peers.find(p => p.peerId === peerId)?.kinds).toEqual(['tcp'])

  // the tab learns of the peer from the relay and links to it through the relay
  const row = tab.locator(`[data-testid="peer-row"][data-peer-id="${peerId}"]`)
  await expect(row).toHaveAttribute('data-kind', 'relayed')
  await expect(row).toContainText('Node peer')

  // Node peer -> tab
  await peer.waitForEvent(e => e.event === 'peers' && e.peers.some((p: any) => p.id === tabId))
  peer.command(`send ${tabId} hello tab, this is Node`)
  const sent = await peer.waitForEvent(e => e.event === 'sent' || e.event === 'error')
  expect(sent).toMatchObject({ event: 'sent', to: tabId, kind: 'relayed' })
  await expectReceived(tab, peerId, 'hello tab, this is Node')
  const inbound = await tab.evaluate(() => window.golemClay!.messages().find(m => m.direction === 'in'))
  expect(inbound?.kind).toBe('relayed')

  // tab -> Node peer, through the page
  await sendViaUi(tab, peerId, 'hello Node, from the tab')
  const got = await peer.waitForEvent(e => e.event === 'message')
  expect(got).toMatchObject({ from: tabId, text: 'hello Node, from the tab', kind: 'relayed' })
  expect(pageErrors.get(tab)).toEqual([])
})

test('the Node peer reports a clear error for a bad peer ID and keeps running', async () => {
  peer = PeerProcess.start(env.relay.httpUrl)
  await peer.waitForEvent(e => e.event === 'ready')
  peer.command('send not-a-peer-id hi')
  const err = await peer.waitForEvent(e => e.event === 'error')
  expect(err.message).toContain('not a valid peer ID')
  peer.command('peers')
  await peer.waitForEvent(e => e.event === 'peer-list')
})
