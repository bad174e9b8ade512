import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { InvalidMessageError, MessageTooLargeError } from '../errors.ts'
import { decodeJson, encodeJson } from '../wire/index.ts'
import { dialerHandshake, HandshakeError, listenerHandshake } from './handshake.ts'
import { MAX_SESSION_FRAME, validateSessionFrame } from './session-codec.ts'
import type { SessionFrame } from './session-codec.ts'
import type { Connection } from '@libp2p/interface'

const CASES = 10_000

// a seeded generator keeps failures reproducible
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const samples: Record<SessionFrame['type'], SessionFrame> = {
  hello: { v: 1, type: 'hello', protocolVersion: '1.0.0', clientVersion: '0.1.0', from: '12D3KooWA', to: '12D3KooWB', time: 1, roles: ['tab'], cores: 2, capabilities: ['webrtc'], load: 0.5 },
  challenge: { v: 1, type: 'challenge', salt: '00112233445566778899aabbccddeeff', difficulty: 20, expiresAt: 123 },
  solution: { v: 1, type: 'solution', nonce: '0011223344556677' },
  welcome: { v: 1, type: 'welcome' },
  ping: { v: 1, type: 'ping', seq: 7 },
  pong: { v: 1, type: 'pong', seq: 7 },
  disconnect: { v: 1, type: 'disconnect', reason: 'Timeout', message: 'bye' }
}

const JUNK_VALUES: unknown[] = [null, true, -1, 1e308, '', 'x'.repeat(5000), [], {}, [1, 2], { a: 1 }, 'ffff', 3.5, '\u0000', NaN]

function mutate (frame: SessionFrame, random: () => number): Uint8Array {
  const bytes = encodeJson(frame, MAX_SESSION_FRAME)
  switch (Math.floor(random() * 5)) {
    case 0: // random bytes
      return crypto.getRandomValues(new Uint8Array(Math.floor(random() * 300)))
    case 1: // truncated
      return bytes.slice(0, Math.floor(random() * bytes.length))
    case 2: { // flipped bytes
      const copy = bytes.slice()
      for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) {
        const at = Math.floor(random() * copy.length)
        copy[at] = (copy[at] ?? 0) ^ (1 + Math.floor(random() * 255))
      }
      return copy
    }
    case 3: { // a field replaced by junk or removed
      const obj: Record<string, unknown> = { ...frame }
      const keys = Object.keys(obj)
      const key = keys[Math.floor(random() * keys.length)] as string
      if (random() < 0.3) delete obj[key]
      else obj[key] = JUNK_VALUES[Math.floor(random() * JUNK_VALUES.length)]
      return new TextEncoder().encode(JSON.stringify(obj))
    }
    default: { // valid JSON of the wrong shape
      const junk = JUNK_VALUES[Math.floor(random() * JUNK_VALUES.length)]
      return new TextEncoder().encode(JSON.stringify(junk) ?? 'null')
    }
  }
}

describe('session frame decoder fuzz', () => {
  for (const [type, frame] of Object.entries(samples)) {
    it(`${CASES} mutated ${type} frames: a valid frame or InvalidMessageError, nothing else`, () => {
      const random = rng(type.length * 7919)
      let refused = 0
      for (let i = 0; i < CASES; i++) {
        const input = mutate(frame, random)
        try {
          const decoded = decodeJson(input, validateSessionFrame)
          // whatever got through must itself be a well-formed frame
          expect(validateSessionFrame(JSON.parse(JSON.stringify(decoded)))).toEqual(decoded)
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidMessageError)
          refused++
        }
      }
      expect(refused).toBeGreaterThan(CASES * 0.8)
    })
  }

  it('refuses to encode a frame past the cap', () => {
    expect(() => encodeJson({ ...samples.disconnect, message: 'x'.repeat(MAX_SESSION_FRAME) }, MAX_SESSION_FRAME)).toThrow(MessageTooLargeError)
  })
})

