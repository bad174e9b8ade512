/**
 * Runs tasks one at a time per key: a ledger reads an entry, signs and
 * saves it with no other change to that entry in between (two payments to
 * one provider at once must not both start from the same cumulative).
 */
export class SerialByKey {
  private readonly tails = new Map<string, Promise<void>>()

  async run<T> (key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task)
    const tail = result.then(() => {}, () => {})
    this.tails.set(key, tail)
    try {
      return await result
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}
