import { chmod, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { FileLedgerStore, LedgerFileError } from './file-ledger-store.ts'
import type { FileLedgerStoreInit } from './file-ledger-store.ts'
import type { ChequeBookEntry, ChequeWalletEntry, LedgerStores, PaymentStore } from '../../shared/payments/index.ts'

export { LedgerFileError }

export type FileLedgerStoresInit = FileLedgerStoreInit

/**
 * A Node peer's ledgers in its data folder: `<dir>/ledgers/<namespace>-book.json`
 * (the requestor's cheque book) and `-wallet.json` (the provider's cheques),
 * each with its `.journal` of the writes since, mode 600. One store per
 * ledger, however often asked.
 */
export function fileLedgerStores (dir: string, init: FileLedgerStoresInit = {}): LedgerStores {
  const folder = join(dir, 'ledgers')
  const stores = new Map<string, FileLedgerStore<any>>()
  let made: Promise<void> | undefined
  const ready = async (): Promise<void> => {
    made ??= mkdir(folder, { recursive: true, mode: 0o700 }).then(async () => { await chmod(folder, 0o700) }, (err: Error) => {
      made = undefined
      throw err
    })
    await made
  }
  const store = <T>(namespace: string, kind: 'book' | 'wallet'): PaymentStore<T> => {
    // the namespace becomes a file name: nothing that leaves the folder
    if (!/^[\w.-]{1,120}$/.test(namespace) || namespace.startsWith('.')) throw new LedgerFileError(`Ledger namespace "${namespace}" is not file-name safe`, folder)
    const path = join(folder, `${namespace}-${kind}.json`)
    let s = stores.get(path)
    if (s == null) {
      s = new FileLedgerStore<T>(path, ready, init)
      stores.set(path, s)
    }
    return s as PaymentStore<T>
  }
  return {
    book: (namespace) => store<ChequeBookEntry>(namespace, 'book'),
    wallet: (namespace) => store<ChequeWalletEntry>(namespace, 'wallet')
  }
}

/** Reads every ledger in `<dir>/ledgers` once, so a corrupt one stops a start (LedgerFileError), not a payment later. */
export async function checkLedgerFiles (dir: string): Promise<number> {
  const folder = join(dir, 'ledgers')
  const names = await readdir(folder).catch((err: any) => { if (err.code === 'ENOENT') return []; throw err })
  // a ledger is its snapshot, its journal, or both
  const ledgers = new Set(names.filter(n => /-(book|wallet)\.(json|journal)$/.test(n)).map(n => n.replace(/\.journal$/, '.json')))
  for (const name of ledgers) await new FileLedgerStore(join(folder, name), async () => {}).load()
  return ledgers.size
}
