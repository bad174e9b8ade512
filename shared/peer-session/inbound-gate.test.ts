import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger, logger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { describe, expect, it } from 'vitest'
import { DHT_PROTOCOL, GOSSIP_PROTOCOL, MESSAGE_PROTOCOL, SESSION_PROTOCOL, STORAGE_PROTOCOL } from '../wire/index.ts'
import { UnverifiedSessionError } from './disconnect.ts'
import { UngatedProtocolError } from './errors.ts'
import { gatedServices } from './gated-services.ts'
import { InboundGate } from './inbound-gate.ts'
import { RefusalCounters } from './refusals.ts'
import { SessionGate } from './session-gate.ts'
import { sessionManager } from './session-manager.ts'
import type { PeerSession } from './peer-session.ts'
import type { SessionManager } from './session-manager.ts'
import type { Connection, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

/** libp2p's registrar, as far as handlers go. */
function fakeRegistrar (): Registrar & { records: Map<string, { handler: StreamHandler, options: StreamHandlerOptions }> } {
  const records = new Map<string, { handler: StreamHandler, options: StreamHandlerOptions }>()
  return {
    records,
    handle: async (protocol: string, handler: StreamHandler, options: StreamHandlerOptions = {}) => {
      if (records.has(protocol) && options.force !== true) throw new Error(`${protocol} already registered`)
      records.set(protocol, { handler, options })
    },
    unhandle: async (protocol: string) => { records.delete(protocol) },
    getHandler: (protocol: string) => records.get(protocol),
    getProtocols: () => [...records.keys()].sort()
  } as unknown as Registrar & { records: typeof records }
}

async function fakeConn (): Promise<Connection> {
  return { id: 'c1', remotePeer: peerIdFromPrivateKey(await generateKeyPair('Ed25519')) } as unknown as Connection
}

function fakeStream (): Stream & { aborted?: Error } {
  const stream = { abort: (err: Error) => { stream.aborted = err } } as unknown as Stream & { aborted?: Error }
  return stream
}

function gate (session?: PeerSession, perPeer = { points: 100, duration: 1 }): { gate: InboundGate, counters: RefusalCounters } {
  const counters = new RefusalCounters()
  return {
    counters,
    gate: new InboundGate({
      extra: ['/libp2p/circuit/relay/0.2.0/hop'],
      wait: 50,
      limits: new SessionGate({ perPeer }, counters, () => {}),
      counters,
      log: logger('test'),
      ensure: async () => { if (session == null) throw new Error('no session'); return session },
      addressOf: () => undefined,
      stopped: () => new AbortController().signal
    })
  }
}

describe('the inbound gate, put in place at registration', () => {
  it('gates every Golem Clay protocol but the handshake\'s, and the extra ones', () => {
    const { gate: g } = gate()
    expect([MESSAGE_PROTOCOL, DHT_PROTOCOL, GOSSIP_PROTOCOL, '/libp2p/circuit/relay/0.2.0/hop'].every(p => g.gates(p))).toBe(true)
    expect(g.gates(SESSION_PROTOCOL)).toBe(false)
    expect(g.gates('/ipfs/id/1.0.0')).toBe(false)
  })

  it('refuses and counts a stream without a session; passes one with a session until the rate limit', async () => {
    const conn = await fakeConn()
    const refused = gate()
    let served = 0
    const stranger = fakeStream()
    await refused.gate.wrap(MESSAGE_PROTOCOL, () => { served++ })(stranger, conn)
    expect(stranger.aborted).toBeInstanceOf(UnverifiedSessionError)
    expect(refused.counters.get('unverified-stream')).toBe(1)
    const verified = gate({} as PeerSession, { points: 1, duration: 60 })
    const handler = verified.gate.wrap(MESSAGE_PROTOCOL, () => { served++ })
    await handler(fakeStream(), conn)
    const chatty = fakeStream()
    await handler(chatty, conn)
    expect(served).toBe(1)
    expect(chatty.aborted?.name).toBe('SessionRefusedError')
  })

  it('finds handlers registered around it', async () => {
    const { gate: g } = gate()
    const registrar = fakeRegistrar()
    await registrar.handle(MESSAGE_PROTOCOL, g.wrap(MESSAGE_PROTOCOL, () => {}))
    await registrar.handle(STORAGE_PROTOCOL, () => {})
    await registrar.handle(SESSION_PROTOCOL, () => {})
    expect(g.ungated(registrar)).toEqual([STORAGE_PROTOCOL])
  })
})

describe('sessions.handle and services that know nothing of sessions', () => {
  async function manager (registrar: Registrar): Promise<SessionManager> {
    const events = new TypedEventEmitter()
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    return sessionManager({ roles: ['node'], verify: () => true })({ peerId, registrar, connectionManager: {} as any, events: events as any, logger: defaultLogger() })
  }

  it('registers once, gated, with the protocol\'s relayed-link rule; libp2p\'s registration is never replaced', async () => {
    const registrar = fakeRegistrar()
    const sessions = await manager(registrar)
    await sessions.start()
    await sessions.handle(MESSAGE_PROTOCOL, () => {}, { maxInboundStreams: 3 })
    await sessions.handle(STORAGE_PROTOCOL, () => {}, { runOnLimitedConnection: true })
    expect(registrar.records.get(MESSAGE_PROTOCOL)?.options).toEqual({ maxInboundStreams: 3, runOnLimitedConnection: true })
    expect(registrar.records.get(STORAGE_PROTOCOL)?.options).toEqual({ runOnLimitedConnection: false })
    expect(registrar.records.get(SESSION_PROTOCOL)?.options).toMatchObject({ runOnLimitedConnection: true })
    expect(() => { sessions.afterStart() }).not.toThrow()
    // a handler that went around the gate is found when the node starts
    await registrar.handle(GOSSIP_PROTOCOL, () => {})
    expect(() => { sessions.afterStart() }).toThrow(UngatedProtocolError)
  })

  it('hands other services a registrar that registers through the gate', async () => {
    const registrar = fakeRegistrar()
    const sessions = await manager(registrar)
    const { pubsub } = gatedServices({
      pubsub: (components: { registrar: Registrar, sessions: SessionManager }) => ({
        start: async () => { await components.registrar.handle(GOSSIP_PROTOCOL, () => {}, { runOnLimitedConnection: true }) },
        protocols: () => components.registrar.getProtocols()
      })
    })
    const service = pubsub({ registrar, sessions })
    await service.start()
    expect(service.protocols()).toEqual([GOSSIP_PROTOCOL])
    expect(() => { sessions.afterStart() }).not.toThrow()
  })
})
