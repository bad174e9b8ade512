import { generateKeyPair } from '@libp2p/crypto/keys'
import { describe, expect, it, vi } from 'vitest'
import { UsageError } from '../../../shared/errors.ts'
import { generatePaymentKey, memoryLedgerStores, paymentAddressOf } from '../../../shared/payments/index.ts'
import { BrowserPeer } from './join-network.ts'
import type { BrowserPeerComponents, BrowserPeerInit, BrowserPeerNotice, BrowserPeerPhaseDetail } from './join-network.ts'
import type { HashcashSolver } from '../../../shared/hashcash/index.ts'
import type { BrowserNode, BrowserNodeInit } from '../node/create-browser-node.ts'
import type { TabIdentity } from '../node/identity-store.ts'

const RELAY = '/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWRelay'

/** A node that records what was done to it; `started` lets a test hold its start. */
function fakeNode (init: BrowserNodeInit, started: Promise<void> = Promise.resolve()): BrowserNode & { calls: string[], init: BrowserNodeInit } {
  const calls: string[] = []
  return {
    calls,
    init,
    peerId: init.privateKey.publicKey,
    start: async () => { calls.push('start'); await started },
    stop: async () => { calls.push('stop') },
    getConnections: () => [],
    services: { sessions: { goodbyeAll: (reason: string) => { calls.push(`goodbye:${reason}`) } } }
  } as unknown as BrowserNode & { calls: string[], init: BrowserNodeInit }
}

async function storedIdentity (): Promise<TabIdentity> {
  return { privateKey: await generateKeyPair('Ed25519'), paymentKey: generatePaymentKey(), slot: 3, created: false, paymentKeyCreated: false }
}

interface Harness {
  peer: BrowserPeer
  phases: BrowserPeerPhaseDetail[]
  notices: BrowserPeerNotice[]
  components: BrowserPeerComponents
  nodes: Array<ReturnType<typeof fakeNode>>
  solver: { stop: ReturnType<typeof vi.fn> }
}

function harness (init: BrowserPeerInit, overrides: Partial<BrowserPeerComponents> = {}, started?: Promise<void>): Harness {
  const nodes: Array<ReturnType<typeof fakeNode>> = []
  const solver = { stop: vi.fn(async () => {}) }
  const components: BrowserPeerComponents = {
    claimIdentity: vi.fn(storedIdentity),
    storageUnavailable: vi.fn(async () => undefined),
    openLedgers: vi.fn(async () => ({ ledgers: memoryLedgerStores(), durable: true })),
    keeperStore: vi.fn(() => ({ load: async () => [], save: async () => {} })),
    createSolver: () => solver as unknown as HashcashSolver,
    createNode: async (nodeInit) => {
      const node = fakeNode(nodeInit, started)
      nodes.push(node)
      return node
    },
    locate: vi.fn(async () => RELAY),
    ...overrides
  }
  const peer = new BrowserPeer(init, components)
  const phases: BrowserPeerPhaseDetail[] = []
  const notices: BrowserPeerNotice[] = []
  peer.addEventListener('phase', (evt) => { phases.push(evt.detail) })
  peer.addEventListener('notice', (evt) => { notices.push(evt.detail) })
  return { peer, phases, notices, components, nodes, solver }
}

