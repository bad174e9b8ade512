import { defaultLogger } from '@libp2p/logger'
import { checkChequeProgress, verifyCheque } from './cheque.ts'
import { ChequeNotHigherError } from './payment-errors.ts'
import { SavedEntries } from './saved-entries.ts'
import type { SignedCheque } from './cheque.ts'
import type { DepositDeployment } from './deposit-typed-data.ts'
import type { PaymentStore } from './payment-store.ts'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { Address, Hex } from 'viem'

/** What the provider keeps per requestor. */
export interface ChequeWalletEntry {
  /** The highest valid cheque received. */
  cheque?: SignedCheque
  /** What the contract has paid us from this requestor in all (the account's P), as the chain last said. */
  paidOut: bigint
  /** The highest drawn note's seq (the account's D): a cheque below it cannot be cashed. */
  drawnSeq: bigint
  /** What the requestor's accepted verdicts promised in all: the prices of the work it accepted. A held cheque below it is a short payment. */
  owed: bigint
  /** The last cashouts, newest last. */
  cashouts: CashoutRecord[]
}

/** One cheque cashed: the transaction and what it paid. */
export interface CashoutRecord {
  tx: Hex
  amount: bigint
  at: number
}

/** Cashouts kept per requestor. */
const MAX_CASHOUTS = 20

export interface ChequeWalletInit {
  /** The deployment we cash on. */
  deployment: DepositDeployment
  /** Whom cheques must pay: our payee, or our own payment address. */
  beneficiary: Address
  /** Our own payment address: cheques must be for our work. @default beneficiary */
  provider?: Address
  /** Where entries go; a cheque counts as received only once saved. */
  store: PaymentStore<ChequeWalletEntry>
  /**
   * Settle the credits of a requestor made within this many ms together:
   * one signature check (the highest cheque's: a cumulative cheque pays for
   * every one below it) and one write, where one each per verdict was most
   * of what payments cost a provider. A credit made with `now` settles its
   * requestor's at once. @default each credit settles alone, at once
   */
  groupMs?: number
  /** @default defaultLogger() */
  logger?: ComponentLogger
}

/** What a credit found: what the requestor owes in all, the cumulative and seq of the cheque held after, and why its cheque was not kept. */
export interface CreditResult {
  owed: bigint
  held: bigint
  /** The held cheque's seq: the assignments it pays for (0: none held). */
  seq: bigint
  refused?: Error
}

interface PendingCredit {
  price: bigint
  signed?: SignedCheque
  resolve: (result: CreditResult) => void
  reject: (err: unknown) => void
}

/** What a cheque received changed. */
export interface ChequeReceipt {
  /** How much more the requestor owes us than the cheque held said: the price of what it pays for. */
  added: bigint
  /** What we are owed and the contract has not paid: the cheque's cumulative − paid out. */
  uncashed: bigint
}

/**
 * The provider's side: per requestor, the highest valid cheque received
 * and what the contract already paid (which callers read from the chain
 * and tell it). It says which cheques are worth cashing; cashing is the
 * caller's (a transaction, or a relay that cashes in batches).
 */
export class ChequeWallet {
  private readonly deployment: DepositDeployment
  private readonly beneficiary: Address
  private readonly provider: Address
  private readonly log: Logger
  private readonly entries: SavedEntries<ChequeWalletEntry>
  private readonly groupMs?: number
  /** Credits waiting to settle, per requestor (lowercase). */
  private readonly credits = new Map<string, { requestor: Address, items: PendingCredit[], timer?: ReturnType<typeof setTimeout> }>()
  /** Settlements under way, for flush(). */
  private readonly settling = new Set<Promise<unknown>>()

  constructor (init: ChequeWalletInit) {
    this.deployment = init.deployment
    this.beneficiary = init.beneficiary
    this.provider = init.provider ?? init.beneficiary
    this.groupMs = init.groupMs
    // the writes asked for within one turn (a settlement per requestor, a cashing's records) go together
    this.entries = new SavedEntries(init.store, () => ({ paidOut: 0n, drawnSeq: 0n, owed: 0n, cashouts: [] }), { groupMs: init.groupMs == null ? undefined : 0 })
    this.log = (init.logger ?? defaultLogger()).forComponent('golem-clay:payments')
  }

