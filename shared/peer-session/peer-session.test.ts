import { generateKeyPair } from '@libp2p/crypto/keys'
import { logger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { pEvent } from 'p-event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { decodeJson, encodeJson } from '../wire/index.ts'
import { PeerSession } from './peer-session.ts'
import { MAX_SESSION_FRAME, validateSessionFrame } from './session-codec.ts'
import type { SessionEnd } from './peer-session.ts'
import type { HelloFrame } from './session-codec.ts'
import type { Connection, Stream } from '@libp2p/interface'
import { until } from '../testing/index.ts'

async function session (heartbeat: { interval: number, missedBeats: number }): Promise<{ session: PeerSession, remote: Stream, closed: () => boolean }> {
  const [local, remote] = await streamPair()
  let closed = false
  const connection = {
    id: 'c1',
    remotePeer: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
    remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1'),
    close: async () => { closed = true },
    abort: () => { closed = true }
  } as unknown as Connection
  const s = new PeerSession({
    connection,
    stream: local,
    lp: lpStream(local, { maxDataLength: MAX_SESSION_FRAME }),
    dialer: true,
    remoteHello: {} as HelloFrame,
    difficulty: 0,
    heartbeat,
    log: logger('test')
  })
  s.start()
  return { session: s, remote, closed: () => closed }
}

/** Fakes the heartbeat's clock (its interval, Date.now, performance.now); the streams between the two ends keep real timers. */
function fakeHeartbeatClock (): void {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date', 'performance'] })
}

describe('PeerSession heartbeat', () => {
  afterEach(() => { vi.useRealTimers() })

  it('pings a quiet peer, measures RTT from pongs and stays up while answered', async () => {
    fakeHeartbeatClock()
    const { session: s, remote } = await session({ interval: 40, missedBeats: 3 })
    const lp = lpStream(remote)
    const pong = (seq: number): Uint8Array => encodeJson({ v: 1, type: 'pong', seq }, MAX_SESSION_FRAME)
    // quiet for an interval: a ping, answered 7 ms later
    const reading = lp.read()
    await vi.advanceTimersByTimeAsync(40)
    const ping = decodeJson(await reading, validateSessionFrame)
    if (ping.type !== 'ping') throw new Error(`expected a ping, got ${ping.type}`)
    vi.advanceTimersByTime(7)
    const measured = pEvent(s, 'session:rtt', { timeout: 2_000 })
    await lp.write(pong(ping.seq))
    expect((await measured as CustomEvent<number>).detail).toBe(7)

    // from here an honest peer answers every ping at once
    void (async () => {
      for (;;) {
        const frame = decodeJson(await lp.read(), validateSessionFrame)
        if (frame.type === 'ping') await lp.write(pong(frame.seq))
      }
    })().catch(() => {})
    // the beat at 80 ms finds the pong 33 ms old; from 120 ms every beat pings
    await vi.advanceTimersByTimeAsync(33)
    for (let beat = 0; beat < 10; beat++) {
      const answered = pEvent(s, 'session:rtt', { timeout: 2_000 })
      await vi.advanceTimersByTimeAsync(40)
      await answered
    }
    // ten beats, more than three times the missed beats that drop a peer
    expect(s.open).toBe(true)
    await s.disconnect('ShuttingDown')
  })

  it('drops a peer that stops answering after the missed beats, with Timeout', async () => {
    fakeHeartbeatClock()
    const { session: s, closed } = await session({ interval: 40, missedBeats: 3 })
    const ended = pEvent(s, 'session:end', { timeout: 2_000 })
    // two beats missed: still up
    await vi.advanceTimersByTimeAsync(119)
    expect(s.open).toBe(true)
    // the third
    await vi.advanceTimersByTimeAsync(1)
    const end = (await ended as CustomEvent<SessionEnd>).detail
    expect(end).toMatchObject({ reason: 'Timeout', remote: false })
    await until(closed, 'the connection to close')
  })

  it('sends Disconnect with the reason before closing, and reads the peer\'s', async () => {
    const { session: s, remote } = await session({ interval: 1_000, missedBeats: 3 })
    const lp = lpStream(remote)
    await lp.write(encodeJson({ v: 1, type: 'disconnect', reason: 'TooManyPeers', message: 'full' }, MAX_SESSION_FRAME))
    const end = (await pEvent(s, 'session:end', { timeout: 2_000 }) as CustomEvent<SessionEnd>).detail
    expect(end).toEqual({ reason: 'TooManyPeers', remote: true, message: 'full' })

    const other = await session({ interval: 1_000, missedBeats: 3 })
    const reader = lpStream(other.remote)
    const sent = reader.read()
    await other.session.disconnect('Banned', 'invalid proof')
    expect(decodeJson(await sent, validateSessionFrame)).toEqual({ v: 1, type: 'disconnect', reason: 'Banned', message: 'invalid proof' })
  })

  it('ends the session with BadProtocol on garbage or a handshake frame', async () => {
    const { session: s, remote } = await session({ interval: 1_000, missedBeats: 3 })
    await lpStream(remote).write(new TextEncoder().encode('{"v":1,"type":"welcome"}'))
    const end = (await pEvent(s, 'session:end', { timeout: 2_000 }) as CustomEvent<SessionEnd>).detail
    expect(end.reason).toBe('BadProtocol')
  })
})
