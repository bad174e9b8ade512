import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { pEvent } from 'p-event'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { verifySolution } from '../../shared/hashcash/index.ts'
import { messaging } from '../../shared/messaging/index.ts'
import { createConnectionGater } from '../../shared/p2p-service/index.ts'
import { BanList, SessionClosedError, sessionManager, UnverifiedSessionError } from '../../shared/peer-session/index.ts'
import { MESSAGE_PROTOCOL, SESSION_PROTOCOL } from '../../shared/wire/index.ts'
import { CLIENT_VERSION, PROTOCOL_VERSION } from '../../shared/version.ts'
import { createNodeHashcashSolver } from '../hashcash/node-solver.ts'
import type { HashcashSolver } from '../../shared/hashcash/index.ts'
import type { Messaging } from '../../shared/messaging/index.ts'
import type { ChallengeSolver } from '../../shared/peer-session/index.ts'
import type { SessionManager, SessionManagerEvents, SessionManagerInit } from '../../shared/peer-session/index.ts'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'

type Node = Libp2p<{ sessions: SessionManager, messaging: Messaging }>

let pool: HashcashSolver
const nodes: Node[] = []

beforeAll(async () => {
  pool = createNodeHashcashSolver({ workers: 1 })
  await pool.start()
})
afterAll(async () => { await pool.stop() })
afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(nodes.splice(0).map(async n => { await n.stop() }))
})

async function node (session: Partial<SessionManagerInit> = {}): Promise<Node> {
  const banList = new BanList()
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: createConnectionGater({ banList }),
    // strangers below dial faster than libp2p's 5 connections per second per host
    connectionManager: { inboundConnectionThreshold: 100 },
    services: {
      sessions: sessionManager({ roles: ['node'], verify: verifySolution, solver: pool, difficulty: { base: 10, max: 12 }, banList, ...session }),
      identify: identify(),
      messaging: messaging({ timeout: 3_000, queue: { ttl: 5_000, retry: { initialDelay: 100, maxDelay: 200 } } })
    }
  })
  nodes.push(n)
  return n
}

async function next<K extends keyof SessionManagerEvents> (n: Node, event: K): Promise<SessionManagerEvents[K]['detail']> {
  return (await pEvent(n.services.sessions, event, { timeout: 15_000 }) as SessionManagerEvents[K]).detail
}

/** The pool's solver, except that the challenges `stalls` picks (by their number, from 1) are never solved: a handshake that hangs until aborted. */
function stallingSolver (stalls: (n: number) => boolean): ChallengeSolver & { solves: number } {
  const solver = {
    solves: 0,
    solve: async (...[challenge, difficulty, options]: Parameters<ChallengeSolver['solve']>) => {
      if (!stalls(++solver.solves)) return await pool.solve(challenge, difficulty, options)
      return await new Promise<never>((resolve, reject) => { options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }) })
    }
  }
  return solver
}

