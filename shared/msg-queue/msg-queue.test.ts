import { afterEach, describe, expect, it, vi } from 'vitest'
import { MessageExpiredError, MessageTooLargeForQueueError, MsgQueue, QueueClosedError } from './msg-queue.ts'

interface Item { id: string }

/** A delivery function the test controls: peers can be taken offline. */
function network () {
  const offline = new Set<string>()
  const delivered: Array<{ peer: string, id: string }> = []
  let gate: Promise<void> | undefined
  return {
    offline,
    delivered,
    hold (until: Promise<void>) { gate = until },
    deliver: async (peer: string, item: Item) => {
      if (gate != null) await gate
      if (offline.has(peer)) throw new Error('peer offline')
      delivered.push({ peer, id: item.id })
    }
  }
}

describe('MsgQueue', () => {
  afterEach(() => { vi.useRealTimers() })

  it('delivers higher priorities first and FIFO within a priority', async () => {
    const net = network()
    let release!: () => void
    net.hold(new Promise<void>(resolve => { release = resolve }))
    const q = new MsgQueue<Item>({ deliver: net.deliver })
    // the first message is in flight while the rest queue up behind it
    const pushes = [
      await q.push('p', { id: 'bulk-1' }, { priority: 'bulk' }),
      await q.push('p', { id: 'task-1' }, { priority: 'task' }),
      await q.push('p', { id: 'bulk-2' }, { priority: 'bulk' }),
      await q.push('p', { id: 'control-1' }, { priority: 'control' }),
      await q.push('p', { id: 'task-2' }, { priority: 'task' }),
      await q.push('p', { id: 'control-2' }, { priority: 'control' })
    ]
    release()
    await Promise.all(pushes.map(async p => { await p.delivered }))
    expect(net.delivered.map(d => d.id)).toEqual(['bulk-1', 'control-1', 'control-2', 'task-1', 'task-2', 'bulk-2'])
    q.stop()
  })

  it('applies backpressure: push waits while the peer queue is full', async () => {
    vi.useFakeTimers()
    const net = network()
    net.offline.add('p')
    let attempts = 0
    const q = new MsgQueue<Item>({ deliver: async (peer, item) => { attempts++; await net.deliver(peer, item) } }, { maxPerPeer: 2, retry: { initialDelay: 10, maxDelay: 10 } })
    await q.push('p', { id: '1' })
    await q.push('p', { id: '2' })
    let accepted = false
    const third = q.push('p', { id: '3' }).then(r => { accepted = true; return r })
    // five retries come and go; the queue stays full
    await vi.advanceTimersByTimeAsync(50)
    expect(attempts).toBeGreaterThanOrEqual(5)
    expect(accepted).toBe(false)
    expect(q.size('p')).toBe(2)
    net.offline.delete('p')
    q.online('p')
    await (await third).delivered
    expect(accepted).toBe(true)
    expect(net.delivered.map(d => d.id)).toEqual(['1', '2', '3'])
    q.stop()
  })

  it('a full queue honours the producer abort signal', async () => {
    const net = network()
    net.offline.add('p')
    const q = new MsgQueue<Item>({ deliver: net.deliver }, { maxPerPeer: 1, retry: { initialDelay: 1000 } })
    await q.push('p', { id: '1' })
    const producer = new AbortController()
    const waiting = q.push('p', { id: '2' }, { signal: producer.signal })
    producer.abort(new Error('gave up'))
    await expect(waiting).rejects.toThrow('gave up')
    expect(q.size('p')).toBe(1)
    q.stop()
  })

  it('stores messages for an offline peer and forwards them when it is back', async () => {
    const net = network()
    net.offline.add('p')
    const q = new MsgQueue<Item>({ deliver: net.deliver }, { retry: { initialDelay: 60_000 } })
    let queued = 0
    let firstAttemptFailed!: () => void
    const parked = new Promise<void>(resolve => { firstAttemptFailed = resolve })
    const { delivered } = await q.push('p', { id: 'hello' }, { onQueued: () => { queued++; firstAttemptFailed() } })
    await parked
    expect(queued).toBe(1)
    expect(net.delivered).toEqual([])
    net.offline.delete('p')
    q.online('p') // the peer reconnected: no need to wait out the backoff
    await delivered
    expect(net.delivered).toEqual([{ peer: 'p', id: 'hello' }])
    q.stop()
  })

  it('expires messages past their TTL', async () => {
    vi.useFakeTimers()
    const net = network()
    net.offline.add('p')
    const q = new MsgQueue<Item>({ deliver: net.deliver }, { ttl: 50, retry: { initialDelay: 10, maxDelay: 10 } })
    const expired: string[] = []
    q.addEventListener('message:expired', (e) => { expired.push(e.detail.peer) })
    const { delivered } = await q.push('p', { id: 'late' })
    let settled = false
    delivered.then(() => {}, () => {}).finally(() => { settled = true })
    await vi.advanceTimersByTimeAsync(49)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await expect(delivered).rejects.toThrow(MessageExpiredError)
    expect(expired).toEqual(['p'])
    expect(q.size('p')).toBe(0)
    q.stop()
  })

  it('keeps peers independent: one offline peer does not hold up another', async () => {
    const net = network()
    net.offline.add('slow')
    const q = new MsgQueue<Item>({ deliver: net.deliver }, { retry: { initialDelay: 60_000 } })
    await q.push('slow', { id: 's' })
    await (await q.push('fast', { id: 'f' })).delivered
    expect(net.delivered).toEqual([{ peer: 'fast', id: 'f' }])
    q.stop()
  })

  it('refuses oversized messages and rejects pending ones on stop', async () => {
    const net = network()
    net.offline.add('p')
    const q = new MsgQueue<Item>({ deliver: net.deliver }, { maxBytesPerPeer: 10, retry: { initialDelay: 60_000 } })
    await expect(q.push('p', { id: 'big' }, { size: 11 })).rejects.toThrow(MessageTooLargeForQueueError)
    const { delivered } = await q.push('p', { id: 'x' }, { size: 5 })
    q.stop()
    await expect(delivered).rejects.toThrow(QueueClosedError)
    await expect(q.push('p', { id: 'y' })).rejects.toThrow(QueueClosedError)
  })
})