describe('handshake stream fuzz', () => {
  const STREAM_CASES = 10_000

  async function peers (): Promise<{ a: Connection, b: Connection, idA: ReturnType<typeof peerIdFromPrivateKey>, idB: ReturnType<typeof peerIdFromPrivateKey> }> {
    const idA = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const idB = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    // the handshake only reads the remote peer from its connection
    return { idA, idB, a: { remotePeer: idB } as unknown as Connection, b: { remotePeer: idA } as unknown as Connection }
  }

  function garbage (random: () => number): Uint8Array[] {
    const frames = Object.values(samples)
    const kind = Math.floor(random() * 4)
    if (kind === 0) return [crypto.getRandomValues(new Uint8Array(1 + Math.floor(random() * 64)))] // not even length-prefixed
    if (kind === 1) return [new Uint8Array([0xff, 0xff, 0x7f])] // a length far past the cap
    if (kind === 2) return [new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80])] // an endless varint
    return Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
      const body = mutate(frames[Math.floor(random() * frames.length)] as SessionFrame, random)
      const prefix = body.length < 128 ? [body.length] : [(body.length & 0x7f) | 0x80, body.length >> 7]
      return new Uint8Array([...prefix, ...body])
    })
  }

  it(`${STREAM_CASES} garbage openings against the listener: typed refusal, never a hang`, { timeout: 120_000 }, async () => {
    const { idA, idB, b } = await peers()
    const random = rng(42)
    const outcomes = new Map<string, number>()
    for (let i = 0; i < STREAM_CASES; i++) {
      const [outbound, inbound] = await streamPair()
      for (const chunk of garbage(random)) outbound.send(chunk)
      await outbound.close()
      const result = await listenerHandshake({
        stream: inbound,
        connection: b,
        self: idB,
        info: { roles: ['relay'], cores: 1, capabilities: [], clientVersion: '0.1.0' },
        verify: () => false,
        helloTimeout: 1_000,
        challenge: () => ({ difficulty: 8, ttl: 1_000 }),
        spend: () => true,
        signal: AbortSignal.timeout(2_000)
      }).then(() => 'accepted', (err: Error) => err instanceof HandshakeError ? `${err.remote ? 'remote:' : ''}${err.reason}/${err.refusal ?? ''}` : err.name)
      outcomes.set(result, (outcomes.get(result) ?? 0) + 1)
      expect(result).not.toBe('accepted')
      expect(result).not.toMatch(/^Timeout\//)
    }
    // every refusal is one of the typed outcomes: our refusal, the garbage's own
    // (mutated) Disconnect frame, or an early end of the closed stream
    for (const key of outcomes.keys()) expect(key).toMatch(/^(BadProtocol|ProtocolVersion)\/|^remote:|UnexpectedEOFError|InvalidDataLength|StreamStateError/)
    expect(idA).toBeDefined()
  })

  it(`${STREAM_CASES} garbage replies against the dialer: typed refusal, never a hang`, { timeout: 120_000 }, async () => {
    const { idA, a } = await peers()
    const random = rng(7)
    for (let i = 0; i < STREAM_CASES; i++) {
      const [outbound, inbound] = await streamPair()
      const reply = lpStream(inbound)
      void reply.read().then(async () => {
        for (const chunk of garbage(random)) inbound.send(chunk)
        await inbound.close()
      }).catch(() => {})
      const result = await dialerHandshake({
        stream: outbound,
        connection: a,
        self: idA,
        info: { roles: ['tab'], cores: 1, capabilities: [], clientVersion: '0.1.0' },
        solver: { solve: async () => ({ nonce: new Uint8Array(8) }) },
        signal: AbortSignal.timeout(2_000)
      }).then(() => 'accepted', (err: Error) => err instanceof HandshakeError ? `${err.reason}/${err.refusal ?? ''}` : err.name)
      expect(result).not.toBe('accepted')
      expect(result).not.toContain('handshake-timeout')
    }
  })
})
