import { MemoryPaymentStore } from './payment-store.ts'
import type { ChequeBookEntry } from './cheque-book.ts'
import type { ChequeWalletEntry } from './cheque-wallet.ts'
import type { DepositDeployment } from './deposit-typed-data.ts'
import type { PaymentStore } from './payment-store.ts'

/**
 * Where a node keeps its ledgers, one pair per deployment (a redeployed
 * local chain has a new salt, and old cheques are worthless there): the
 * requestor's cheque book and the provider's cheque wallet. A tab's are
 * IndexedDB, a Node peer's files in its data folder.
 */
export interface LedgerStores {
  book: (namespace: string) => PaymentStore<ChequeBookEntry>
  wallet: (namespace: string) => PaymentStore<ChequeWalletEntry>
}

/** Ledgers in memory: what a node without a data folder keeps for one run. */
export function memoryLedgerStores (): LedgerStores {
  const books = new Map<string, MemoryPaymentStore<ChequeBookEntry>>()
  const wallets = new Map<string, MemoryPaymentStore<ChequeWalletEntry>>()
  return {
    book: (ns) => books.get(ns) ?? books.set(ns, new MemoryPaymentStore()).get(ns) as MemoryPaymentStore<ChequeBookEntry>,
    wallet: (ns) => wallets.get(ns) ?? wallets.set(ns, new MemoryPaymentStore()).get(ns) as MemoryPaymentStore<ChequeWalletEntry>
  }
}

/** A deployment's namespace for its ledgers: chain, contract and the salt's first 8 bytes (file-name safe). */
export function deploymentNamespace ({ chainId, address, salt }: DepositDeployment): string {
  return `${chainId}-${address.toLowerCase()}-${salt.slice(2, 18).toLowerCase()}`
}
