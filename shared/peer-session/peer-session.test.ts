import { generateKeyPair } from '@libp2p/crypto/keys'
import { logger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { pEvent } from 'p-event'
import { describe, expect, it } from 'vitest'
import { decodeJson, encodeJson } from '../util/index.ts'
import { PeerSession } from './peer-session.ts'
import { MAX_SESSION_FRAME, validateSessionFrame } from './session-codec.ts'
import type { SessionEnd } from './peer-session.ts'
import type { HelloFrame } from './session-codec.ts'
import type { Connection, Stream } from '@libp2p/interface'

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

describe('PeerSession heartbeat', () => {
  it('pings a quiet peer, measures RTT from pongs and stays up while answered', async () => {
    const { session: s, remote } = await session({ interval: 40, missedBeats: 3 })
    const lp = lpStream(remote)
    // an honest peer answers every ping
    void (async () => {
      for (;;) {
        const frame = decodeJson(await lp.read(), validateSessionFrame)
        if (frame.type === 'ping') await lp.write(encodeJson({ v: 1, type: 'pong', seq: frame.seq }, MAX_SESSION_FRAME))
      }
    })().catch(() => {})
    const rtt = (await pEvent(s, 'session:rtt', { timeout: 2_000 }) as CustomEvent<number>).detail
    expect(rtt).toBeGreaterThanOrEqual(0)
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(s.open).toBe(true)
    await s.disconnect('ShuttingDown')
  })

  it('drops a peer that stops answering after the missed beats, with Timeout', async () => {
    const { session: s, closed } = await session({ interval: 40, missedBeats: 3 })
    const started = Date.now()
    const end = (await pEvent(s, 'session:end', { timeout: 2_000 }) as CustomEvent<SessionEnd>).detail
    expect(end).toMatchObject({ reason: 'Timeout', remote: false })
    expect(Date.now() - started).toBeGreaterThanOrEqual(100)
    expect(closed()).toBe(true)
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
