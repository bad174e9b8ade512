import { defaultLogger } from '@libp2p/logger'
import { ChequeBook } from './cheque-book.ts'
import { deploymentNamespace, memoryLedgerStores } from './ledger-stores.ts'
import { DepositTooSmallError } from './payment-errors.ts'
import { chequeToCompactWire, noteToCompactWire } from './payment-wire.ts'
import { subtaskId } from './promissory-note.ts'
import type { ChainClient } from './chain-client.ts'
import type { PaymentAccountKey } from './cheque-book.ts'
import type { DepositDeployment } from './deposit-typed-data.ts'
import type { LedgerStores } from './ledger-stores.ts'
import type { PaymentAccount } from './payment-account.ts'
import type { ChequeWireCompact, NoteWireCompact } from './payment-wire.ts'
import type { AbortOptions, ComponentLogger, Logger } from '@libp2p/interface'
import type { Address } from 'viem'

export interface RequestorPaymentsInit {
  /** The deposit must hold this many times the budgets of the open tasks (as Clay required). @default 2 */
  depositFactor?: number
}

export interface RequestorPaymentsComponents {
  payments: Pick<PaymentAccount, 'address' | 'account'>
  chain?: Pick<ChainClient, 'deployment' | 'account'>
  ledgers?: LedgerStores
  logger?: ComponentLogger
}

/** A paid task's deployment and budget, as its header states them. */
export interface TaskTerms {
  deployment: DepositDeployment
  budget: bigint
}

/**
 * The requestor's side of payments: checks its deposit before a paid task
 * is published (at least `depositFactor` × the budgets of its open tasks,
 * and not being withdrawn), signs a promissory note with each assignment
 * and a cumulative cheque with each accepted verdict (its ChequeBook,
 * saved before anything is handed out).
 */
export class RequestorPayments {
  private readonly components: RequestorPaymentsComponents
  private readonly factor: bigint
  private readonly ledgers: LedgerStores
  private readonly log: Logger
  private readonly open = new Map<string, bigint>()
  private readonly books = new Map<string, ChequeBook>()

  constructor (components: RequestorPaymentsComponents, init: RequestorPaymentsInit = {}) {
    this.components = components
    this.factor = BigInt(init.depositFactor ?? 2)
    this.ledgers = components.ledgers ?? memoryLedgerStores()
    this.log = (components.logger ?? defaultLogger()).forComponent('golem-clay:payments')
  }

  /** What the open tasks may still cost in all: the sum of their budgets. */
  get openBudgets (): bigint {
    let sum = 0n
    for (const b of this.open.values()) sum += b
    return sum
  }

  /** The deployment paid tasks are paid on now; undefined when no connected relay runs a chain. */
  async deployment (options: AbortOptions = {}): Promise<DepositDeployment | undefined> {
    return await this.components.chain?.deployment(options)
  }

  /**
   * Books `budget` for `task` on the relay's chain, or says it can't be:
   * DepositTooSmallError when the deposit is being withdrawn or holds less
   * than `depositFactor` × (the open budgets + this one).
   */
  async reserve (task: string, budget: bigint, deployment: DepositDeployment, options: AbortOptions = {}): Promise<TaskTerms> {
    const chain = this.components.chain
    if (chain == null) throw new DepositTooSmallError('This node reaches no chain to pay on')
    // booked before the read: two tasks submitted at once must not both fit the same deposit
    this.open.set(task, budget)
    try {
      const me = this.components.payments.address
      const state = await chain.account(me, me, { ...options, maxAgeMs: 0 })
      if (state.unlockAt !== 0) throw new DepositTooSmallError('Your deposit is being withdrawn: deposit again (which locks it) before publishing paid tasks', state.deposit, 0n)
      const needed = this.factor * this.openBudgets
      if (state.deposit < needed) {
        throw new DepositTooSmallError(`Your deposit of ${state.deposit} is below the ${needed} this task needs (${this.factor}× the budgets of your open tasks, this one's ${budget} included): deposit more`, state.deposit, needed)
      }
      this.log('task %s books %s of a deposit of %s', task, budget, state.deposit)
      return { deployment, budget }
    } catch (err) {
      this.open.delete(task)
      throw err
    }
  }

  /** The task ended: its budget no longer counts against the deposit. */
  release (task: string): void {
    this.open.delete(task)
  }

  /** The promissory note that goes with assignment of `subtask` of `task` to `to` (compact: the provider knows the rest), and its seq (what its cheque will name). */
  async note (deployment: DepositDeployment, to: PaymentAccountKey, task: string, subtask: number, price: bigint): Promise<{ note: NoteWireCompact, seq: bigint }> {
    const signed = await this.book(deployment).assign(to, subtaskId(task, subtask), price)
    return { note: noteToCompactWire(signed), seq: signed.note.seq }
  }

  /** The cheque for `to`'s accepted assignment `seq`: what it is owed in all, `price` more than before. */
  async cheque (deployment: DepositDeployment, to: PaymentAccountKey, price: bigint, seq: bigint): Promise<ChequeWireCompact> {
    return chequeToCompactWire(await this.book(deployment).pay(to, price, seq))
  }

  /** What this node owes `to` in all on `deployment` (cashed or not). */
  async owed (deployment: DepositDeployment, to: PaymentAccountKey): Promise<bigint> {
    return await this.book(deployment).owed(to)
  }

  private book (deployment: DepositDeployment): ChequeBook {
    const ns = deploymentNamespace(deployment)
    let book = this.books.get(ns)
    if (book == null) {
      book = new ChequeBook({ deployment, signer: this.components.payments.account, store: this.ledgers.book(ns), logger: this.components.logger })
      this.books.set(ns, book)
    }
    return book
  }
}