  /**
   * Verifies a cheque from `requestor` (the address its payment binding
   * names: verifyCheque's refusals), checks it is higher than the one held
   * and than what was paid out, with no lower seq (ChequeNotHigherError,
   * ChequeSeqBackwardsError), and keeps it once saved.
   */
  async receive (signed: SignedCheque, requestor: Address): Promise<ChequeReceipt> {
    verifyCheque(signed, { deployment: this.deployment, requestor, beneficiary: this.beneficiary, provider: this.provider })
    return await this.change(requestor, async (entry) => {
      checkChequeProgress(signed.cheque, entry.cheque?.cheque, entry.paidOut)
      // C counts every assignment at its price, drawn notes' too: what it adds is the price of the assignments it adds
      const receipt = { added: signed.cheque.cumulative - (entry.cheque?.cheque.cumulative ?? 0n), uncashed: signed.cheque.cumulative - entry.paidOut }
      return [{ ...entry, cheque: signed }, receipt]
    })
  }

  /**
   * What the chain says of our account with `requestor`: paid out (P) and the highest drawn
   * note's seq (D), after a cashout or a NoteDrawn event. Both only grow
   * on chain, so an older reading never lowers them.
   */
  async chainState (requestor: Address, paidOut: bigint, drawnSeq = 0n): Promise<void> {
    await this.change(requestor, async (entry) => [{
      ...entry,
      paidOut: paidOut > entry.paidOut ? paidOut : entry.paidOut,
      drawnSeq: drawnSeq > entry.drawnSeq ? drawnSeq : entry.drawnSeq
    }, undefined])
  }

  /**
   * Work of ours `requestor` accepted at `price`, and the cheque that came
   * with the verdict: adds the price to what it owes us, and keeps the
   * cheque when it is valid and higher than the one held, in one saved
   * change (with the other credits of its group: groupMs). When the group
   * settles, each cheque's terms are checked against what it follows, and
   * the signature of the highest (every one's if that one is forged). Resolves once
   * saved, with what the requestor owes in all and the cumulative of the
   * cheque held after; `refused` is why the cheque was not kept (one
   * overtaken on the way by a higher one is no refusal: that one pays for it).
   */
  async credit (requestor: Address, price: bigint, signed?: SignedCheque, options: { now?: boolean } = {}): Promise<CreditResult> {
    const key = requestor.toLowerCase()
    let group = this.credits.get(key)
    if (group == null) {
      group = { requestor, items: [] }
      this.credits.set(key, group)
    }
    const done = new Promise<CreditResult>((resolve, reject) => { group.items.push({ price, signed, resolve, reject }) })
    if (this.groupMs == null || options.now === true) this.settle(key)
    else group.timer ??= setTimeout(() => { this.settle(key) }, this.groupMs)
    return await done
  }

  /** Settles `requestor`'s waiting credits now (none of its work is under way any more); their own promises report the outcome. */
  settleNow (requestor: Address): void {
    this.settle(requestor.toLowerCase())
  }

  /** Settles `key`'s waiting credits now: one change, one write. */
  private settle (key: string): void {
    const group = this.credits.get(key)
    if (group == null) return
    this.credits.delete(key)
    clearTimeout(group.timer)
    const { requestor, items } = group
    const settled = this.change(requestor, async (entry) => this.settled(entry, requestor, items))
    void settled.then(
      results => { items.forEach((item, i) => { item.resolve(results[i] as CreditResult) }) },
      (err: unknown) => { for (const item of items) item.reject(err) }
    ).finally(() => { this.settling.delete(settled) })
    this.settling.add(settled)
  }

