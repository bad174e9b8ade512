import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { describe, expect, it } from 'vitest'
import { InvalidPeerRecordError } from '../local-node/peer-record.ts'
import { deserializePeers, memoryKeeperStore, serializePeers } from './keeper-store.ts'
import { MAX_SCORE, MIN_SCORE } from './kept-peer.ts'
import { PeerKeeper } from './peer-keeper.ts'
import type { KeeperStore } from './keeper-store.ts'
import type { NodeRole } from '../peer-session/session-codec.ts'
import type { PeerKeeperComponents } from './peer-keeper.ts'
import type { PrivateKey } from '@libp2p/interface'

async function keeper (init: { maxPeers?: number, store?: KeeperStore } = {}): Promise<PeerKeeper> {
  const sessions = Object.assign(new TypedEventEmitter(), { list: () => [] })
  const components = {
    peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
    peerStore: { consumePeerRecord: async () => true, get: async () => ({}) },
    events: new TypedEventEmitter(),
    logger: defaultLogger(),
    sessions
  } as unknown as PeerKeeperComponents
  const k = new PeerKeeper(components, { ...init, saveDelay: 0 })
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
})
