import { streamPair } from '@libp2p/utils'
import { describe, expect, it } from 'vitest'
import { MARKET_PROTOCOL, MarketRefusedError, MarketStreamPool, exchange, serve } from './market-wire.ts'
import type { MarketRequest, OpenMarketStream } from './market-wire.ts'
import type { Connection, Stream } from '@libp2p/interface'

const req = (msg: string): MarketRequest => ({ v: 1, kind: 'offer', msg })

/** A connection whose every new stream is served by `handle` (one `serve` loop per stream), and an opener of its streams. */
function servedConnection (handle: (req: MarketRequest) => Promise<{ verdict?: string } | undefined>): { open: OpenMarketStream, opened: () => number, served: MarketRequest[] } {
  let opened = 0
  const served: MarketRequest[] = []
  const conn = {
    id: 'conn-1',
    status: 'open',
    newStream: async (): Promise<Stream> => {
      opened++
      const [outbound, inbound] = await streamPair()
      void serve(inbound, async r => { served.push(r); return await handle(r) }, { idleMs: 5_000 }).catch(() => {})
      return outbound
    }
  } as unknown as Connection
  return { open: async () => ({ stream: await conn.newStream(MARKET_PROTOCOL), connection: conn }), opened: () => opened, served }
}

describe('market wire', () => {
  it('reuses one stream for requests one after another, and carries refusals and verdicts back', async () => {
    const { open, opened, served } = servedConnection(async r => {
      if (r.msg === 'bad') throw Object.assign(new Error('nope'), { name: 'InvalidSignatureError' })
      return r.msg === 'report' ? { verdict: 'signed-verdict', assign: 'signed-assignment' } : undefined
    })
    const pool = new MarketStreamPool()
    const signal = AbortSignal.timeout(5_000)
    expect((await pool.request('peer', open, req('one'), signal)).ok).toBe(true)
    expect(await pool.request('peer', open, req('report'), signal)).toEqual({ v: 1, ok: true, verdict: 'signed-verdict', assign: 'signed-assignment' })
    await expect(pool.request('peer', open, req('bad'), signal)).rejects.toThrow(MarketRefusedError)
    expect((await pool.request('peer', open, req('two'), signal)).ok).toBe(true)
    expect(opened()).toBe(1)
    // concurrent requests need streams of their own; they are kept for later
    await Promise.all([pool.request('peer', open, req('a'), signal), pool.request('peer', open, req('b'), signal), pool.request('peer', open, req('c'), signal)])
    expect(opened()).toBe(3)
    await Promise.all([pool.request('peer', open, req('d'), signal), pool.request('peer', open, req('e'), signal)])
    expect(opened()).toBe(3)
    expect(served.map(r => r.msg)).toEqual(['one', 'report', 'bad', 'two', 'a', 'b', 'c', 'd', 'e'])
    pool.close()
  })

  it('serves a one-shot requester that closes after its answer', async () => {
    const [outbound, inbound] = await streamPair()
    const done = serve(inbound, async () => undefined, { idleMs: 5_000 })
    expect((await exchange(outbound, req('once'), AbortSignal.timeout(5_000))).ok).toBe(true)
    await done
    expect(inbound.status).not.toBe('open')
  })
})