describe('BrowserPeer', () => {
  it('goes identity → locating → starting → running with a stored identity, asking the status address when no relay is given', async () => {
    const h = harness({ statusUrl: 'http://relay.test/status' })
    const seen: string[] = []
    h.peer.addEventListener('node', () => { seen.push(`node while ${h.peer.phase}`) })
    const node = await h.peer.start()
    expect(h.phases.map(p => p.phase)).toEqual(['identity', 'locating', 'starting', 'running'])
    expect(seen).toEqual(['node while starting'])
    expect(h.peer.phase).toBe('running')
    expect(h.peer.node).toBe(node)
    expect(h.components.locate).toHaveBeenCalledWith('http://relay.test/status', expect.any(AbortSignal))
    const identity = h.peer.identity
    expect(identity).toMatchObject({ slot: 3, durable: true, created: false, peerId: node.peerId.toString() })
    expect(h.phases[1]).toEqual({ phase: 'locating', identity, statusUrl: 'http://relay.test/status' })
    expect(h.phases[2]).toEqual({ phase: 'starting', identity, relays: [RELAY], ledgers: { durable: true } })
    expect(h.components.openLedgers).toHaveBeenCalledWith(3)
    expect(h.components.keeperStore).toHaveBeenCalledWith(3)
    expect(h.nodes[0]?.init.relays).toEqual([RELAY])
    expect(h.notices).toEqual([])
  })

  it('dials the relays it was given (or that onIdentity returns) without asking anyone', async () => {
    const onIdentity = vi.fn(async () => ({ relays: [RELAY], iceServers: [{ urls: 'stun:stun.test' }] }))
    const h = harness({ relays: [], statusUrl: 'http://relay.test/status', onIdentity })
    await h.peer.start()
    expect(onIdentity).toHaveBeenCalledWith(h.peer.identity, expect.objectContaining({ signal: expect.any(AbortSignal) }))
    expect(h.components.locate).not.toHaveBeenCalled()
    expect(h.phases[1]).toEqual({ phase: 'locating', identity: h.peer.identity })
    expect(h.nodes[0]?.init.iceServers).toEqual([{ urls: 'stun:stun.test' }])
  })

  it('falls back to an identity in memory when the browser\'s storage throws, and says so', async () => {
    const h = harness({ relays: [RELAY] }, { claimIdentity: vi.fn(async () => { throw new DOMException('Internal error opening backing store', 'UnknownError') }) })
    await h.peer.start()
    expect(h.peer.phase).toBe('running')
    expect(h.peer.identity).toMatchObject({ durable: false, created: true, reason: expect.stringContaining('backing store') })
    expect(h.peer.identity?.slot).toBeUndefined()
    expect(h.notices.map(n => n.code)).toEqual(['identity-in-memory', 'ledgers-in-memory'])
    expect(h.notices[0]?.text).toMatch(/^keeps its identity and payment key in memory only: this browser does not let the page keep data/)
    expect(h.phases[2]).toMatchObject({ phase: 'starting', ledgers: { durable: false } })
    expect(h.components.openLedgers).not.toHaveBeenCalled()
    expect(h.components.keeperStore).not.toHaveBeenCalled()
    expect(h.nodes[0]?.init.keeperStore).toBeUndefined()
    expect(h.nodes[0]?.init.paymentKey).toBeDefined()
    expect(h.peer.identity?.paymentAddress).toBe(paymentAddressOf(h.nodes[0]?.init.paymentKey ?? '0x'))
  })

  it('does not even try storage the browser refuses up front', async () => {
    const h = harness({ relays: [RELAY] }, { storageUnavailable: vi.fn(async () => 'this browser does not let the page keep data (no IndexedDB)') })
    await h.peer.start()
    expect(h.components.claimIdentity).not.toHaveBeenCalled()
    expect(h.peer.identity).toMatchObject({ durable: false, reason: 'this browser does not let the page keep data (no IndexedDB)' })
  })

  it('with identity: \'memory\', never touches storage', async () => {
    const h = harness({ relays: [RELAY], identity: 'memory' })
    await h.peer.start()
    expect(h.components.storageUnavailable).not.toHaveBeenCalled()
    expect(h.components.claimIdentity).not.toHaveBeenCalled()
    expect(h.components.openLedgers).not.toHaveBeenCalled()
    expect(h.components.keeperStore).not.toHaveBeenCalled()
    expect(h.peer.identity).toMatchObject({ durable: false, created: true })
    expect(h.peer.identity?.reason).toBeUndefined()
    // the cheques are still worth a word
    expect(h.notices.map(n => n.code)).toEqual(['ledgers-in-memory'])
  })

  it('fails, saying why, when every identity slot is held', async () => {
    const error = new UsageError('All 64 identity slots are held by open tabs: close one and reload')
    const h = harness({ relays: [RELAY] }, { claimIdentity: vi.fn(async () => { throw error }) })
    await expect(h.peer.start()).rejects.toBe(error)
    expect(h.phases).toEqual([{ phase: 'identity' }, { phase: 'failed', error }])
    expect(h.peer.identity).toBeUndefined()
  })

  it('fails on what onIdentity throws (a bad config), the identity already known', async () => {
    const bad = harness({ onIdentity: () => { throw new TypeError('bad config') } })
    expect(bad.peer.phase).toBe('idle')
    await expect(bad.peer.start()).rejects.toThrow('bad config')
    expect(bad.phases.map(p => p.phase)).toEqual(['identity', 'failed'])
    expect(bad.peer.identity?.durable).toBe(true)
  })

  it('stop() while locating ends the start with no failure; a second stop() does nothing more', async () => {
    const h = harness({ statusUrl: 'http://relay.test/status' }, {
      locate: async (_url, signal) => await new Promise<string>((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }) })
    })
    const starting = h.peer.start()
    await vi.waitFor(() => { expect(h.peer.phase).toBe('locating') })
    await Promise.all([h.peer.stop(), h.peer.stop()])
    await expect(starting).rejects.toThrow('stopped')
    expect(h.phases.map(p => p.phase)).toEqual(['identity', 'locating', 'stopped'])
    expect(h.nodes).toEqual([])
  })

  it('stop() says goodbye to peers before its first await, then stops the solver and the node, once', async () => {
    const h = harness({ relays: [RELAY] })
    const node = await h.peer.start()
    const stopping = h.peer.stop()
    // synchronously: a closing tab gets no later turn
    expect(h.peer.phase).toBe('stopped')
    expect(h.nodes[0]?.calls).toContain('goodbye:ShuttingDown')
    await stopping
    await h.peer.stop()
    expect(h.nodes[0]?.calls).toEqual(['start', 'goodbye:ShuttingDown', 'stop'])
    expect(h.solver.stop).toHaveBeenCalledTimes(1)
    expect(h.peer.node).toBe(node)
  })

  it('stops a node whose start was still under way when stop() came', async () => {
    let release = (): void => {}
    const h = harness({ relays: [RELAY] }, {}, new Promise<void>(resolve => { release = resolve }))
    const starting = h.peer.start()
    await vi.waitFor(() => { expect(h.nodes[0]?.calls).toEqual(['start']) })
    const stopping = h.peer.stop()
    release()
    await expect(starting).rejects.toThrow('stopped')
    await stopping
    expect(h.nodes[0]?.calls.filter(c => c === 'stop').length).toBeGreaterThanOrEqual(1)
    expect(h.nodes[0]?.calls.at(-1)).toBe('stop')
    expect(h.phases.map(p => p.phase)).not.toContain('running')
  })

  it('aborting the start\'s signal stops the peer', async () => {
    const controller = new AbortController()
    const h = harness({ statusUrl: 'http://relay.test/status' }, {
      locate: async (_url, signal) => await new Promise<string>((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }) })
    })
    const starting = h.peer.start({ signal: controller.signal })
    await vi.waitFor(() => { expect(h.peer.phase).toBe('locating') })
    controller.abort()
    await expect(starting).rejects.toThrow('stopped')
    expect(h.peer.phase).toBe('stopped')
    expect(h.phases.map(p => p.phase)).not.toContain('failed')
  })
})
