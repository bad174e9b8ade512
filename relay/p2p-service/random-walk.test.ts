import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DHT_PROTOCOL } from '../../shared/wire/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import type { PeerRouting, StreamHandler } from '@libp2p/interface'

const FAST = { difficulty: { base: 4, max: 6 } }
const running: Array<{ stop: () => Promise<void> | void }> = []
afterEach(async () => {
  await Promise.all(running.splice(0).map(async n => { await n.stop() }))
  vi.useRealTimers()
})

describe('the relay search of a peer that wants two relays where there is one (real libp2p over TCP)', () => {
  it('paces its DHT walk: the lone relay sees a few queries, never a flood, and keeps the peer', { timeout: 60_000 }, async () => {
    // the walk pauses on setTimeout: the test owns the clock. It runs on by itself (libp2p's own timers,
    // its queues' debounces, must keep going), and the test leaps it over the walk's pauses
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true })
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
    // each step of the walk is one getClosestPeers query: when (on the test's clock) each began and ended
    const routing = (peer as any).components.peerRouting as PeerRouting
    const query = routing.getClosestPeers.bind(routing)
    const began: number[] = []
    const ended: number[] = []
    routing.getClosestPeers = async function * (key, opts) {
      began.push(Date.now())
      try {
        yield * query(key, opts)
      } finally {
        ended.push(Date.now())
      }
    }
    await peer.start()
    running.push(peer)
    await until(() => peer.services.relays.status.some(r => r.state === 'reserved'), 'a reservation')
    await until(() => ended.length > 0 && streams > 0, 'the walk to query the relay')

    // libp2p's own walk started its next query the moment one ended (several hundred a second here);
    // a paced one waits at least a second after each (longer while it finds nobody new), however
    // far the clock leaps, and each step costs the relay a few streams
    const before = streams
    const first = began.length
    const steps = 3
    for (let step = first; step < first + steps; step++) {
      await until(() => ended.length >= step, `walk step ${step} to end`)
      // the longest pause is a minute
      for (let leapt = 0; began.length === step && leapt <= 60_000; leapt += 100) await vi.advanceTimersByTimeAsync(100)
      expect(began.length, `walk step ${step + 1} to begin`).toBe(step + 1)
      const pause = (began[step] as number) - (ended[step - 1] as number)
      expect(pause, `pause before walk step ${step + 1}`).toBeGreaterThanOrEqual(1_000)
    }
    expect(streams - before).toBeLessThanOrEqual(5 * steps)
    expect(relay.services.sessions.stats.refusals['rate-limited'] ?? 0).toBe(0)
    expect(peer.services.relays.status.filter(r => r.state === 'reserved')).toHaveLength(1)
  })
})