describe('PeerSession handshake over real TCP', () => {
  it('verifies the dialer with the listener\'s proof of work, both sides see the session', async () => {
    const [a, b] = [await node(), await node()]
    const opened = [next(a, 'session:open'), next(b, 'session:open')]
    const challenged = next(a, 'session:challenge')
    await a.dial(b.getMultiaddrs())
    const [sa, sb] = await Promise.all(opened)
    expect((await challenged).difficulty).toBe(10)
    expect(sa?.dialer).toBe(true)
    expect(sb?.dialer).toBe(false)
    expect(sa?.remoteHello.roles).toEqual(['node'])
    expect(sb?.remotePeer).toBe(a.peerId.toString())
    const got = pEvent(b.services.messaging, 'message')
    await a.services.messaging.send(b.peerId, 'hello over a verified session')
    expect(((await got) as CustomEvent<{ text: string }>).detail.text).toBe('hello over a verified session')
    expect(Object.values(b.services.sessions.stats.refusals).every(n => n === 0)).toBe(true)
  })

  it('refuses a wrong solution, bans the peer, and keeps serving honest peers', async () => {
    const [honest, b] = [await node(), await node()]
    const wrong: ChallengeSolver = { solve: async () => ({ nonce: new Uint8Array(8).fill(0xab) }) }
    const cheat = await node({ solver: wrong })
    const refused = next(cheat, 'session:refused')
    await cheat.dial(b.getMultiaddrs()).catch(() => {})
    expect(await refused).toMatchObject({ reason: 'InvalidProof', remote: true })
    expect(b.services.sessions.counters.get('invalid-proof')).toBe(1)
    expect(b.services.sessions.banList.isBanned(cheat.peerId.toString())).toBe(true)
    // the ban holds: a new connection is cut before any session can form
    const again = await cheat.dial(b.getMultiaddrs(), { force: true }).catch(() => undefined)
    if (again != null && again.status === 'open') await pEvent(again, 'close', { timeout: 5_000 })
    expect(b.services.sessions.list().some(s => s.remotePeer === cheat.peerId.toString())).toBe(false)
    // honest traffic is unaffected
    await honest.dial(b.getMultiaddrs())
    await honest.services.messaging.send(b.peerId, 'still serving')
    // each side counts its handshakes by how they ended
    expect(b.services.sessions.stats.handshakes.inbound).toMatchObject({ verified: 1, abandoned: 0 })
    // the banned peer's second link may or may not get as far as a handshake before it is cut
    expect(b.services.sessions.stats.handshakes.inbound.refused).toBeGreaterThanOrEqual(1)
    expect(cheat.services.sessions.stats.handshakes.outbound).toMatchObject({ verified: 0, refused: 1 })
    expect(honest.services.sessions.list().find(s => s.remotePeer === b.peerId.toString())?.solveMs).toBeGreaterThanOrEqual(0)
  })

  it('refuses a solution to a foreign challenge', async () => {
    const b = await node()
    const foreign: ChallengeSolver = {
      solve: async (challenge, difficulty, options) => {
        const other = challenge.slice()
        other[0] = (other[0] ?? 0) ^ 0xff // solve some other challenge, e.g. one meant for another pair of peers
        return await pool.solve(other, difficulty, options)
      }
    }
    const cheat = await node({ solver: foreign })
    const refused = next(cheat, 'session:refused')
    await cheat.dial(b.getMultiaddrs()).catch(() => {})
    expect((await refused).reason).toBe('InvalidProof')
  })

  it('refuses a solution that arrives after the challenge expired', async () => {
    const b = await node({ challengeTtl: 150 })
    // the listener judges a solution by the clock (Date.now() against the challenge's expiresAt):
    // a fake Date lets the solve take 400 ms without waiting for them
    vi.useFakeTimers({ toFake: ['Date'] })
    const slow: ChallengeSolver = {
      solve: async (challenge, difficulty, options) => {
        vi.advanceTimersByTime(400)
        return await pool.solve(challenge, difficulty, options)
      }
    }
    const late = await node({ solver: slow })
    const refused = next(late, 'session:refused')
    await late.dial(b.getMultiaddrs()).catch(() => {})
    expect((await refused).reason).toBe('Timeout')
    expect(b.services.sessions.counters.get('expired-challenge')).toBe(1)
  })

  it('ends an incompatible major version with Disconnect(ProtocolVersion)', async () => {
    const b = await node()
    const future = await node({ protocolVersion: '2.0.0' })
    const refused = next(future, 'session:refused')
    await future.dial(b.getMultiaddrs()).catch(() => {})
    expect(await refused).toMatchObject({ reason: 'ProtocolVersion', remote: true })
    expect(b.services.sessions.counters.get('version-mismatch')).toBe(1)
  })

  it('refuses Golem Clay streams without a session and drops connections that never handshake', async () => {
    // two nodes, so no assertion races one timer against another on a slow machine:
    // the gate answers within 200 ms while the connection may live for a minute; the other drops silent connections at 500 ms
    const gated = await node({ handshakeTimeout: 60_000, gateWait: 200 })
    const strict = await node({ handshakeTimeout: 500 })
    const raw = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() } })
    try {
      const conn = await raw.dial(gated.getMultiaddrs())
      const stream = await conn.newStream(MESSAGE_PROTOCOL)
      await lpStream(stream).write(new TextEncoder().encode(JSON.stringify({ v: 1, type: 'text', id: 'x', text: 'sneaky', sentAt: 0 })))
      await pEvent(stream, 'close', { timeout: 20_000 })
      expect(gated.services.sessions.counters.get('unverified-stream')).toBe(1)
      expect(conn.status).toBe('open')
      expect(gated.services.sessions.counters.get('handshake-timeout') ?? 0).toBe(0)

      const silent = await raw.dial(strict.getMultiaddrs())
      await pEvent(silent, 'close', { timeout: 20_000 })
      expect(strict.services.sessions.counters.get('handshake-timeout')).toBe(1)
    } finally {
      await raw.stop()
    }
  })

  it('refuses sessions past the peer limit with TooManyPeers', async () => {
    const b = await node({ maxSessions: 1 })
    const [first, second] = [await node(), await node()]
    await first.dial(b.getMultiaddrs())
    await next(first, 'session:open').catch(() => {})
    await expect.poll(() => b.services.sessions.list().length).toBe(1)
    const refused = next(second, 'session:refused')
    await second.dial(b.getMultiaddrs()).catch(() => {})
    expect(await refused).toMatchObject({ reason: 'TooManyPeers', remote: true })
  })

  it('takes a new peer limit while running (a relay\'s SIGHUP): the next handshake gets the room, nobody is dropped', async () => {
    const b = await node({ maxSessions: 1 })
    const [first, second, third] = [await node(), await node(), await node()]
    await first.dial(b.getMultiaddrs())
    await expect.poll(() => b.services.sessions.list().length).toBe(1)
    b.services.sessions.setLimits({ maxSessions: 2, difficulty: { base: 5, max: 7 } })
    await second.dial(b.getMultiaddrs())
    await expect.poll(() => b.services.sessions.list().length).toBe(2)
    expect(b.services.sessions.stats.difficulty).toBeGreaterThanOrEqual(5)
    // lowered below what is held: the held stay, the next is refused
    b.services.sessions.setLimits({ maxSessions: 1 })
    const refused = next(third, 'session:refused')
    await third.dial(b.getMultiaddrs()).catch(() => {})
    expect(await refused).toMatchObject({ reason: 'TooManyPeers', remote: true })
    expect(b.services.sessions.list().length).toBe(2)
  })

  it('rate-limits a chatty peer per protocol', async () => {
    const b = await node({ perProtocol: { [MESSAGE_PROTOCOL]: { points: 2, duration: 1 } } })
    const a = await node()
    await a.dial(b.getMultiaddrs())
    await next(b, 'session:open')
    const sends = Array.from({ length: 6 }, async (_, i) => await a.services.messaging.send(b.peerId, `m${i}`))
    // refused deliveries are retried by the queue, so everything arrives in the end
    await Promise.all(sends)
    expect(b.services.sessions.counters.get('rate-limited')).toBeGreaterThan(0)
  })

  it('replaces an older session of the same kind with DuplicatePeer', async () => {
    const [a, b] = [await node(), await node()]
    await a.dial(b.getMultiaddrs())
    const firstSession = await next(a, 'session:open')
    const closed = pEvent(firstSession, 'session:end', { timeout: 15_000 })
    await a.dial(b.getMultiaddrs(), { force: true })
    expect(((await closed) as CustomEvent<{ reason: string }>).detail.reason).toBe('DuplicatePeer')
    await expect.poll(() => b.services.sessions.list().length).toBe(1)
    expect(b.services.sessions.counters.get('duplicate-peer')).toBe(1)
  })
})

