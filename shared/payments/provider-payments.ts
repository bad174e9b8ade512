import { defaultLogger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { getAddress } from 'viem'
import { ChequeWallet } from './cheque-wallet.ts'
import { checkDepositCover } from './deposit-cover.ts'
import { sameDeployment } from './deposit-typed-data.ts'
import { deploymentNamespace, memoryLedgerStores } from './ledger-stores.ts'
import { NoteGuard } from './note-guard.ts'
import { ChainUnavailableError, NoteInvalidError, PayerDefaultedError, WrongDeploymentError } from './payment-errors.ts'
import { chequeFromWire, noteFromWire } from './payment-wire.ts'
import { subtaskId, verifyNote } from './promissory-note.ts'
import { preloadSignatureCheck } from './signature-check.ts'
import type { ChainClient } from './chain-client.ts'
import type { SignedCheque } from './cheque.ts'
import type { CashoutRecord } from './cheque-wallet.ts'
import type { SignedNote } from './promissory-note.ts'
import type { DepositDeployment } from './deposit-typed-data.ts'
import type { LedgerStores } from './ledger-stores.ts'
import type { PaymentAccount } from './payment-account.ts'
import type { AbortOptions, ComponentLogger, Logger } from '@libp2p/interface'
import type { Address, Hex } from 'viem'

export interface ProviderPaymentsInit {
  /** Offer for paid tasks only. @default false: unpaid tasks (a relay without a chain) are volunteered for */
  paidOnly?: boolean
  /**
   * Whom the cheques and notes must pay: another address than this node's
   * (a widget's site owner, who gets the tokens when they are cashed). They
   * still name this node as the provider, so every node paying one payee
   * has its own account on the contract, which no other node's cheques move.
   * @default the node's payment address
   */
  payee?: Address
  /** Cash a requestor's cheque once this much of it is uncashed, in the token's base units. @default 10^17 (0.1 of an 18-decimal token) */
  cashThreshold?: bigint
  /** First wait before cashing again after the chain could not be reached, ms; doubles up to a minute. @default 5_000 */
  retryMs?: number
  /** How long a requestor that stopped paying gets no work, ms. @default 600_000 */
  defaultedFor?: number
  /**
   * While more of a requestor's work is under way, the cheques of its
   * verdicts within this many ms are checked and saved together: one
   * signature check (the highest cheque's, which pays for the others) and
   * one write, where one each per verdict were most of what payments cost
   * a provider. The verdict after which none of its work is under way
   * settles at once. A cheque counts as earned only once saved. A crash
   * loses at most this window's cheques, and the requestor's next cheque,
   * cumulative, pays for them again (when the work under way is accepted).
   * @default 1000
   */
  saveGroupMs?: number
}

export interface ProviderPaymentsComponents {
  payments: Pick<PaymentAccount, 'address'>
  chain?: Pick<ChainClient, 'deployment' | 'account' | 'cash'>
  ledgers?: LedgerStores
  logger?: ComponentLogger
}

/** Unpaid notes kept per requestor (the oldest out first). */
const MAX_NOTES = 4096

/** What a paid task promises its providers, from its verified header. */
export interface PaidTask {
  task: string
  payer: Address
  price: bigint
  deployment: DepositDeployment
  budget: bigint
}

export interface ProviderPaymentsEvents {
  /** An accepted verdict's cheque was taken: `total` is what the requestor's held cheque pays us in all. */
  earned: CustomEvent<{ payer: Address, amount: bigint, total: bigint }>
  /** A cheque was cashed on chain. */
  cashed: CustomEvent<{ payer: Address, tx: Hex, amount: bigint }>
  /** A requestor stopped paying as agreed: no more work for it for a while. */
  defaulted: CustomEvent<{ payer: Address, reason: string }>
}

/** A wallet's view: per requestor and in all. */
export interface EarningsSummary {
  deployment?: DepositDeployment
  /** What valid cheques held pay in all. */
  earned: bigint
  /** What the contract paid us. */
  cashed: bigint
  uncashed: bigint
  payers: Array<{ payer: Address, earned: bigint, cashed: bigint, uncashed: bigint }>
  history: Array<CashoutRecord & { payer: Address }>
}

/**
 * The provider's side of payments: offers only to requestors whose deposit
 * covers the task (and is not being withdrawn), checks each assignment's
 * promissory note and each accepted verdict's cheque at once (signature,
 * amount, deposit cover), keeps the latest cheque per requestor (its
 * ChequeWallet, saved) and has the relay cash them in batches: past a
 * threshold, on demand, and at once when a requestor starts to withdraw.
 * A requestor that stops paying gets no more work.
 */
export class ProviderPayments extends TypedEventEmitter<ProviderPaymentsEvents> {
  private readonly components: ProviderPaymentsComponents
  private readonly init: ProviderPaymentsInit
  private readonly ledgers: LedgerStores
  private readonly log: Logger
  private readonly guard = new NoteGuard()
  private readonly wallets = new Map<string, ChequeWallet>()
  private readonly defaulted = new Map<string, { at: number, reason: string }>()
  /** Notes not yet paid for by a cheque, per requestor (lowercase) and seq: what Concent will be shown. */
  private readonly notes = new Map<string, Map<bigint, SignedNote>>()
  private cashing?: Promise<void>
  private retryTimer?: ReturnType<typeof setTimeout>
  private retryMs: number
  private stopped = false

  constructor (components: ProviderPaymentsComponents, init: ProviderPaymentsInit = {}) {
    super()
    this.components = components
    this.init = init
    this.ledgers = components.ledgers ?? memoryLedgerStores()
    this.retryMs = init.retryMs ?? 5_000
    this.log = (components.logger ?? defaultLogger()).forComponent('golem-clay:payments')
  }

  /** The beneficiary of the cheques and notes this provider takes: its payee, or its own payment address. */
  get address (): Address { return this.init.payee ?? this.components.payments.address }

  /** The provider they must name: this node's own payment address. */
  get provider (): Address { return this.components.payments.address }

  stop (): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
  }

  /** Saves the cheques waiting for their group now (before a stop). */
  async flush (): Promise<void> {
    await Promise.all([...this.wallets.values()].map(async w => { await w.flush() }))
  }

  /**
   * None of `payer`'s work on `deployment` is under way here any more:
   * the cheques waiting for their group settle now (no later verdict will
   * bring a higher one). Its credits' own promises report the outcome.
   */
  settle (payer: Address, deployment: DepositDeployment): void {
    this.wallets.get(this.walletKey(deployment))?.settleNow(payer)
  }

  /** Why not to offer for a task (undefined: offer). Unpaid tasks are for volunteers; paid ones need a covering deposit on our chain. */
  async mayOffer (task: PaidTask | undefined, options: AbortOptions = {}): Promise<string | undefined> {
    if (task == null) return this.init.paidOnly === true ? 'it is unpaid, and this provider takes paid tasks only' : undefined
    // a paid task: its cheques' signatures will be checked soon, in WebAssembly once loaded
    void preloadSignatureCheck()
    const why = this.isDefaulted(task.payer)
    if (why != null) return `its requestor stopped paying (${why})`
    const ours = await this.components.chain?.deployment(options).catch(() => undefined)
    if (ours == null) return 'it is paid on a chain this provider does not reach'
    if (!sameDeployment(ours, task.deployment)) return 'it is paid on another deployment than this provider\'s relay runs'
    const state = await this.components.chain?.account(task.payer, this.address, { ...options, provider: this.provider })
    if (state == null) return 'the requestor\'s deposit could not be read'
    if (state.unlockAt !== 0) {
      this.cashSoon('the requestor is withdrawing its deposit')
      return 'its requestor is withdrawing its deposit'
    }
    if (state.deposit < task.budget) return `its requestor's deposit of ${state.deposit} is below the task's budget of ${task.budget}`
    return undefined
  }

  /**
   * Checks the promissory note that came with assignment of `subtask`;
   * throws the typed refusal. Its terms are checked at once, its signature
   * when it is needed (the cheque for it did not come: notesOf()): only the
   * requestor can hand a note to us, over its own stream, and one that pays
   * by cheque never needs its notes, so a signature check per assignment
   * would be CPU spent for nothing.
   */
  takeNote (task: PaidTask, subtask: number, wire: unknown): void {
    this.keepNote(task, this.checkNote(task, subtask, wire))
  }

  /** takeNote's checks alone: the note, for keepNote once the assignment is taken (one refused for another reason is not work owed). */
  checkNote (task: PaidTask, subtask: number, wire: unknown): SignedNote {
    const why = this.isDefaulted(task.payer)
    if (why != null) throw new PayerDefaultedError(`This provider takes no more work from ${task.payer}: ${why}`)
    if (wire == null) throw new NoteInvalidError('A paid task\'s assignment must carry its promissory note')
    const expected = { deployment: task.deployment, requestor: task.payer, beneficiary: this.address, provider: this.provider, subtask: subtaskId(task.task, subtask), amount: task.price }
    // a compact note (the requestor's, from now on) is completed from what we know; a full one is checked against it
    const signed = noteFromWire(wire, expected)
    verifyNote(signed, { ...expected, signature: false })
    this.guard.check(signed.note)
    return signed
  }

  /** Keeps a checked note until a cheque pays for its seq. */
  keepNote (task: PaidTask, signed: SignedNote): void {
    const notes = this.notes.get(task.payer.toLowerCase()) ?? new Map<bigint, SignedNote>()
    notes.set(signed.note.seq, signed)
    if (notes.size > MAX_NOTES) notes.delete(notes.keys().next().value as bigint)
    this.notes.set(task.payer.toLowerCase(), notes)
  }

  /**
   * Forgets the note of a subtask this provider gave up (paused before it
   * had a result): that work is not owed, so no arbiter is ever shown it.
   */
  dropNote (payer: Address, task: string, subtask: number): void {
    const notes = this.notes.get(payer.toLowerCase())
    if (notes == null) return
    const id = subtaskId(task, subtask)
    for (const [seq, signed] of notes) if (signed.note.subtask === id) notes.delete(seq)
  }

  /**
   * The notes of `payer` that no cheque has paid for yet, signatures
   * checked now (what an arbiter would be shown); forged ones are dropped
   * and counted.
   */
  notesOf (payer: Address): { valid: SignedNote[], forged: number } {
    const notes = this.notes.get(payer.toLowerCase()) ?? new Map<bigint, SignedNote>()
    const valid: SignedNote[] = []
    let forged = 0
    for (const [seq, signed] of notes) {
      try {
        verifyNote(signed, { deployment: signed.deployment, requestor: payer, beneficiary: this.address, provider: this.provider })
        valid.push(signed)
      } catch {
        forged++
        notes.delete(seq)
      }
    }
    return { valid, forged }
  }

  /**
   * An accepted verdict of a paid task, and the cheque it carried: it must
   * bring what the requestor owes us in all (held cheque ≥ the prices of
   * all work it accepted) within a deposit that covers it. Otherwise the
   * requestor defaulted (PayerDefaultedError; the work is kept on record).
   * `more`: more of its work is under way here, so this cheque may settle
   * with the next ones (saveGroupMs).
   */
  async takeCheque (task: PaidTask, wire: unknown, options: { more?: boolean } = {}): Promise<void> {
    const wallet = this.wallet(task.deployment)
    let signed: SignedCheque | undefined
    let malformed: Error | undefined
    try {
      if (wire != null) signed = chequeFromWire(wire, { deployment: task.deployment, requestor: task.payer, beneficiary: this.address, provider: this.provider })
    } catch (err: any) {
      malformed = err
    }
    // one saved change: the price owed and the cheque kept (its signature checked there)
    const { owed, held, seq, refused } = await wallet.credit(task.payer, task.price, signed, { now: options.more !== true })
    const bad = malformed ?? refused
    if (bad != null) return this.default(task.payer, `its cheque was refused: ${bad.message}`)
    if (held < owed) return this.default(task.payer, `its cheques pay ${held} for work worth ${owed}`)
    // paid by the held cheque up to its seq: those notes will never be needed
    const notes = this.notes.get(task.payer.toLowerCase())
    if (notes != null) for (const s of notes.keys()) if (s <= seq) notes.delete(s)
    this.safeDispatchEvent('earned', { detail: { payer: task.payer, amount: task.price, total: held } })
    const state = await this.components.chain?.account(task.payer, this.address, { provider: this.provider }).catch(() => undefined)
    if (state == null) return
    try {
      checkDepositCover({ cumulative: held }, state)
    } catch (err: any) {
      this.cashSoon('a deposit no longer covers its cheque')
      return this.default(task.payer, err.message)
    }
    if (state.unlockAt !== 0) this.cashSoon('the requestor is withdrawing its deposit')
    else if (held - state.paidOut >= (this.init.cashThreshold ?? 10n ** 17n)) this.cashSoon('past the cashing threshold')
  }

  /**
   * Has the relay cash every cheque worth cashing, in batches; resolves once
   * done. ChainUnavailableError when no connected relay runs a chain (the
   * cheques stay held; in the background, cashing is tried again with backoff).
   */
  async cash (options: AbortOptions = {}): Promise<Array<{ payer: Address, tx: Hex, amount: bigint }>> {
    const chain = this.components.chain
    const deployment = await chain?.deployment(options)
    if (chain == null || deployment == null) throw new ChainUnavailableError('No connected relay runs a chain to cash cheques on: they stay held until one does')
    const wallet = this.wallet(deployment)
    const done: Array<{ payer: Address, tx: Hex, amount: bigint }> = []
    // cheques taken but still waiting for their group's write are cashed too (a failed write: what is saved is still cashed)
    await wallet.flush().catch(() => {})
    const cheques = await wallet.toCash(1n)
    // the records of what the chain did, written as one group rather than one by one
    const recording: Array<Promise<void>> = []
    const record = (what: string, change: Promise<void>): void => {
      recording.push(change.catch((err: Error) => { this.log.error('%s not recorded - %s', what, err.message) }))
    }
    for (let i = 0; i < cheques.length; i += 20) {
      const batch = cheques.slice(i, i + 20)
      const results = await chain.cash(batch, options)
      for (const [j, result] of results.entries()) {
        const signed = batch[j]
        if (signed == null) continue
        const payer = getAddress(signed.cheque.requestor)
        if (result.ok) {
          const amount = BigInt(result.payout)
          this.guard.settle(payer, this.address, this.provider, signed.cheque.seq)
          done.push({ payer, tx: result.tx, amount })
          record(`the cashout ${result.tx}`, wallet.cashed(payer, { tx: result.tx, amount, at: Date.now() }, signed.cheque.cumulative).then(() => {
            this.safeDispatchEvent('cashed', { detail: { payer, tx: result.tx, amount } })
          }))
          continue
        }
        this.log('cheque of %s not cashed - %s: %s', payer, result.error.name, result.error.message)
        // the chain knows better: paid out by someone else's cashout, or behind a drawn note
        const state = await chain.account(payer, this.address, { ...options, maxAgeMs: 0, provider: this.provider }).catch(() => undefined)
        if (state != null) record(`the chain's counters of ${payer}`, wallet.chainState(payer, state.paidOut, state.drawnSeq))
        if (result.error.name === 'InsufficientDeposit') this.default(payer, 'its deposit does not cover its cheque')
      }
    }
    await wallet.flush().catch(() => {})
    await Promise.all(recording)
    return done
  }

  /** What this provider earned, cashed and holds uncashed on its relay's deployment, with the last cashouts. */
  async summary (options: AbortOptions = {}): Promise<EarningsSummary> {
    const deployment = await this.components.chain?.deployment(options).catch(() => undefined)
    const out: EarningsSummary = { earned: 0n, cashed: 0n, uncashed: 0n, payers: [], history: [] }
    if (deployment == null) return out
    out.deployment = deployment
    for (const [key, entry] of await this.wallet(deployment).entriesByRequestor()) {
      const payer = getAddress(key)
      const earned = entry.cheque?.cheque.cumulative ?? 0n
      const cashed = entry.paidOut
      const uncashed = earned > cashed ? earned - cashed : 0n
      out.payers.push({ payer, earned, cashed, uncashed })
      out.earned += earned
      out.cashed += cashed
      out.uncashed += uncashed
      for (const c of entry.cashouts ?? []) out.history.push({ ...c, payer })
    }
    out.history.sort((a, b) => a.at - b.at)
    return out
  }

  /** Cashes in the background (one run at a time), trying again with backoff when the chain is out of reach. */
  cashSoon (why: string): void {
    if (this.cashing != null || this.stopped) return
    this.log('cashing: %s', why)
    this.cashing = this.cash().then(() => {
      this.retryMs = this.init.retryMs ?? 5_000
    }, (err: Error) => {
      this.log('cashing failed, trying again in %d ms - %s', this.retryMs, err.message)
      clearTimeout(this.retryTimer)
      this.retryTimer = setTimeout(() => { this.cashSoon('trying again') }, this.retryMs)
      ;(this.retryTimer as { unref?: () => void }).unref?.()
      this.retryMs = Math.min(this.retryMs * 2, 60_000)
    }).finally(() => { this.cashing = undefined })
  }

  private isDefaulted (payer: Address): string | undefined {
    const d = this.defaulted.get(payer.toLowerCase())
    if (d == null) return undefined
    if (Date.now() - d.at > (this.init.defaultedFor ?? 600_000)) {
      this.defaulted.delete(payer.toLowerCase())
      return undefined
    }
    return d.reason
  }

  private default (payer: Address, reason: string): void {
    const { valid, forged } = this.notesOf(payer)
    this.log('requestor %s defaulted - %s; %d unpaid note(s) held%s', payer, reason, valid.length, forged > 0 ? `, ${forged} forged` : '')
    this.defaulted.set(payer.toLowerCase(), { at: Date.now(), reason })
    this.safeDispatchEvent('defaulted', { detail: { payer, reason } })
  }

  /** Cheques for another payee are kept apart: a node's payee may change between runs. */
  private walletKey (deployment: DepositDeployment): string {
    return this.init.payee == null ? deploymentNamespace(deployment) : `${deploymentNamespace(deployment)}-for-${this.init.payee.toLowerCase()}`
  }

  private wallet (deployment: DepositDeployment): ChequeWallet {
    const ns = this.walletKey(deployment)
    let wallet = this.wallets.get(ns)
    if (wallet == null) {
      wallet = new ChequeWallet({ deployment, beneficiary: this.address, provider: this.provider, store: this.ledgers.wallet(ns), groupMs: this.init.saveGroupMs ?? 1000, logger: this.components.logger })
      this.wallets.set(ns, wallet)
    }
    return wallet
  }
}

/** A header's terms as a provider checks them: undefined for an unpaid task; WrongDeploymentError for terms that don't parse. */
export function paidTask (task: string, payer: Address, price: number, pay: { chainId: number, contract: string, salt: string, budget: string } | undefined): PaidTask | undefined {
  if (pay == null) return undefined
  let contract: Address
  try {
    contract = getAddress(pay.contract)
  } catch {
    throw new WrongDeploymentError('The task names no valid deposit contract')
  }
  return { task, payer, price: BigInt(price), deployment: { chainId: pay.chainId, address: contract, salt: pay.salt as Hex }, budget: BigInt(pay.budget) }
}
