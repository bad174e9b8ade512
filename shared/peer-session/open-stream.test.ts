import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { MESSAGE_PROTOCOL, RELAYED_LINKS, relayedLinkRule, STORAGE_PROTOCOL } from '../wire/index.ts'
import { DirectLinkRequiredError, UndeclaredProtocolError } from './errors.ts'
import { openStream } from './open-stream.ts'
import type { LinkSession, OpenStreamContext } from './open-stream.ts'
import type { PeerSession } from './peer-session.ts'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

interface FakeConn extends Connection { opened: Array<{ protocol: string, runOnLimitedConnection?: boolean }> }

function fakeConn (peer: PeerId, relayed: boolean, id: string): FakeConn {
  const opened: FakeConn['opened'] = []
  return {
    id,
    remotePeer: peer,
    status: 'open',
    limits: relayed ? { bytes: 1n } : undefined,
    opened,
    newStream: async (protocol: string, opts: { runOnLimitedConnection?: boolean } = {}) => {
      opened.push({ protocol, runOnLimitedConnection: opts.runOnLimitedConnection })
      return { id: `${id}/${opened.length}` } as unknown as Stream
    }
  } as unknown as FakeConn
}

/** A connection manager holding `existing` that dials `dialed` (and records what it was asked to dial). */
function context (existing: FakeConn[], dialed?: FakeConn, ensure?: OpenStreamContext['ensure']): OpenStreamContext & { dials: unknown[] } {
  const dials: unknown[] = []
  const connectionManager = {
    getConnections: (peer?: PeerId) => existing.filter(c => peer == null || c.remotePeer.equals(peer)),
    openConnection: async (target: unknown, options: { force?: boolean } = {}) => {
      dials.push(options.force === true ? { forced: target } : target)
      if (dialed == null) throw new Error('no dial expected')
      return dialed
    }
  } as unknown as ConnectionManager
  return { connectionManager, ensure: ensure ?? (async () => ({}) as PeerSession), stopped: new AbortController().signal, dials }
}

async function peer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('sessions.open: one way to a stream, one relayed-link rule per protocol', () => {
  it('declares a rule for every Golem Clay protocol it opens, looked up as an own property only', () => {
    expect(relayedLinkRule(MESSAGE_PROTOCOL)).toBe('relayed-ok')
    expect(relayedLinkRule(STORAGE_PROTOCOL)).toBe('direct-only')
    expect(relayedLinkRule('toString')).toBeUndefined()
    expect(Object.isFrozen(RELAYED_LINKS)).toBe(true)
  })

  it('refuses a protocol with no rule', async () => {
    const p = await peer()
    await expect(openStream(context([fakeConn(p, false, 'c')]), p, '/golem-clay/unknown/1.0.0')).rejects.toThrow(UndeclaredProtocolError)
  })

  it('relayed-ok: reuses a direct link first, else a relayed one, and opens the stream for limited links', async () => {
    const p = await peer()
    const relayed = fakeConn(p, true, 'relayed')
    const direct = fakeConn(p, false, 'direct')
    const both = await openStream(context([relayed, direct]), p, MESSAGE_PROTOCOL)
    expect(both.connection).toBe(direct)
    const only = await openStream(context([relayed]), p, MESSAGE_PROTOCOL)
    expect(only.connection).toBe(relayed)
    expect(relayed.opened).toEqual([{ protocol: MESSAGE_PROTOCOL, runOnLimitedConnection: true }])
  })

  it('takes a link whose session is verified before one still in its handshake, and never one whose session ended', async () => {
    const p = await peer()
    const [stalled, ended, relayed, verified] = [fakeConn(p, false, 'stalled'), fakeConn(p, false, 'ended'), fakeConn(p, true, 'relayed'), fakeConn(p, false, 'verified')]
    const states: Record<string, LinkSession> = { stalled: 'pending', ended: 'ended', relayed: 'verified', verified: 'verified' }
    const ctx = (conns: FakeConn[], dialed?: FakeConn): OpenStreamContext => ({ ...context(conns, dialed), sessionOf: c => states[c.id] ?? 'pending' })
    // verified direct, then verified relayed (where the protocol allows it), then one still to be verified
    expect((await openStream(ctx([stalled, ended, relayed, verified]), p, MESSAGE_PROTOCOL)).connection).toBe(verified)
    expect((await openStream(ctx([stalled, ended, relayed]), p, MESSAGE_PROTOCOL)).connection).toBe(relayed)
    expect((await openStream(ctx([ended, stalled]), p, MESSAGE_PROTOCOL)).connection).toBe(stalled)
    expect((await openStream(ctx([relayed, stalled]), p, STORAGE_PROTOCOL)).connection).toBe(stalled)
    // a link whose session ended is going: a new one is dialed instead
    const dialed = fakeConn(p, false, 'dialed')
    const onlyEnded = { ...context([ended], dialed), sessionOf: (c: Connection) => states[c.id] ?? 'pending' }
    expect((await openStream(onlyEnded, p, MESSAGE_PROTOCOL)).connection).toBe(dialed)
    // forced: libp2p would hand back the ended link while it is still open
    expect(onlyEnded.dials).toEqual([{ forced: p }])
    expect(ended.opened).toEqual([])
  })

  it('direct-only: passes a relayed link by and dials; refuses a relayed connection it is handed', async () => {
    const p = await peer()
    const relayed = fakeConn(p, true, 'relayed')
    const dialed = fakeConn(p, false, 'dialed')
    const ctx = context([relayed], dialed)
    const addr = multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${p.toString()}`)
    const opened = await openStream(ctx, [addr], STORAGE_PROTOCOL, { dialTimeout: 1_000 })
    expect(opened.connection).toBe(dialed)
    expect(ctx.dials).toEqual([[addr]])
    expect(dialed.opened).toEqual([{ protocol: STORAGE_PROTOCOL, runOnLimitedConnection: false }])
    await expect(openStream(ctx, relayed, STORAGE_PROTOCOL)).rejects.toThrow(DirectLinkRequiredError)
  })

  it('reuses the connection of the peer an address names instead of dialing it', async () => {
    const p = await peer()
    const direct = fakeConn(p, false, 'direct')
    const ctx = context([direct])
    const opened = await openStream(ctx, multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${p.toString()}`), STORAGE_PROTOCOL)
    expect(opened.connection).toBe(direct)
    expect(ctx.dials).toEqual([])
  })

  it('stops waiting for the session when the caller\'s signal aborts or the timeout passes', async () => {
    const p = await peer()
    const never = async (): Promise<PeerSession> => await new Promise(() => {})
    const controller = new AbortController()
    const waiting = openStream(context([fakeConn(p, false, 'c')], undefined, never), p, MESSAGE_PROTOCOL, { signal: controller.signal })
    controller.abort(new Error('caller gave up'))
    await expect(waiting).rejects.toThrow('caller gave up')
    await expect(openStream(context([fakeConn(p, false, 'c')], undefined, never), p, MESSAGE_PROTOCOL, { timeout: 50 })).rejects.toThrow(/timed out|timeout/i)
  })
})
