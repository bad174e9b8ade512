/**
 * Where a ledger (ChequeBook, ChequeWallet) keeps its entries: one per
 * counterparty address (lowercase), written through on every change. A
 * tab's store is IndexedDB, a Node peer's a file; entries hold bigints and
 * signed cheques, which structured clone keeps as they are (JSON needs them
 * as strings: see chequeToWire).
 */
export interface PaymentStore<T> {
  /** Every entry, once, when the ledger is first used. */
  load: () => Promise<Iterable<[string, T]>>
  /**
   * Resolves once `entry` is saved: a ledger hands nothing out before.
   * Saved as IndexedDB's default durability has it (relaxed: written to the
   * operating system, so a crash of the process or the browser loses
   * nothing; an OS crash or power cut may lose the last moments), or
   * stricter where the store is told to.
   */
  save: (key: string, entry: T) => Promise<void>
  /** Several entries in one write (a group commit), all or none where the store can; absent: one save each. */
  saveMany?: (entries: Array<[string, T]>) => Promise<void>
}

/** Entries in memory only, for tests and benches: nothing survives the process. */
export class MemoryPaymentStore<T> implements PaymentStore<T> {
  readonly entries = new Map<string, T>()

  async load (): Promise<Iterable<[string, T]>> {
    return [...this.entries].map(([key, entry]) => [key, structuredClone(entry)])
  }

  async save (key: string, entry: T): Promise<void> {
    // a copy, as a real store's would be: the ledger's later changes are not saved by accident
    this.entries.set(key, structuredClone(entry))
  }
}
