import type { PaymentStore } from './payment-store.ts'

export interface SavedEntriesInit {
  /**
   * Group commit: the changes made within this many ms are written together
   * (one write per entry, its latest state, in one store call), and each
   * change resolves once that write committed. A change may start from the
   * unsaved state of the one before (no wait for the disk between them);
   * readers see saved entries only. If a write fails, every change not yet
   * saved is undone and refused.
   * @default undefined: each change is saved alone before the next of its entry starts
   */
  groupMs?: number
}

interface Batch { promise: Promise<void>, resolve: () => void, reject: (err: unknown) => void }

/** A change made on an entry an earlier failed write undid: refused, as the write was. */
export class UnsavedChangeError extends Error {
  override name = 'UnsavedChangeError'
}

/**
 * A ledger's entries, one per counterparty: loaded from the store once,
 * changed one at a time per entry (read, sign, save with no other change
 * to that entry in between: two payments to one provider at once must not
 * both start from the same cumulative), and kept only once saved.
 */
export class SavedEntries<T> {
  private readonly store: PaymentStore<T>
  private readonly fresh: () => T
  private readonly groupMs?: number
  private readonly tails = new Map<string, Promise<void>>()
  private entries?: Promise<Map<string, T>>
  /** With groupMs: the entries as changed, saved or not; `entries` holds the saved ones. */
  private working?: Map<string, T>
  private pending = new Map<string, T>()
  private batch?: Batch
  private timer?: ReturnType<typeof setTimeout>
  private writing: Promise<void> = Promise.resolve()
  /** Counts failed writes: a change that began before one is refused. */
  private epoch = 0

  constructor (store: PaymentStore<T>, fresh: () => T, init: SavedEntriesInit = {}) {
    this.store = store
    this.fresh = fresh
    this.groupMs = init.groupMs
  }

  async get (key: string): Promise<T | undefined> {
    return (await this.load()).get(key.toLowerCase())
  }

  async all (): Promise<Iterable<T>> {
    return (await this.load()).values()
  }

  async list (): Promise<Array<[string, T]>> {
    return [...(await this.load()).entries()]
  }

  /**
   * Runs `fn` on the entry alone, saves what it returns, then keeps it and
   * hands out the result. An entry returned as it came (the same object)
   * is not written: what the store holds already covers it.
   */
  async change<R> (key: string, fn: (entry: T) => Promise<[T, R]>): Promise<[T, R]> {
    const id = key.toLowerCase()
    const result = (this.tails.get(id) ?? Promise.resolve()).then(async (): Promise<[T, R, Promise<void>?]> => {
      const saved = await this.load()
      if (this.groupMs == null) {
        const current = saved.get(id) ?? this.fresh()
        const [next, out] = await fn(current)
        if (next === current) return [next, out]
        await this.store.save(id, next)
        saved.set(id, next)
        return [next, out]
      }
      const working = this.working ??= new Map(saved)
      const epoch = this.epoch
      const current = working.get(id) ?? this.fresh()
      const [next, out] = await fn(current)
      if (epoch !== this.epoch) throw new UnsavedChangeError('An earlier write of this ledger failed: the change it was built on is undone')
      // unchanged: nothing to write, but a result read from an unsaved state waits until it is saved
      if (next === current) return [next, out, current === saved.get(id) ? undefined : this.whenSaved(id, epoch)]
      working.set(id, next)
      this.pending.set(id, next)
      return [next, out, this.commit()]
    })
    const tail = result.then(() => {}, () => {})
    this.tails.set(id, tail)
    try {
      const [next, out, committed] = await result
      await committed
      return [next, out]
    } finally {
      if (this.tails.get(id) === tail) this.tails.delete(id)
    }
  }

  /** Writes what waits for its group now; resolves once every write so far is done, rejects if that group's write failed. */
  async flush (): Promise<void> {
    const batch = this.batch
    if (batch != null) this.write()
    await this.writing
    await batch?.promise
  }

  /** Resolves once the state of `id` a change read (in `epoch`) is saved; refused if a write failed since. */
  private async whenSaved (id: string, epoch: number): Promise<void> {
    if (this.pending.has(id)) await this.commit()
    else await this.writing
    if (epoch !== this.epoch) throw new UnsavedChangeError('An earlier write of this ledger failed: the state this change read is undone')
  }

  private async commit (): Promise<void> {
    if (this.batch == null) {
      let resolve!: () => void
      let reject!: (err: unknown) => void
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
      promise.catch(() => {})
      this.batch = { promise, resolve, reject }
      this.timer = setTimeout(() => { this.write() }, this.groupMs)
    }
    await this.batch.promise
  }

  /** Takes the waiting group and writes it after the writes before it; never leaves `writing` rejected. */
  private write (): void {
    clearTimeout(this.timer)
    const batch = this.batch
    if (batch == null) return
    this.batch = undefined
    const writes = [...this.pending]
    this.pending = new Map()
    const epoch = this.epoch
    this.writing = this.writing.then(async () => {
      const saved = await this.load()
      // taken before an earlier group failed: built on what that failure undid
      if (epoch !== this.epoch) throw new UnsavedChangeError('An earlier write of this ledger failed: the changes built on it are undone')
      try {
        await (this.store.saveMany?.(writes) ?? Promise.all(writes.map(async ([k, e]) => { await this.store.save(k, e) })))
      } catch (err) {
        // undo every change not saved, this group's and those made on it since
        this.epoch++
        this.working = new Map(saved)
        this.pending = new Map()
        const next = this.batch
        this.batch = undefined
        clearTimeout(this.timer)
        next?.reject(err)
        throw err
      }
      for (const [k, e] of writes) saved.set(k, e)
    }).then(() => { batch.resolve() }, (err: unknown) => { batch.reject(err) })
  }

  private async load (): Promise<Map<string, T>> {
    this.entries ??= this.store.load().then(loaded => new Map(loaded), (err: Error) => {
      this.entries = undefined
      throw err
    })
    return await this.entries
  }
}