describe('two links to one peer', () => {
  it('opens streams on the link whose session is verified, not on one still in its handshake', async () => {
    // the first link's handshake stalls, as a link two peers dialed at once can; the second gets the session
    const solver = stallingSolver(n => n === 1)
    const a = await node({ solver })
    const b = await node({ handshakeTimeout: 60_000 })
    const stalled = await a.dial(b.getMultiaddrs())
    await expect.poll(() => solver.solves).toBe(1)
    const opened = next(a, 'session:open')
    const verified = await a.dial(b.getMultiaddrs(), { force: true })
    await opened
    expect(a.getConnections(b.peerId).map(c => c.id)).toEqual([stalled.id, verified.id])
    expect(a.services.sessions.sessionOf(stalled)).toBe('pending')

    // the stalled link comes first, and its handshake would be waited on until the timeout
    const { connection, stream } = await a.services.sessions.open(b.peerId, MESSAGE_PROTOCOL, { timeout: 10_000 })
    expect(connection.id).toBe(verified.id)
    stream.abort(new Error('done'))
    const got = pEvent(b.services.messaging, 'message', { timeout: 10_000 })
    await a.services.messaging.send(b.peerId, 'over the verified link')
    expect(((await got) as CustomEvent<{ text: string }>).detail.text).toBe('over the verified link')
  })

  it('gets no second session on a link whose session was replaced: streams go over the newer one', async () => {
    const [a, b] = [await node(), await node()]
    const opened = next(a, 'session:open')
    const first = await a.dial(b.getMultiaddrs())
    const firstSession = await opened
    const replaced = pEvent(firstSession, 'session:end', { timeout: 15_000 })
    const second = await a.dial(b.getMultiaddrs(), { force: true })
    await replaced
    expect(a.services.sessions.sessionOf(first)).toBe('ended')
    await expect(a.services.sessions.open(first, MESSAGE_PROTOCOL, { timeout: 10_000 })).rejects.toThrow(SessionClosedError)
    expect((await a.services.sessions.open(b.peerId, MESSAGE_PROTOCOL, { timeout: 10_000 })).connection.id).toBe(second.id)
    // the newer link gone too: a new one is dialed, and the ended one is never handed back
    second.abort(new Error('gone'))
    const third = await a.services.sessions.open(b.peerId, MESSAGE_PROTOCOL, { timeout: 10_000 })
    expect([first.id, second.id]).not.toContain(third.connection.id)
  })

  it('waits for an inbound link\'s handshake no longer than the handshake timeout, whatever the caller allows', async () => {
    const b = await node({ handshakeTimeout: 1_000 })
    const s = await stranger()
    await s.dial(b.getMultiaddrs())
    await expect.poll(() => b.getConnections(s.peerId).length).toBe(1)
    const conn = b.getConnections(s.peerId)[0] as Connection
    // the stranger never starts its handshake: the wait ends with the handshake timeout, not the caller's 60 s
    await expect(b.services.sessions.open(conn, MESSAGE_PROTOCOL, { timeout: 60_000 })).rejects.toThrow(UnverifiedSessionError)
  })
})

