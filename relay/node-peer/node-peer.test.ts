import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { pEvent } from 'p-event'
import { toString as toBase64 } from 'uint8arrays/to-string'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidMessageError } from '../../shared/errors.ts'
import { DIRECTORY_PROTOCOL, MESSAGE_PROTOCOL } from '../../shared/wire/index.ts'
import { verifySolution } from '../../shared/hashcash/index.ts'
import { sessionManager } from '../../shared/peer-session/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodeHashcashSolver } from '../hashcash/node-solver.ts'
import { until } from '../testing/wait.ts'
import { createNodePeer } from './create-node-peer.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer } from './create-node-peer.ts'
import type { DirectMessage } from '../../shared/messaging/index.ts'
import type { Libp2p } from '@libp2p/interface'

// proof of work is exercised by its own tests; keep these fast
const LOW_DIFFICULTY = { difficulty: { base: 4, max: 8 } }

let relay: RelayNode
let a: NodePeer
let b: NodePeer
const extra: Array<{ stop: () => Promise<void> | void }> = []

function tcpAddr (node: Libp2p): string {
  const addr = node.getMultiaddrs().find(ma => ma.toString().startsWith('/ip4/127.0.0.1/tcp/') && !ma.toString().includes('/ws'))
  if (addr == null) throw new Error('no TCP address')
  return addr.toString()
}

beforeEach(async () => {
  relay = await createRelayNode({ privateKey: await generateKeyPair('Ed25519'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, session: LOW_DIFFICULTY })
  await relay.start()
  a = await createNodePeer({ relays: [tcpAddr(relay)], session: LOW_DIFFICULTY })
  b = await createNodePeer({ relays: [tcpAddr(relay)], session: LOW_DIFFICULTY })
  await Promise.all([a.start(), b.start()])
  await until(() => [a, b].every(n => n.services.relays.status[0]?.state === 'reserved'), 'reservations')
  // listed with the circuit address their reservation gave them
  const reachable = (from: NodePeer, to: NodePeer): boolean => from.services.directory.peers.some(p => p.id.equals(to.peerId) && p.multiaddrs.some(ma => ma.toString().includes('/p2p-circuit')))
  await until(() => reachable(a, b) && reachable(b, a), 'directory listings')
})

afterEach(async () => {
  await Promise.all([...extra.splice(0), a, b, relay].map(async n => { await n.stop() }))
})

describe('Node peers through a real relay over TCP', () => {
  it('list each other with addresses from signed records, and message through the relay', async () => {
    const listed = a.services.directory.peers.find(p => p.id.equals(b.peerId))
    expect(listed?.role).toBe('node')
    expect(listed?.multiaddrs.some(ma => ma.toString().includes(`/p2p/${relay.peerId.toString()}/p2p-circuit`))).toBe(true)
    expect(relay.services.relay.reservations.size).toBe(2)

    const received = pEvent<'message', CustomEvent<DirectMessage>>(b.services.messaging, 'message')
    const result = await a.services.messaging.send(b.peerId, 'over the relay')
    expect(result.kind).toBe('relayed')
    const message = (await received).detail
    expect(message).toMatchObject({ from: a.peerId.toString(), text: 'over the relay', kind: 'relayed' })
  })

  it('refuses garbage on the message protocol and keeps serving', async () => {
    const refusals: Error[] = []
    b.services.messaging.addEventListener('message:refused', (evt) => { refusals.push(evt.detail.error) })
    const conn = await a.dial(b.peerId)
    const payloads = [
      new TextEncoder().encode('{"v":1,"type":"text"'),
      new Uint8Array([0xff, 0xfe, 0x00, 0x01]),
      new TextEncoder().encode(JSON.stringify({ v: 1, type: 'text', id: 'x', text: 42, sentAt: 0 }))
    ]
    for (const payload of payloads) {
      const stream = await conn.newStream(MESSAGE_PROTOCOL, { runOnLimitedConnection: true })
      await lpStream(stream).write(payload)
      await pEvent(stream, 'close')
    }
    // a length prefix far past the cap is refused before any buffering
    const big = await conn.newStream(MESSAGE_PROTOCOL, { runOnLimitedConnection: true })
    big.send(new Uint8Array([0xa0, 0x8d, 0x06])) // varint 100_000 > 16 KiB cap
    await pEvent(big, 'close')
    await until(() => refusals.length === 4, 'four refusals')
    expect(refusals.slice(0, 3).every(e => e instanceof InvalidMessageError)).toBe(true)
    expect(refusals[3]?.name).toBe('InvalidDataLengthError')

    const received = pEvent<'message', CustomEvent<DirectMessage>>(b.services.messaging, 'message')
    await a.services.messaging.send(b.peerId, 'still here?')
    expect((await received).detail.text).toBe('still here?')
  })

  it('ignores directory entries whose record is forged, and survives a garbage directory', async () => {
    // a fake relay that vouches for peer A with its own record
    const key = await generateKeyPair('Ed25519')
    const fake = await createLibp2p({
      privateKey: key,
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        sessions: sessionManager({ roles: ['relay'], verify: verifySolution, solver: createNodeHashcashSolver({ workers: 1 }), difficulty: { base: 4 } }),
        identify: identify()
      }
    })
    extra.push(fake)
    await fake.start()
    const fakeRecord = await RecordEnvelope.seal(new PeerRecord({ peerId: peerIdFromPrivateKey(key), multiaddrs: [multiaddr('/ip4/10.9.9.9/tcp/1')] }), key)
    const forged = { id: a.peerId.toString(), role: 'tab', record: toBase64(fakeRecord.marshal(), 'base64'), since: 1 }
    const honest = { id: fake.peerId.toString(), role: 'node', record: toBase64(fakeRecord.marshal(), 'base64'), since: 1 }
    let sendGarbage: (() => void) | undefined
    await fake.handle(DIRECTORY_PROTOCOL, async (stream) => {
      const lp = lpStream(stream)
      await lp.read()
      await lp.write(new TextEncoder().encode(JSON.stringify({ v: 1, type: 'peers', peers: [forged, honest] })))
      sendGarbage = () => { void lp.write(new TextEncoder().encode('}{ not json')) }
    })
    await b.dial(fake.getMultiaddrs())
    const fakeId = fake.peerId.toString()
    await until(() => b.services.directory.peers.some(p => p.via.some(v => v.relay === fakeId)), 'the fake directory to be read')
    const viaFake = b.services.directory.peers.filter(p => p.via.some(v => v.relay === fakeId))
    expect(viaFake.map(p => p.id.toString())).toEqual([fakeId])
    expect(viaFake[0]?.multiaddrs.map(String)).toEqual(['/ip4/10.9.9.9/tcp/1'])

    sendGarbage?.()
    await until(() => !b.services.directory.peers.some(p => p.via.some(v => v.relay === fakeId)), 'the fake directory to be dropped')
    // the real relay's listing is untouched
    expect(b.services.directory.peers.some(p => p.id.equals(a.peerId))).toBe(true)
  })
})
