import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { verifySolution } from '../../shared/hashcash/index.ts'
import { sessionManager } from '../../shared/peer-session/index.ts'
import { startTestRelay } from '../testing/relays.ts'
import { createNodeHashcashSolver } from '../hashcash/node-solver.ts'
import { tcpAddr, until } from '../testing/wait.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { Multiaddr } from '@multiformats/multiaddr'

const running: Array<{ stop: () => Promise<void> | void }> = []
afterEach(async () => { await Promise.all(running.splice(0).map(async n => { await n.stop() })) })

async function relay (seeds: Multiaddr[] = []): Promise<RelayNode> {
  return await startTestRelay(running, seeds)
}

describe('relays check who is a relay', () => {
  it('dial back a relay that dialed them, and relays another relay vouched for; a liar that does not listen stays unverified', async () => {
    const r1 = await relay()
    const r2 = await relay([tcpAddr(r1)])
    const r3 = await relay([tcpAddr(r1)])
    // r1 was dialed by both: it checks each at its own address
    await until(() => r1.services.keeper.isVerifiedRelay(r2.peerId.toString()) && r1.services.keeper.isVerifiedRelay(r3.peerId.toString()), 'r1 to verify r2 and r3')
    expect(r1.services.relayProbe.verified).toBeGreaterThanOrEqual(2)
    // r2 heard of r3 only from r1, and checked it before passing it on
    await until(() => r2.services.keeper.isVerifiedRelay(r3.peerId.toString()), 'r2 to verify r3')

    // a peer that says "relay" in its Hello but listens nowhere
    const solver = createNodeHashcashSolver({ workers: 1 })
    running.push({ stop: async () => { await solver.stop() } })
    const liar = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { sessions: sessionManager({ roles: ['relay'], verify: verifySolution, solver }), identify: identify() } })
    running.push(liar)
    const before = r1.services.relayProbe.failed
    const conn = await liar.dial(tcpAddr(r1))
    await liar.services.sessions.ensure(conn)
    await until(() => r1.services.relayProbe.failed > before, 'r1 to give up on the liar', 20_000)
    expect(r1.services.keeper.isVerifiedRelay(liar.peerId.toString())).toBe(false)
    expect(r1.services.keeper.get(liar.peerId.toString())?.roles ?? []).not.toContain('relay')
  })
})
