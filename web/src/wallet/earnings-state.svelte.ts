import type { Address, EarningsSummary, Hex, ProviderPayments } from '../../../shared/payments/index.ts'
import type { Lifetime } from '../lifetime.ts'

/** How long the card waits after an 'earned' event before reading the summary, ms: events in between are taken together. */
const EARNED_REFRESH_MS = 1000

/** What this tab earned as a provider: the card's view of `services.market.earnings`. */
export type EarningsView = Omit<EarningsSummary, 'deployment'>

/** A finished "Cash now": what the relay cashed for us. */
export interface CashOutcome { count: number, amount: bigint }

/** The summary is read again this often while the tab is visible (cheques also come with events), ms. */
const REFRESH_MS = 20_000
/** After a read that found no chain yet (the relay not connected after a reload), ms. */
const RETRY_MS = 2_000
/** How long a "Cash now" may take: the relay sends one transaction per batch of 20 cheques, ms. */
const CASH_TIMEOUT_MS = 120_000

/**
 * The provider side of the wallet card: earned, cashed and uncashed (from
 * the node's cheque wallet, kept in IndexedDB), the requestors that pay
 * this tab, the last cashouts, and "Cash now" (the relay cashes the held
 * cheques in batches and pays the gas). Read again on 'earned' and 'cashed'.
 */
export class EarningsState {
  /** undefined until the node runs a provider and its summary was read. */
  summary = $state.raw<EarningsView>()
  /** Requestors that stopped paying as agreed: no more work for them for a while. */
  defaulted = $state.raw<Record<Address, string>>({})
  cashing = $state(false)
  error = $state<string>()
  done = $state<CashOutcome>()
  private earnings?: ProviderPayments
  private reading?: Promise<void>
  private again = false
  /** What each payer's held cheque pays in all, per the 'earned' events not yet in the summary (lowercase address). */
  private readonly totals = new Map<string, bigint>()

  constructor (private readonly life: Lifetime, private readonly cashed: () => void = () => {}) {}

  /** The node's provider payments, once the node runs (none: this tab lends no cores, and the card shows no earnings). */
  attach (earnings: ProviderPayments | undefined): void {
    if (this.earnings != null || earnings == null || this.life.ended) return
    this.earnings = earnings
    const { signal } = this.life
    const refresh = (): void => { void this.refresh() }
    // a cheque arrives with every accepted subtask: the card takes them at most once a second, from the
    // events themselves (each says what the payer's held cheque pays in all), not by reading the store again
    let soon = false
    earnings.addEventListener('earned', (evt) => {
      const { payer, total } = evt.detail
      const key = payer.toLowerCase()
      if ((this.totals.get(key) ?? 0n) < total) this.totals.set(key, total)
      if (soon) return
      soon = true
      this.life.after(EARNED_REFRESH_MS, () => { soon = false; this.takeEarned() })
    }, { signal })
    earnings.addEventListener('cashed', () => {
      refresh()
      // the tokens arrived at this tab's address: the wallet's balances change too
      this.cashed()
    }, { signal })
    earnings.addEventListener('defaulted', (evt) => {
      this.defaulted = { ...this.defaulted, [evt.detail.payer]: evt.detail.reason }
    }, { signal })
    this.life.every(REFRESH_MS, () => { if (document.visibilityState === 'visible') refresh() })
    refresh()
  }

  /**
   * Reads the summary again. Asked while a read is under way, it reads once
   * more after it (that read may have begun before the cheques that asked
   * were saved); the asks in between share that one read.
   */
  async refresh (): Promise<void> {
    if (this.reading != null) {
      this.again = true
      return await this.reading
    }
    this.reading = (async () => {
      do {
        this.again = false
        await this.read()
      } while (this.again && !this.life.ended)
    })().finally(() => { this.reading = undefined })
    await this.reading
  }

  /**
   * The 'earned' events since the last look, applied to the summary held:
   * a payer's earned is its held cheque's total, its uncashed that less
   * what was cashed. A payer the summary does not list yet, or no summary
   * yet, is read from the store instead.
   */
  private takeEarned (): void {
    const summary = this.summary
    if (this.totals.size === 0) return
    if (summary == null || this.reading != null || [...this.totals.keys()].some(k => !summary.payers.some(p => p.payer.toLowerCase() === k))) {
      this.totals.clear()
      void this.refresh()
      return
    }
    const payers = summary.payers.map(p => {
      const total = this.totals.get(p.payer.toLowerCase())
      if (total == null || total <= p.earned) return p
      return { ...p, earned: total, uncashed: total > p.cashed ? total - p.cashed : 0n }
    })
    this.totals.clear()
    const sum = (pick: (p: EarningsView['payers'][number]) => bigint): bigint => payers.reduce((t, p) => t + pick(p), 0n)
    // the history is the same array: the card redraws the figures, not the cashouts
    this.summary = { ...summary, payers, earned: sum(p => p.earned), cashed: sum(p => p.cashed), uncashed: sum(p => p.uncashed) }
  }

  private async read (): Promise<void> {
    const earnings = this.earnings
    if (earnings == null || this.life.ended) return
    try {
      const { deployment, ...view } = await earnings.summary({ signal: this.life.signal })
      if (this.life.ended) return
      this.summary = view
      // no relay with a chain answered yet (just reloaded): the held cheques show once one does
      if (deployment == null) this.life.after(RETRY_MS, () => { void this.refresh() })
    } catch (err) {
      if (!this.life.ended) console.warn('golem-clay: could not read the earnings', err)
    }
  }

  /** Has the relay cash every held cheque now: progress while it runs, what it cashed or why not after. */
  async cash (): Promise<void> {
    const earnings = this.earnings
    if (earnings == null || this.cashing) return
    this.cashing = true
    this.error = undefined
    this.done = undefined
    const before = this.summary?.payers.filter(p => p.uncashed > 0n).length ?? 0
    try {
      const cashed = await earnings.cash({ signal: AbortSignal.any([this.life.signal, AbortSignal.timeout(CASH_TIMEOUT_MS)]) })
      this.done = { count: cashed.length, amount: cashed.reduce((sum, c) => sum + c.amount, 0n) }
      // cash() reports refusals per cheque in its log only: what is still uncashed says there were some
      if (cashed.length < before) this.error = `${before - cashed.length} of ${before} cheques were not cashed: the contract refused them (a requestor's deposit too small, or paid out already). They stay held; try again later`
    } catch (err) {
      if (this.life.ended) return
      this.error = cashError(err)
    } finally {
      this.cashing = false
    }
    await this.refresh()
  }
}

/** Why a cashout failed, in words, and what to do. */
export function cashError (err: unknown): string {
  const e = err as { name?: string, message?: string } | null
  switch (e?.name) {
    case 'ChainUnavailableError': return 'No relay this tab is connected to cashes cheques right now: they stay held; try again once it is back'
    case 'ChainCallError': return `The relay's chain refused the cashout (${e.message ?? 'no reason given'}): the cheques stay held; try again later`
    case 'TimeoutError':
    case 'AbortError': return 'The relay did not answer in time: the cheques stay held (one may have been cashed meanwhile: the list updates once it is mined); try again later'
    default: return `The cashout failed: ${e?.message ?? String(err)}. The cheques stay held; try again later`
  }
}

/** A transaction hash as the card shows it: the first and last bytes. */
export function shortHash (hash: Hex): string {
  return `${hash.slice(0, 10)}…${hash.slice(-6)}`
}
