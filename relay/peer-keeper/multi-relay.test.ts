import { pEvent } from 'p-event'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryKeeperStore, recordKey } from '../../shared/peer-keeper/index.ts'
import { FAST_SESSION, startTestRelay } from '../testing/relays.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import type { DirectMessage } from '../../shared/messaging/index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import { tcpAddr as tcp, until } from '../testing/wait.ts'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'

const running: Array<{ stop: () => Promise<void> | void }> = []
afterEach(async () => { await Promise.all(running.splice(0).map(async n => { await n.stop() })) })

async function relay (seeds: Multiaddr[] = []): Promise<RelayNode> {
  return await startTestRelay(running, seeds)
}

async function peer (seeds: Multiaddr[], store = memoryKeeperStore(), interval = 1_000): Promise<NodePeer> {
  const node = await createNodePeer({ relays: seeds, session: FAST_SESSION, keeperStore: store, finder: { interval } })
  await node.start()
  running.push(node)
  return node
}

const reserved = (n: NodePeer): string[] => n.services.relays.status.filter(r => r.state === 'reserved').map(r => r.peerId ?? '')

describe('PeerKeeper across relays (real libp2p over TCP)', () => {
  it('relays join one network from seeds; peers on different relays find each other and keep two reservations', { timeout: 60_000 }, async () => {
    const r1 = await relay()
    const r2 = await relay([tcp(r1)])
    const r3 = await relay([tcp(r1)])
    // relays learn of each other through the seed (peer exchange, identify)
    await until(() => [r2, r3].every(r => r.services.keeper.relays().length >= 2), 'relays to know each other')

    const x = await peer([tcp(r2)])
    const y = await peer([tcp(r3)])
    // each started from one seed and found a second relay to reserve on
    await until(() => reserved(x).length === 2 && reserved(y).length === 2, 'two reservations each')
    expect(x.services.keeper.relays().map(r => r.id)).toEqual(expect.arrayContaining([r1.peerId.toString(), r2.peerId.toString(), r3.peerId.toString()]))

    // and found each other through the DHT rendezvous, with signed records only
    await until(() => x.services.keeper.get(y.peerId.toString())?.multiaddrs.some(a => a.includes('/p2p-circuit')) === true, 'x to find y')
    expect(x.services.keeper.get(y.peerId.toString())?.roles).toContain('node')
    const got = pEvent<'message', CustomEvent<DirectMessage>>(y.services.messaging, 'message', { timeout: 20_000 })
    const sent = await x.services.messaging.send(y.peerId, 'across relays')
    expect(sent.kind).toBe('relayed')
    expect((await got).detail.text).toBe('across relays')

    // a newcomer that never asked around can still look y up by ID in the DHT
    const w = await peer([tcp(r1)], memoryKeeperStore(), 3_600_000)
    await until(() => reserved(w).length >= 1, 'the newcomer to join')
    // ask the DHT itself (peer exchange may already have told w about y, which would hide a broken DHT path)
    let fromDht: PeerRecord | undefined
    for await (const event of w.services.dht.get(recordKey(y.peerId.toString()), { signal: AbortSignal.timeout(20_000) })) {
      if (event.name !== 'VALUE') continue
      // openAndCertify checks the signature; the record must be y's own
      fromDht = PeerRecord.createFromProtobuf((await RecordEnvelope.openAndCertify(event.value, PeerRecord.DOMAIN)).payload)
      break
    }
    expect(fromDht?.peerId.toString()).toBe(y.peerId.toString())
    expect(fromDht?.multiaddrs.some(a => a.toString().includes('/p2p-circuit'))).toBe(true)
    const found = await w.services.finder.lookup(y.peerId.toString())
    expect(found?.multiaddrs.some(a => a.includes('/p2p-circuit'))).toBe(true)
  })

  it('a restarted peer finds its way back from kept records when its seeds are down', { timeout: 60_000 }, async () => {
    const r1 = await relay()
    const r2 = await relay([tcp(r1)])
    await until(() => r2.services.keeper.relays().length >= 1 && r1.services.keeper.relays().length >= 1, 'relays to know each other')
    const store = memoryKeeperStore()
    const first = await peer([tcp(r1)], store)
    await until(() => first.services.keeper.relays().length === 2 && reserved(first).length === 2, 'two relays kept')
    await first.stop()
    expect(store.saved.map(p => p.id)).toEqual(expect.arrayContaining([r1.peerId.toString(), r2.peerId.toString()]))

    // the only seed goes away; the relay it learned of stays up
    const seed = tcp(r1)
    await r1.stop()
    const again = await peer([seed], store)
    await until(() => reserved(again).includes(r2.peerId.toString()), 'a reservation on the kept relay', 30_000)
  })
})
