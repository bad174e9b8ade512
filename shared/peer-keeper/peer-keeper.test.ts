import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { describe, expect, it, vi } from 'vitest'
import { InvalidPeerRecordError } from '../local-node/index.ts'
import { deserializePeers, memoryKeeperStore, serializePeers } from './keeper-store.ts'
import { MAX_SCORE, MIN_SCORE } from './kept-peer.ts'
import { PeerKeeper } from './peer-keeper.ts'
import type { KeeperStore } from './keeper-store.ts'
import type { NodeRole } from '../peer-session/index.ts'
import type { PeerKeeperComponents } from './peer-keeper.ts'
import type { PrivateKey } from '@libp2p/interface'

async function keeper (init: { maxPeers?: number, store?: KeeperStore, maxPerSource?: number, saveDelay?: number } = {}, events = new TypedEventEmitter(), stored?: Uint8Array, openSessions: () => unknown[] = () => []): Promise<PeerKeeper> {
  const sessions = Object.assign(new TypedEventEmitter(), { list: openSessions })
  const components = {
    peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
    peerStore: { consumePeerRecord: async () => true, get: async () => ({ peerRecordEnvelope: stored }) },
    events,
    logger: defaultLogger(),
    sessions
  } as unknown as PeerKeeperComponents
  const k = new PeerKeeper(components, { saveDelay: 0, ...init })
  await k.start()
  return k
}

async function record (key: PrivateKey, addrs: string[], seq?: bigint, about?: PrivateKey): Promise<Uint8Array> {
  const peerId = peerIdFromPrivateKey(about ?? key)
  const envelope = await RecordEnvelope.seal(new PeerRecord({ peerId, multiaddrs: addrs.map(a => multiaddr(a)), ...(seq != null ? { seqNumber: seq } : {}) }), key)
  return envelope.marshal()
}

async function add (k: PeerKeeper, roles: NodeRole[] = ['tab']): Promise<{ id: string, key: PrivateKey }> {
  const key = await generateKeyPair('Ed25519')
  const kept = await k.addRecord(await record(key, ['/ip4/10.0.0.1/tcp/1']), { roles, source: 'test' })
  return { id: kept?.id ?? '', key }
}

