import type { PaymentStore } from './payment-store.ts'

/**
 * A ledger's entries, one per counterparty address: loaded from the store
 * once, changed one at a time per address (read, sign, save with no other
 * change to that entry in between: two payments to one provider at once
 * must not both start from the same cumulative), and kept only once saved.
 */
export class SavedEntries<T> {
  private readonly store: PaymentStore<T>
  private readonly fresh: () => T
  private readonly tails = new Map<string, Promise<void>>()
  private entries?: Promise<Map<string, T>>

  constructor (store: PaymentStore<T>, fresh: () => T) {
    this.store = store
    this.fresh = fresh
  }

  async get (address: string): Promise<T | undefined> {
    return (await this.load()).get(address.toLowerCase())
  }

  async all (): Promise<Iterable<T>> {
    return (await this.load()).values()
  }

  async list (): Promise<Array<[string, T]>> {
    return [...(await this.load()).entries()]
  }

  /** Runs `fn` on the entry alone, saves what it returns, then keeps it and hands out the result. */
  async change<R> (address: string, fn: (entry: T) => Promise<[T, R]>): Promise<[T, R]> {
    const key = address.toLowerCase()
    const result = (this.tails.get(key) ?? Promise.resolve()).then(async (): Promise<[T, R]> => {
      const entries = await this.load()
      const [next, out] = await fn(entries.get(key) ?? this.fresh())
      await this.store.save(key, next)
      entries.set(key, next)
      return [next, out]
    })
    const tail = result.then(() => {}, () => {})
    this.tails.set(key, tail)
    try {
      return await result
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }

  private async load (): Promise<Map<string, T>> {
    this.entries ??= this.store.load().then(loaded => new Map(loaded), (err: Error) => {
      this.entries = undefined
      throw err
    })
    return await this.entries
  }
}
