import { createStore, promisifyRequest } from 'idb-keyval'
import { memoryLedgerStores } from '../../../shared/payments/index.ts'
import type { LedgerStores, PaymentStore } from '../../../shared/payments/index.ts'
import type { UseStore } from 'idb-keyval'

/** The tab's ledgers, and whether they outlive the page. */
export interface TabLedgers {
  ledgers: LedgerStores
  /** false: IndexedDB was refused (a private window, storage blocked) and the ledgers live in memory for this page only. */
  durable: boolean
  /** Why they are not durable, for the visitor. */
  reason?: string
}

type LedgerKind = 'book' | 'wallet'
/** An entry's key: [slot, kind, deployment namespace, counterparty address]. Array keys sort by element, so a prefix is a key range. */
type EntryKey = [number, LedgerKind, string, string]

/**
 * The tab's cheque book and cheque wallet in IndexedDB, per identity slot
 * (beside its identity and payment key: the slot is the account): the
 * cheques a provider tab holds survive a reload, and a requestor tab never
 * numbers an assignment twice. `save` resolves once its transaction has
 * committed; entries are structured-cloned as they are (bigints included).
 */
export function idbLedgerStores (slot: number, store: UseStore = createStore('golem-clay-ledgers', 'entries')): LedgerStores {
  const ledger = <T>(kind: LedgerKind, ns: string): PaymentStore<T> => {
    // entries in one transaction: all or none
    const saveMany = async (entries: Array<[string, T]>): Promise<void> => {
      await store('readwrite', async (s) => {
        try {
          for (const [address, entry] of entries) s.put(entry, [slot, kind, ns, address] satisfies EntryKey)
        } catch (err) {
          // a put that throws (an entry that can't be cloned) must not let the others commit alone
          s.transaction.abort()
          throw err
        }
        // the transaction's completion, not the request's success: only then is the entry durable
        return await promisifyRequest(s.transaction)
      })
    }
    return {
      load: async () => await store('readonly', async (s) => {
        const range = IDBKeyRange.bound([slot, kind, ns], [slot, kind, ns, []])
        const [keys, values] = await Promise.all([promisifyRequest(s.getAllKeys(range)), promisifyRequest(s.getAll(range))])
        return keys.map((key, i): [string, T] => [(key as EntryKey)[3], values[i] as T])
      }),
      save: async (address, entry) => { await saveMany([[address, entry]]) },
      saveMany
    }
  }
  return { book: (ns) => ledger('book', ns), wallet: (ns) => ledger('wallet', ns) }
}

/**
 * The ledgers for identity `slot`: IndexedDB when the browser lets the page
 * write there (tried once, now), memory otherwise, saying why.
 */
export async function openTabLedgers (slot: number): Promise<TabLedgers> {
  try {
    const store = createStore('golem-clay-ledgers', 'entries')
    // a write and a read: some browsers open the database but refuse writes (quota 0, storage blocked)
    await store('readwrite', async (s) => {
      s.put(Date.now(), [slot, 'probe'])
      return await promisifyRequest(s.transaction)
    })
    return { ledgers: idbLedgerStores(slot, store), durable: true }
  } catch (err) {
    const reason = `this browser does not let the page keep data (${(err as Error)?.message ?? String(err)})`
    console.warn(`golem-clay: payment ledgers kept in memory only: ${reason}`)
    return { ledgers: memoryLedgerStores(), durable: false, reason }
  }
}
