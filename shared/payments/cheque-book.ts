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

/**
 * Whom a requestor pays for one provider's work: the provider's own payment
 * address, and the beneficiary its offer names (the same address unless
 * it has a payee). One account on the contract, one entry here.
 */
export interface PaymentAccountKey {
  beneficiary: Address
  provider: Address
}

/** What the requestor keeps per account (beneficiary and provider). */
export interface ChequeBookEntry {
  /**
   * The highest assignment seq that may have been handed out: seqs are
   * reserved in blocks (ChequeBookInit.reserve), so after a restart
   * numbering goes on above the block, and seqs a crash left unused are
   * skipped (the contract needs them unique and rising, not contiguous).
   */
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
  /**
   * Assignment seqs reserved per save: one write numbers this many
   * assignments, where one write each was half of what the cheque book
   * cost a requestor per subtask. @default 32
   */
  reserve?: number
  /** @default defaultLogger() */
  logger?: ComponentLogger
}

/**
 * The requestor's side: numbers its assignments to each account
 * (beneficiary and provider) 1, 2, 3… (rising; a restart skips what is left
 * of the last saved block) and pays for them with cumulative cheques. Every
 * cheque, and every block of seqs, is saved before anything of it is
 * handed out, so a crash never makes it number two
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
  private readonly reserve: bigint
  /** The last seq handed out this run, per entry: at most its reserved `assigned`. */
  private readonly handed = new Map<string, bigint>()

  constructor (init: ChequeBookInit) {
    this.deployment = init.deployment
    this.signer = init.signer
    this.reserve = BigInt(Math.max(1, Math.floor(init.reserve ?? 32)))
    this.entries = new SavedEntries(init.store, () => ({ assigned: 0n, cumulative: 0n }))
    this.log = (init.logger ?? defaultLogger()).forComponent('golem-clay:payments')
  }

  /** Takes the next assignment number for `to` (its reservation saved before it is returned: never handed out twice). */
  async nextSeq (to: PaymentAccountKey): Promise<bigint> {
    const key = accountKey(to)
    return await this.change(to, async (entry) => {
      const seq = (this.handed.get(key) ?? entry.assigned) + 1n
      // taken even if the reservation's write fails: that seq is then skipped, never handed out twice
      this.handed.set(key, seq)
      // within the saved reservation: nothing to write
      if (seq <= entry.assigned) return [entry, seq]
      return [{ ...entry, assigned: seq + this.reserve - 1n }, seq]
    })
  }

  /**
   * Numbers the next assignment to `to` and signs its promissory note for
   * `subtask` (subtaskId()) at `price`: what goes with the assignment.
   */
  async assign (to: PaymentAccountKey, subtask: Hex, price: bigint): Promise<SignedNote> {
    const seq = await this.nextSeq(to)
    return await signNote(this.signer, this.deployment, { requestor: this.signer.address, beneficiary: getAddress(to.beneficiary), provider: getAddress(to.provider), subtask: subtask.toLowerCase() as Hex, seq, amount: price })
  }

  /**
   * Pays `amount` for assignment `seq` (one `nextSeq` handed out): signs and
   * saves a cheque for what is owed in all, whose seq is the highest paid
   * (assignments may be accepted out of order). ChequeInvalidError for a
   * seq not handed out or an amount that is not positive (after a restart,
   * before this run's first `nextSeq` of `to`, a seq of the last saved block
   * counts as handed out: the book can't tell which of them were).
   */
  async pay (to: PaymentAccountKey, amount: bigint, seq: bigint): Promise<SignedCheque> {
    return await this.change(to, async (entry) => {
      if (amount < 1n) throw new ChequeInvalidError(`A payment must be positive, not ${amount}`)
      const handed = this.handed.get(accountKey(to)) ?? entry.assigned
      const last = handed < entry.assigned ? handed : entry.assigned
      if (seq < 1n || seq > last) throw new ChequeInvalidError(`Assignment ${seq} to ${to.provider} was never handed out (the last is ${last})`)
      const lastSeq = entry.last?.cheque.seq ?? 0n
      const cheque = { requestor: this.signer.address, beneficiary: getAddress(to.beneficiary), provider: getAddress(to.provider), cumulative: entry.cumulative + amount, seq: seq > lastSeq ? seq : lastSeq }
      checkChequeTerms(cheque)
      const signed = await signCheque(this.signer, this.deployment, cheque)
      return [{ ...entry, cumulative: cheque.cumulative, last: signed }, signed]
    })
  }

  /** The last cheque signed for `to`, to send again (after a restart, a lost answer). */
  async last (to: PaymentAccountKey): Promise<SignedCheque | undefined> {
    return (await this.entries.get(accountKey(to)))?.last
  }

  /** What the requestor owes `to` in all (cashed or not). */
  async owed (to: PaymentAccountKey): Promise<bigint> {
    return (await this.entries.get(accountKey(to)))?.cumulative ?? 0n
  }

  private async change<T> (to: PaymentAccountKey, fn: (entry: ChequeBookEntry) => Promise<[ChequeBookEntry, T]>): Promise<T> {
    const key = accountKey(to)
    const [next, result] = await this.entries.change(key, fn)
    this.log.trace('cheque book %s: assigned %s, owed %s', key, next.assigned, next.cumulative)
    return result
  }
}

/** An entry's key (lowercase): the provider's address, then the beneficiary's when it is another (a payee). */
function accountKey ({ beneficiary, provider }: PaymentAccountKey): string {
  const [b, p] = [beneficiary.toLowerCase(), provider.toLowerCase()]
  return p === b ? p : `${p}-for-${b}`
}