describe('PeerKeeper', () => {
  it('keeps addresses from signed records only, and refuses forged or garbled ones', async () => {
    const k = await keeper()
    const key = await generateKeyPair('Ed25519')
    const kept = await k.addRecord(await record(key, ['/ip4/10.0.0.1/tcp/4001/ws']), { roles: ['relay'], source: 'test' })
    expect(kept?.multiaddrs).toEqual(['/ip4/10.0.0.1/tcp/4001/ws'])
    expect(kept?.roles).toEqual(['relay'])

    // a record about someone else, signed by this key: a classic eclipse attempt
    const victim = await generateKeyPair('Ed25519')
    await expect(k.addRecord(await record(key, ['/ip4/6.6.6.6/tcp/1'], undefined, victim), { source: 'test' })).rejects.toThrow(InvalidPeerRecordError)
    await expect(k.addRecord(new Uint8Array([1, 2, 3, 4]), { source: 'test' })).rejects.toThrow()
    const tampered = await record(key, ['/ip4/10.0.0.2/tcp/1'])
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff
    await expect(k.addRecord(tampered, { source: 'test' })).rejects.toThrow()
    expect(k.size).toBe(1)
    expect(k.get(peerIdFromPrivateKey(victim).toString())).toBeUndefined()
  })

  it('never lets an older record replace a newer one', async () => {
    const k = await keeper()
    const key = await generateKeyPair('Ed25519')
    await k.addRecord(await record(key, ['/ip4/10.0.0.9/tcp/9'], 10n), { source: 'test' })
    await k.addRecord(await record(key, ['/ip4/10.0.0.1/tcp/1'], 5n), { source: 'test' })
    expect(k.get(peerIdFromPrivateKey(key).toString())?.multiaddrs).toEqual(['/ip4/10.0.0.9/tcp/9'])
  })

  it('scores peers within bounds', async () => {
    const k = await keeper()
    const { id } = await add(k)
    k.note(id, 'session')
    expect(k.get(id)?.score).toBe(1)
    k.note(id, 'misbehaved')
    expect(k.get(id)?.score).toBe(-4)
    for (let i = 0; i < 20; i++) k.note(id, 'misbehaved')
    expect(k.get(id)?.score).toBe(MIN_SCORE)
    for (let i = 0; i < 100; i++) k.note(id, 'session')
    expect(k.get(id)?.score).toBe(MAX_SCORE)
  })

  it('stays bounded, forgetting low-score tabs before relays and seeds', async () => {
    const k = await keeper({ maxPeers: 3 })
    const relay = await add(k, ['relay'])
    const seed = await add(k, ['tab'])
    k.markSeed(seed.id)
    const bad = await add(k, ['tab'])
    k.note(bad.id, 'misbehaved')
    const good = await add(k, ['tab'])
    k.note(good.id, 'session')
    expect(k.size).toBe(3)
    expect(k.get(bad.id)).toBeUndefined()
    for (const p of [relay, seed, good]) expect(k.get(p.id)).toBeDefined()
  })

  it('writes a newly verified relay at once and batches the rest, so a reload right after joining keeps it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    try {
      const store = memoryKeeperStore()
      const k = await keeper({ store, saveDelay: 60_000 })
      const tab = await add(k, ['tab'])
      await vi.advanceTimersByTimeAsync(1_000)
      expect(store.saved).toEqual([])
      const relay = await add(k, ['relay'])
      await vi.advanceTimersByTimeAsync(0)
      expect(store.saved.map(p => p.id).sort()).toEqual([tab.id, relay.id].sort())
      // a relay known already, seen again, waits for the batch
      k.note(relay.id, 'session')
      await vi.advanceTimersByTimeAsync(1_000)
      expect(store.saved.find(p => p.id === relay.id)?.score).toBe(0)
      await vi.advanceTimersByTimeAsync(60_000)
      expect(store.saved.find(p => p.id === relay.id)?.score).toBe(1)
      await k.stop()
    } finally {
      vi.useRealTimers()
    }
  })

  it('writes a relay at once when dialing it verifies it (how a tab usually learns one)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    try {
      const store = memoryKeeperStore()
      const events = new TypedEventEmitter()
      const k = await keeper({ store, saveDelay: 60_000 }, events)
      // heard of, not yet verified: batched
      const heard = await add(k, [])
      await vi.advanceTimersByTimeAsync(1_000)
      expect(store.saved).toEqual([])
      const sessions = (k as unknown as { components: { sessions: TypedEventEmitter<any> } }).components.sessions
      sessions.safeDispatchEvent('session:open', { detail: { remotePeer: heard.id, dialer: true, kind: 'websocket', remoteHello: { roles: ['relay'] } } })
      await vi.advanceTimersByTimeAsync(0)
      expect(store.saved.find(p => p.id === heard.id)?.verified).toEqual(['relay'])
      // a relay that only says so, having dialed us, proves nothing and waits for the batch
      const other = await add(k, [])
      await vi.advanceTimersByTimeAsync(0)
      const before = store.saved.length
      sessions.safeDispatchEvent('session:open', { detail: { remotePeer: other.id, dialer: false, kind: 'websocket', remoteHello: { roles: ['relay'] } } })
      await vi.advanceTimersByTimeAsync(1_000)
      expect(store.saved.length).toBe(before)
      await k.stop()
    } finally {
      vi.useRealTimers()
    }
  })

  it('persists records and re-verifies them on load; damaged entries are dropped', async () => {
    const store = memoryKeeperStore()
    const first = await keeper({ store })
    const relay = await add(first, ['relay'])
    first.note(relay.id, 'session')
    await first.stop()
    expect(store.saved.map(p => p.id)).toEqual([relay.id])

    const second = await keeper({ store })
    expect(second.get(relay.id)).toMatchObject({ roles: ['relay'], score: 1, multiaddrs: ['/ip4/10.0.0.1/tcp/1'] })

    // a record damaged on disk is not trusted
    const damaged = deserializePeers(serializePeers(store.saved))
    const env = damaged[0]?.envelope
    if (env != null) env[env.length - 1] = (env[env.length - 1] ?? 0) ^ 0xff
    store.saved = damaged
    const third = await keeper({ store })
    expect(third.size).toBe(0)
    expect(deserializePeers('not json')).toEqual([])
    expect(deserializePeers('[{"id":1}]')).toEqual([])
  })

  it('takes roles only from what it verified, or from relays it verified, and no source fills it alone', async () => {
    const k = await keeper({ maxPerSource: 3 })
    const verified = await add(k, ['relay'])
    expect(k.isVerifiedRelay(verified.id)).toBe(true)
    const claimant = await add(k, [])
    // a peer we never checked says its friends are relays: kept with no role at all
    const key = await generateKeyPair('Ed25519')
    const fake = await k.addRecord(await record(key, ['/ip4/10.6.6.6/tcp/1']), { roles: ['relay'], source: 'pex', via: claimant.id })
    expect(fake?.roles).toEqual([])
    expect(k.relays().map(r => r.id)).toEqual([verified.id])
    // a relay we verified vouches: its word counts, but it stays a vouched relay, not a verified one
    const vouched = await k.addRecord(await record(await generateKeyPair('Ed25519'), ['/ip4/10.0.0.7/tcp/1']), { roles: ['relay'], source: 'pex', via: verified.id })
    expect(vouched?.roles).toEqual(['relay'])
    expect(k.isVerifiedRelay(vouched?.id ?? '')).toBe(false)
    // each source adds only so many peers we have not verified
    for (let i = 0; i < 5; i++) await k.addRecord(await record(await generateKeyPair('Ed25519'), ['/ip4/10.0.0.8/tcp/1']), { roles: ['tab'], source: 'pex', via: verified.id })
    expect(k.list().filter(p => p.via === verified.id)).toHaveLength(3)
    expect(k.refusedFromSources).toBe(3)
  })

  it('forgets what it never verified first', async () => {
    const k = await keeper({ maxPeers: 3 })
    const relay = await add(k, ['relay'])
    const vouched = await k.addRecord(await record(await generateKeyPair('Ed25519'), ['/ip4/10.0.0.9/tcp/1']), { roles: ['relay'], source: 'pex', via: relay.id })
    const tab = await add(k, ['tab'])
    // a fourth: the vouched relay goes before the verified tab and relay
    await add(k, ['tab'])
    expect(k.get(vouched?.id ?? '')).toBeUndefined()
    for (const p of [relay, tab]) expect(k.get(p.id)).toBeDefined()
  })

  it('checks many peers for a verified relay at once as it checks one', async () => {
    const open: unknown[] = []
    const k = await keeper({}, new TypedEventEmitter(), undefined, () => open)
    const relay = await add(k, ['relay'])
    const tab = await add(k, ['tab'])
    const dialed = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const claimant = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    // a relay we dialed that answered as one counts before its record arrives; one that dialed us does not
    open.push({ remotePeer: dialed, dialer: true, kind: 'websocket', remoteHello: { roles: ['relay'] } })
    open.push({ remotePeer: claimant, dialer: false, kind: 'websocket', remoteHello: { roles: ['relay'] } })
    const check = k.verifiedRelays()
    const ids = [relay.id, tab.id, dialed, claimant, 'someone-else']
    expect(ids.map(check)).toEqual([true, false, true, false, false])
    expect(ids.map(check)).toEqual(ids.map(id => k.isVerifiedRelay(id)))
  })

  it('keeps nothing from connections that never got a session', async () => {
    const events = new TypedEventEmitter<any>()
    const key = await generateKeyPair('Ed25519')
    const envelope = await record(key, ['/ip4/10.0.0.1/tcp/1'])
    // identify has the stranger's record in the peer store already
    const k = await keeper({}, events, envelope)
    events.safeDispatchEvent('peer:identify', { detail: { peerId: peerIdFromPrivateKey(key), signedPeerRecord: { envelope } } })
    await new Promise(resolve => setTimeout(resolve, 0))
    expect(k.size).toBe(0)
  })
})
