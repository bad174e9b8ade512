import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { describe, expect, it } from 'vitest'
import { PeerKeeper } from './peer-keeper.ts'
import { PexAnswers } from './pex-answers.ts'
import type { PeerKeeperComponents } from './peer-keeper.ts'
import type { NodeRole } from '../peer-session/index.ts'

async function keeper (): Promise<PeerKeeper> {
  const components = {
    peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
    peerStore: { consumePeerRecord: async () => true, get: async () => ({}) },
    events: new TypedEventEmitter(),
    logger: defaultLogger(),
    sessions: Object.assign(new TypedEventEmitter(), { list: () => [] })
  } as unknown as PeerKeeperComponents
  const k = new PeerKeeper(components, { saveDelay: 0 })
  await k.start()
  return k
}

async function add (k: PeerKeeper, roles: NodeRole[], via?: string): Promise<string> {
  const key = await generateKeyPair('Ed25519')
  const envelope = await RecordEnvelope.seal(new PeerRecord({ peerId: peerIdFromPrivateKey(key), multiaddrs: [multiaddr('/ip4/10.0.0.1/tcp/1')] }), key)
  return (await k.addRecord(envelope.marshal(), { roles, source: 'test', ...(via != null ? { via } : {}) }))?.id ?? ''
}

describe('PexAnswers', () => {
  it('hands out verified relays and recent peers, never the asker, and a relay claim only when verified', async () => {
    const k = await keeper()
    const relay = await add(k, ['relay'])
    const tab = await add(k, ['tab'])
    // vouched for by the tab alone: passed on as nothing more than what was checked
    const claimed = await add(k, ['relay'], tab)
    const answers = new PexAnswers(k, { maxAge: 60_000 })
    expect(answers.answer(tab, ['relay'], 32).map(c => c.id)).toEqual([relay])
    expect(answers.answer(relay, [], 32).map(c => c.id).sort()).toEqual([tab].sort())
    expect(answers.answer('someone', [], 32).map(c => c.id)).not.toContain(claimed)
    expect(answers.answer('someone', [], 1)).toHaveLength(1)
    await k.stop()
  })

  it('ranks once for many askers, and again once the kept peers change', async () => {
    const k = await keeper()
    const first = await add(k, ['relay'])
    const answers = new PexAnswers(k, { maxAge: 60_000, reuseFor: 60_000 })
    k.addEventListener('keeper:update', answers.clear)
    const a = answers.answer('x', ['relay'], 32)
    expect(answers.answer('y', ['relay'], 32)).toEqual(a)
    const second = await add(k, ['relay'])
    expect(answers.answer('x', ['relay'], 32).map(c => c.id).sort()).toEqual([first, second].sort())
    await k.stop()
  })
})
