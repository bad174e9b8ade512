import { defaultLogger } from '@libp2p/logger'
import { getAddress } from 'viem'
import { checkChequeTerms, signCheque } from './cheque.ts'
import { ChequeInvalidError } from './payment-errors.ts'
import { signNote } from './promissory-note.ts'
import { SavedEntries } from './saved-entries.ts'
import type { PaymentSigner, SignedCheque } from './cheque.ts'
import type { DepositDeployment } from './deposit-typed-data.ts'
import type { PaymentStore } from './payment-store.ts'
import type { SignedNote } from './promissory-note.ts'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { Address, Hex } from 'viem'

/** What the requestor keeps per beneficiary. */
export interface ChequeBookEntry {
  /** The highest assignment seq handed out (the next is one more). */
  assigned: bigint
  /** What it owes in all: the sum of the prices of the assignments paid. */
  cumulative: bigint
  /** The last cheque signed, to send again; its seq is the highest assignment paid. */
  last?: SignedCheque
}

export interface ChequeBookInit {
  /** The deployment the requestor's deposit is in. */
  deployment: DepositDeployment
  /** The requestor's payment account (`PaymentAccount.account`). */
  signer: PaymentSigner
  /** Where entries go; a cheque is handed out only once saved. */
  store: PaymentStore<ChequeBookEntry>
  /** @default defaultLogger() */
  logger?: ComponentLogger
}

/**
 * The requestor's side: numbers its assignments to each beneficiary 1, 2,
 * 3… and pays for them with cumulative cheques. Every change is saved
 * before anything is handed out, so a crash never makes it number two
 * assignments alike or sign a second cheque for a cumulative or seq it
 * already signed (the provider would refuse it as not higher and be owed
 * the difference). It pays what it is told, once per call: the market
 * calls `pay` once per accepted assignment.
 */
export class ChequeBook {
  private readonly deployment: DepositDeployment
  private readonly signer: PaymentSigner
  private readonly log: Logger
  private readonly entries: SavedEntries<ChequeBookEntry>

  constructor (init: ChequeBookInit) {
    this.deployment = init.deployment
    this.signer = init.signer
    this.entries = new SavedEntries(init.store, () => ({ assigned: 0n, cumulative: 0n }))
    this.log = (init.logger ?? defaultLogger()).forComponent('golem-clay:payments')
  }

  /** Takes the next assignment number for `beneficiary` (saved before it is returned: never handed out twice). */
  async nextSeq (beneficiary: Address): Promise<bigint> {
    return await this.change(beneficiary, async (entry) => {
      const seq = entry.assigned + 1n
      return [{ ...entry, assigned: seq }, seq]
    })
  }

  /**
   * Numbers the next assignment to `beneficiary` and signs its promissory
   * note for `subtask` (subtaskId()) at `price`: what goes with the assignment.
   */
  async assign (beneficiary: Address, subtask: Hex, price: bigint): Promise<SignedNote> {
    const seq = await this.nextSeq(beneficiary)
    return await signNote(this.signer, this.deployment, { requestor: this.signer.address, beneficiary: getAddress(beneficiary), subtask: subtask.toLowerCase() as Hex, seq, amount: price })
  }

  /**
   * Pays `amount` for assignment `seq` (one `nextSeq` handed out): signs and
   * saves a cheque for what is owed in all, whose seq is the highest paid
   * (assignments may be accepted out of order). ChequeInvalidError for a
   * seq not handed out or an amount that is not positive.
   */
  async pay (beneficiary: Address, amount: bigint, seq: bigint): Promise<SignedCheque> {
    return await this.change(beneficiary, async (entry) => {
      if (amount < 1n) throw new ChequeInvalidError(`A payment must be positive, not ${amount}`)
      if (seq < 1n || seq > entry.assigned) throw new ChequeInvalidError(`Assignment ${seq} to ${beneficiary} was never handed out (the last is ${entry.assigned})`)
      const lastSeq = entry.last?.cheque.seq ?? 0n
      const cheque = { requestor: this.signer.address, beneficiary: getAddress(beneficiary), cumulative: entry.cumulative + amount, seq: seq > lastSeq ? seq : lastSeq }
      checkChequeTerms(cheque)
      const signed = await signCheque(this.signer, this.deployment, cheque)
      return [{ ...entry, cumulative: cheque.cumulative, last: signed }, signed]
    })
  }

  /** The last cheque signed for `beneficiary`, to send again (after a restart, a lost answer). */
  async last (beneficiary: Address): Promise<SignedCheque | undefined> {
    return (await this.entries.get(beneficiary))?.last
  }

  /** What the requestor owes `beneficiary` in all (cashed or not). */
  async owed (beneficiary: Address): Promise<bigint> {
    return (await this.entries.get(beneficiary))?.cumulative ?? 0n
  }

  private async change<T> (beneficiary: Address, fn: (entry: ChequeBookEntry) => Promise<[ChequeBookEntry, T]>): Promise<T> {
    const [next, result] = await this.entries.change(beneficiary, fn)
    this.log.trace('cheque book %s: assigned %s, owed %s', beneficiary, next.assigned, next.cumulative)
    return result
  }
}
