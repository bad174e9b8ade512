import { describe, expect, it } from 'vitest'
import { MemoryPaymentStore } from './payment-store.ts'
import { SavedEntries, UnsavedChangeError } from './saved-entries.ts'

/** Counts the store's writes, and fails the next ones while `failing` is set. */
class CountingStore extends MemoryPaymentStore<number> {
  writes: Array<Array<[string, number]>> = []
  failing = false

  async saveMany (entries: Array<[string, number]>): Promise<void> {
    if (this.failing) throw new Error('disk full')
    this.writes.push(entries)
    for (const [k, e] of entries) await this.save(k, e)
  }
}

const add = (n: number) => async (entry: number): Promise<[number, number]> => [entry + n, entry + n]

describe('saved entries with group commit', () => {
  it('writes the changes of one window once, each building on the last, and resolves each only once written', async () => {
    const store = new CountingStore()
    const entries = new SavedEntries(store, () => 0, { groupMs: 50 })
    const settled: number[] = []
    const changes = [1, 2, 3, 4].map(async n => { const [, out] = await entries.change('A', add(n)); settled.push(out) })
    await entries.change('b', add(7))
    await Promise.all(changes)
    expect(settled).toEqual([1, 3, 6, 10])
    expect(store.writes).toEqual([[['a', 10], ['b', 7]]])
    expect(await entries.get('a')).toBe(10)
  })

  it('shows readers nothing before the write, and flush() writes at once', async () => {
    const store = new CountingStore()
    const entries = new SavedEntries(store, () => 0, { groupMs: 60_000 })
    let done = false
    const change = entries.change('a', add(5)).then(() => { done = true })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(done).toBe(false)
    expect(await entries.get('a')).toBeUndefined()
    await entries.flush()
    await change
    expect(done).toBe(true)
    expect(await entries.get('a')).toBe(5)
    expect(store.entries.get('a')).toBe(5)
  })

  it('undoes and refuses every unsaved change when a write fails, then starts again from what is saved', async () => {
    const store = new CountingStore()
    const entries = new SavedEntries(store, () => 0, { groupMs: 20 })
    await entries.change('a', add(1))
    store.failing = true
    const lost = await Promise.allSettled([entries.change('a', add(10)), entries.change('a', add(100))])
    expect(lost.map(r => r.status)).toEqual(['rejected', 'rejected'])
    expect(await entries.get('a')).toBe(1)
    store.failing = false
    // from the saved 1, not from the undone 111
    expect((await entries.change('a', add(2)))[1]).toBe(3)
    expect(store.entries.get('a')).toBe(3)
  })

  it('refuses a change whose work began before an earlier write failed', async () => {
    const store = new CountingStore()
    const entries = new SavedEntries(store, () => 0, { groupMs: 10 })
    store.failing = true
    const first = entries.change('a', add(1))
    // a slow change of another entry, begun before the write fails and ending after it
    const slow = entries.change('b', async (entry) => { await new Promise(resolve => setTimeout(resolve, 60)); return [entry + 1, entry + 1] })
    await expect(first).rejects.toThrow('disk full')
    store.failing = false
    await expect(slow).rejects.toThrow(UnsavedChangeError)
    expect(await entries.get('b')).toBeUndefined()
    expect((await entries.change('b', add(4)))[1]).toBe(4)
  })

  it('refuses a group already queued behind a write that then fails: its changes were built on the undone ones', async () => {
    const store = new CountingStore()
    let calls = 0
    let writing!: () => void
    const started = new Promise<void>(resolve => { writing = resolve })
    let fail!: () => void
    const failed = new Promise<void>(resolve => { fail = resolve })
    store.saveMany = async (entries) => {
      if (calls++ === 0) {
        writing()
        await failed
        throw new Error('disk full')
      }
      store.writes.push(entries)
    }
    const entries = new SavedEntries(store, () => 0, { groupMs: 10 })
    const first = entries.change('a', add(1))
    // once the first group is being written: a second change, in a second group queued behind it
    await started
    const second = entries.change('a', add(2))
    // the second group is taken (its window passes) while the first still writes; then the first fails
    await new Promise(resolve => setTimeout(resolve, 30))
    fail()
    await expect(first).rejects.toThrow('disk full')
    await expect(second).rejects.toThrow(UnsavedChangeError)
    expect(store.writes).toEqual([])
    expect((await entries.change('a', add(4)))[1]).toBe(4)
    expect(store.writes).toEqual([[['a', 4]]])
  })

  it('writes nothing for a change that returns its entry as it came, yet resolves it only once what it read is saved', async () => {
    const store = new CountingStore()
    let writing!: () => void
    const started = new Promise<void>(resolve => { writing = resolve })
    let fail!: () => void
    const failed = new Promise<void>(resolve => { fail = resolve })
    store.saveMany = async () => {
      writing()
      await failed
      throw new Error('disk full')
    }
    const entries = new SavedEntries(store, () => 0, { groupMs: 10 })
    const first = entries.change('a', add(1))
    await started
    // the write of 1 is under way: a change that reads 1 and keeps it as it is
    let read!: () => void
    const wasRead = new Promise<void>(resolve => { read = resolve })
    const reader = entries.change('a', async (entry): Promise<[number, number]> => { read(); return [entry, entry] })
    await wasRead
    fail()
    await expect(first).rejects.toThrow('disk full')
    await expect(reader).rejects.toThrow(UnsavedChangeError)
    // on saved state: no write at all
    const quiet = new CountingStore()
    const saved = new SavedEntries(quiet, () => 0)
    await saved.change('a', add(2))
    expect((await saved.change('a', async (entry): Promise<[number, number]> => [entry, entry]))[1]).toBe(2)
    expect(quiet.writes.length + (await quiet.load() as Array<unknown>).length).toBe(1)
  })

  it('without a group, saves each change alone before the next starts (the default)', async () => {
    const order: string[] = []
    const store = new CountingStore()
    const save = store.save.bind(store)
    store.save = async (k, e) => { order.push(`save ${e}`); await new Promise(resolve => setTimeout(resolve, 5)); await save(k, e) }
    const entries = new SavedEntries(store, () => 0)
    await Promise.all([1, 2, 3].map(async n => await entries.change('a', async (entry) => { order.push(`change from ${entry}`); return [entry + n, entry + n] })))
    expect(order).toEqual(['change from 0', 'save 1', 'change from 1', 'save 3', 'change from 3', 'save 6'])
    expect(store.writes).toEqual([])
  })
})