  /**
   * A group's credits on `entry`, in order: the entry after, and each
   * credit's result. Only the highest cheque's signature is checked (it
   * pays for the ones below); if it is forged, the group is gone through
   * again checking every signature at its turn, as if each came alone.
   */
  private settled (entry: ChequeWalletEntry, requestor: Address, items: PendingCredit[], each = false): [ChequeWalletEntry, CreditResult[]] {
    const expected = { deployment: this.deployment, requestor, beneficiary: this.beneficiary, provider: this.provider }
    let owed = entry.owed ?? 0n
    let top = entry.cheque
    const results: Array<{ owed: bigint, refused?: Error }> = []
    for (const { price, signed } of items) {
      owed += price
      const result: { owed: bigint, refused?: Error } = { owed }
      results.push(result)
      if (signed == null) continue
      try {
        verifyCheque(signed, { ...expected, signature: each })
        checkChequeProgress(signed.cheque, top?.cheque, entry.paidOut)
        top = signed
      } catch (err: any) {
        // one overtaken on the way by a higher one is no refusal: that one pays for it
        if (!(err instanceof ChequeNotHigherError) || (top?.cheque.cumulative ?? 0n) < signed.cheque.cumulative) result.refused = err
      }
    }
    if (!each && top != null && top !== entry.cheque) {
      try {
        verifyCheque(top, expected)
      } catch {
        return this.settled(entry, requestor, items, true)
      }
    }
    const held = top?.cheque.cumulative ?? 0n
    const seq = top?.cheque.seq ?? 0n
    return [{ ...entry, owed, ...(top != null ? { cheque: top } : {}) }, results.map(r => ({ ...r, held, seq }))]
  }

  /** A cashout of the cheque from `requestor`: the chain's new paid-out counter, and the record for the history. */
  async cashed (requestor: Address, record: CashoutRecord, paidOut: bigint): Promise<void> {
    await this.change(requestor, async (entry) => [{
      ...entry,
      paidOut: paidOut > entry.paidOut ? paidOut : entry.paidOut,
      cashouts: [...(entry.cashouts ?? []), record].slice(-MAX_CASHOUTS)
    }, undefined])
  }

  /** Settles the waiting credits and writes every change waiting for its group now; resolves once saved, rejects with the first failure. */
  async flush (): Promise<void> {
    for (const key of [...this.credits.keys()]) this.settle(key)
    const settled = await Promise.allSettled([...this.settling])
    await this.entries.flush()
    const failed = settled.find(r => r.status === 'rejected')
    if (failed != null) throw failed.reason
  }

  /** Every entry, by requestor address (lowercase): for a wallet's view. */
  async entriesByRequestor (): Promise<Array<[string, ChequeWalletEntry]>> {
    return await this.entries.list()
  }

  /** The cheque held from `requestor`. */
  async held (requestor: Address): Promise<SignedCheque | undefined> {
    return (await this.entries.get(requestor))?.cheque
  }

  /** What `requestor` owes us and the contract has not paid yet. */
  async uncashed (requestor: Address): Promise<bigint> {
    const entry = (await this.entries.get(requestor))
    return entry == null ? 0n : uncashedOf(entry)
  }

  /**
   * The cheques worth cashing now: `threshold` or more uncashed, and not
   * behind a drawn note (the contract would refuse: ChequeBehindNote).
   * Largest first.
   */
  async toCash (threshold = 1n): Promise<SignedCheque[]> {
    const worth: Array<{ cheque: SignedCheque, uncashed: bigint }> = []
    for (const entry of (await this.entries.all())) {
      const uncashed = uncashedOf(entry)
      if (entry.cheque == null || uncashed < threshold || uncashed === 0n || entry.cheque.cheque.seq < entry.drawnSeq) continue
      worth.push({ cheque: entry.cheque, uncashed })
    }
    return worth.sort((a, b) => (a.uncashed < b.uncashed ? 1 : a.uncashed > b.uncashed ? -1 : 0)).map(w => w.cheque)
  }

  private async change<T> (requestor: Address, fn: (entry: ChequeWalletEntry) => Promise<[ChequeWalletEntry, T]>): Promise<T> {
    const [next, result] = await this.entries.change(requestor, fn)
    this.log.trace('cheque wallet %s: held %s, paid out %s', requestor, next.cheque?.cheque.cumulative ?? 0n, next.paidOut)
    return result
  }
}

function uncashedOf ({ cheque, paidOut }: ChequeWalletEntry): bigint {
  const cumulative = cheque?.cheque.cumulative ?? 0n
  return cumulative > paidOut ? cumulative - paidOut : 0n
}