describe('a peer leaving the network', () => {
  it('takes all its links along: a goodbye on one connection drops the links that carry no session', async () => {
    // the second handshake of `a` never finishes, as a duplicate link's can still be under way when the peer leaves
    const solver = stallingSolver(n => n > 1)
    const a = await node({ solver })
    const b = await node({ handshakeTimeout: 60_000 })
    await a.dial(b.getMultiaddrs())
    await next(a, 'session:open')
    const unverified = await a.dial(b.getMultiaddrs(), { force: true })
    await expect.poll(() => solver.solves).toBe(2)
    expect(a.getConnections(b.peerId)).toHaveLength(2)

    const ends: Array<{ reason: string, remote: boolean }> = []
    a.services.sessions.addEventListener('session:close', (evt) => { ends.push({ reason: evt.detail.reason, remote: evt.detail.remote }) })
    const dropped = pEvent(unverified, 'close', { timeout: 10_000 })
    b.services.sessions.list()[0]?.goodbye('ShuttingDown')
    await dropped
    await expect.poll(() => a.getConnections(b.peerId).length).toBe(0)
    expect(a.services.sessions.list()).toHaveLength(0)
    expect(ends).toEqual([{ reason: 'ShuttingDown', remote: true }])
  })
})

/** A bare libp2p node dialing from `host` (any 127.x.y.z is this machine): no session layer, to misbehave by hand. */
async function stranger (host = '127.0.0.1'): Promise<Libp2p> {
  // @ts-expect-error dialOpts go to net.connect, which takes localAddress; the typings omit it
  const n = await createLibp2p({ transports: [tcp({ dialOpts: { localAddress: host } })], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  strangers.push(n)
  return n
}
const strangers: Libp2p[] = []

/** Resolves once `conn` is closed (at once if it already is). */
async function closed (conn: Connection): Promise<void> {
  if (conn.status === 'closed') return
  await pEvent(conn, 'close', { timeout: 10_000 })
}
afterEach(async () => { await Promise.all(strangers.splice(0).map(async n => { await n.stop() })) })

/** Opens the session stream and sends a valid Hello, then reads the listener's Hello and challenge; never solves. */
async function helloOnly (from: Libp2p, to: Node): Promise<{ conn: Connection, stream: Stream, challenge: Record<string, any> }> {
  const conn = await from.dial(to.getMultiaddrs(), { force: true })
  const stream = await conn.newStream(SESSION_PROTOCOL)
  const lp = lpStream(stream)
  const hello = { v: 1, type: 'hello', protocolVersion: PROTOCOL_VERSION, clientVersion: CLIENT_VERSION, from: from.peerId.toString(), to: to.peerId.toString(), time: Date.now(), roles: ['node'], cores: 1, capabilities: [] }
  await lp.write(new TextEncoder().encode(JSON.stringify(hello)))
  await lp.read({ signal: AbortSignal.timeout(5_000) })
  const challenge = JSON.parse(new TextDecoder().decode((await lp.read({ signal: AbortSignal.timeout(5_000) })).subarray()))
  return { conn, stream, challenge }
}

describe('inbound handshakes are bounded in time and number', () => {
  it('a session stream with no Hello is dropped at the hello timeout; a Hello never solved, once its solve budget runs out', async () => {
    const b = await node({ helloTimeout: 300, solveBudget: { floor: 400, factor: 0 } })
    const s = await stranger()
    const mute = await s.dial(b.getMultiaddrs())
    await mute.newStream(SESSION_PROTOCOL)
    await closed(mute)
    expect(b.services.sessions.counters.get('handshake-timeout')).toBe(1)

    const { conn, challenge } = await helloOnly(s, b)
    // the challenge says how long the dialer has: the budget, not the minute of old
    expect(challenge.expiresAt - Date.now()).toBeLessThanOrEqual(400)
    await closed(conn)
    expect(b.services.sessions.counters.get('expired-challenge')).toBe(1)
    expect(b.services.sessions.stats.pendingInbound).toBe(0)
  })

  it('a full table gives up an overdue handshake of the busiest address; one address holds only its share', async () => {
    // every handshake is overdue as soon as its challenge is out: strangers who never solve
    const b = await node({ maxPendingHandshakes: 3, maxPendingHandshakesPerAddress: 2, handshakeTimeout: 60_000, helloTimeout: 30_000, overdue: { floor: 0, factor: 0 } })
    const attacker = await stranger('127.0.0.2')
    // two stalled handshakes from 127.0.0.2 fill its share; a third evicts its own oldest
    const first = await helloOnly(attacker, b)
    await helloOnly(attacker, b)
    const firstClosed = pEvent(first.conn, 'close', { timeout: 10_000 })
    await helloOnly(attacker, b)
    await firstClosed
    expect(b.services.sessions.counters.get('evicted-handshake')).toBe(1)
    expect(b.services.sessions.stats.pendingInbound).toBe(2)
    // another address takes the last slot; then an honest dialer finds the table full and still gets in
    await helloOnly(await stranger('127.0.0.3'), b)
    expect(b.services.sessions.stats.pendingInbound).toBe(3)
    const honest = await node()
    await honest.dial(b.getMultiaddrs())
    await next(honest, 'session:open')
    expect(b.services.sessions.counters.get('evicted-handshake')).toBe(2)
  })

  it('a dialer stops searching as soon as the listener gives up on it', async () => {
    const b = await node({ solveBudget: { floor: 300, factor: 0 } })
    let aborted = false
    const endless: ChallengeSolver = {
      solve: async (_challenge, _difficulty, options) => await new Promise((resolve, reject) => {
        options.signal?.addEventListener('abort', () => { aborted = true; reject(options.signal?.reason) })
      })
    }
    const slow = await node({ solver: endless })
    const refused = next(slow, 'session:refused')
    await slow.dial(b.getMultiaddrs()).catch(() => {})
    // the listener's Disconnect (the challenge expired) ends the search, long before the dialer's own 90 s
    expect(await refused).toMatchObject({ reason: 'Timeout', remote: true })
    expect(aborted).toBe(true)
  })

  it('one handshake per connection: resetting the session stream gets the connection closed, and costs the price nothing', async () => {
    const b = await node({ handshakeTimeout: 60_000 })
    const s = await stranger()
    for (let i = 0; i < 5; i++) {
      const conn = await s.dial(b.getMultiaddrs(), { force: true })
      const stream = await conn.newStream(SESSION_PROTOCOL)
      stream.abort(new Error('reset'))
      await closed(conn)
    }
    await expect.poll(() => b.services.sessions.counters.get('abandoned-handshake')).toBe(5)
    // nothing above got as far as a Hello: the price stayed where it was
    expect(b.services.sessions.difficulty.rate).toBe(0)
    expect(b.services.sessions.stats.difficulty).toBe(10)
  })

  it('many refusals from one address ban the address, whatever peer IDs it uses', async () => {
    const b = await node({ addressStrikes: 5, handshakeTimeout: 60_000 })
    for (let i = 0; i < 6; i++) {
      const s = await stranger('127.0.0.4')
      const conn = await s.dial(b.getMultiaddrs())
      const stream = await conn.newStream(SESSION_PROTOCOL)
      stream.abort(new Error('walk away'))
      await closed(conn)
    }
    await expect.poll(() => b.services.sessions.addressBans.isBanned('127.0.0.4')).toBe(true)
    // a new identity from there is cut before any handshake; one from elsewhere is not
    const fresh = await stranger('127.0.0.4')
    const cut = await fresh.dial(b.getMultiaddrs()).catch(() => undefined)
    if (cut != null) await closed(cut)
    expect(b.services.sessions.counters.get('address-banned')).toBeGreaterThan(0)
    const honest = await node()
    await honest.dial(b.getMultiaddrs())
    await next(honest, 'session:open')
  })
})
