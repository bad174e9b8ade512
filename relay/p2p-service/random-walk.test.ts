import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { DHT_PROTOCOL } from '../../shared/wire/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import type { StreamHandler } from '@libp2p/interface'

const FAST = { difficulty: { base: 4, max: 6 } }
const running: Array<{ stop: () => Promise<void> | void }> = []
afterEach(async () => { await Promise.all(running.splice(0).map(async n => { await n.stop() })) })

describe('the relay search of a peer that wants two relays where there is one (real libp2p over TCP)', () => {
  it('paces its DHT walk: the lone relay sees a few queries, never a flood, and keeps the peer', { timeout: 60_000 }, async () => {
    const relay = await createRelayNode({ privateKey: await generateKeyPair('Ed25519'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, session: FAST })
    await relay.start()
    running.push(relay)
    // count the DHT streams the relay is asked to serve (after the session gate, so only verified ones)
    const registrar = (relay as any).components.registrar
    const { handler, options } = registrar.getHandler(DHT_PROTOCOL) as { handler: StreamHandler, options: object }
    let streams = 0
    await registrar.handle(DHT_PROTOCOL, (async (stream, conn) => { streams++; await handler(stream, conn) }) satisfies StreamHandler, { ...options, force: true })

    // maxRelays 2 (the default) with one relay on the network: the circuit relay transport keeps searching
    const peer = await createNodePeer({ relays: [tcpAddr(relay)], session: FAST })
    await peer.start()
    running.push(peer)
    await until(() => peer.services.relays.status.some(r => r.state === 'reserved'), 'a reservation')
    await until(() => streams > 0, 'the walk to query the relay')

    // libp2p's own walk asked several hundred times a second here; a paced one a few times in all
    const before = streams
    await new Promise(resolve => setTimeout(resolve, 3_000))
    expect(streams - before).toBeLessThan(10)
    expect(relay.services.sessions.stats.refusals['rate-limited'] ?? 0).toBe(0)
    expect(peer.services.relays.status.filter(r => r.state === 'reserved')).toHaveLength(1)
  })
})
