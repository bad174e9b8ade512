import { TypedEventEmitter } from 'main-event'
import { describe, expect, it } from 'vitest'
import { Lifetime } from '../lifetime.ts'
import { cashError, EarningsState, shortHash } from './earnings-state.svelte.ts'
import type { EarningsSummary, ProviderPayments, ProviderPaymentsEvents } from '../../../shared/payments/index.ts'

const PAYER = '0x00000000000000000000000000000000000000aa'
const TX = `0x${'ab'.repeat(32)}` as const

/** A provider's payments as the card sees them: a summary, cash(), the events. */
class FakeEarnings extends TypedEventEmitter<ProviderPaymentsEvents> {
  earned = 0n
  cashed = 0n
  async summary (): Promise<EarningsSummary> {
    const uncashed = this.earned - this.cashed
    return {
      deployment: { chainId: 31337, address: PAYER, salt: '0x00' },
      earned: this.earned,
      cashed: this.cashed,
      uncashed,
      payers: this.earned > 0n ? [{ payer: PAYER, earned: this.earned, cashed: this.cashed, uncashed }] : [],
      history: this.cashed > 0n ? [{ payer: PAYER, tx: TX, amount: this.cashed, at: 1 }] : []
    }
  }

  async cash (): Promise<Array<{ payer: `0x${string}`, tx: `0x${string}`, amount: bigint }>> {
    const amount = this.earned - this.cashed
    this.cashed = this.earned
    this.safeDispatchEvent('cashed', { detail: { payer: PAYER, tx: TX, amount } })
    return [{ payer: PAYER, tx: TX, amount }]
  }
}

describe('the wallet card\'s earnings', () => {
  it('reads the summary on attach and on every cheque, cashes on demand and tells the wallet', async () => {
    const life = new Lifetime()
    const fake = new FakeEarnings()
    let walletRefreshed = 0
    const state = new EarningsState(life, () => { walletRefreshed++ })
    state.attach(fake as unknown as ProviderPayments)
    await state.refresh()
    expect(state.summary?.earned).toBe(0n)

    fake.earned = 3n
    fake.safeDispatchEvent('earned', { detail: { payer: PAYER, amount: 3n, total: 3n } })
    await expect.poll(() => state.summary?.uncashed).toBe(3n)
    expect(state.summary?.payers.map(p => p.payer)).toEqual([PAYER])

    await state.cash()
    expect(state.done).toEqual({ count: 1, amount: 3n })
    expect(state.error).toBeUndefined()
    expect(state.summary?.uncashed).toBe(0n)
    expect(state.summary?.history.map(h => h.tx)).toEqual([TX])
    expect(walletRefreshed).toBe(1)
    life.end()
  })

  it('takes a known payer\'s later cheques from the events, without reading the store again', async () => {
    const life = new Lifetime()
    const fake = new FakeEarnings()
    fake.earned = 4n
    fake.cashed = 1n
    let reads = 0
    const summary = fake.summary.bind(fake)
    fake.summary = async () => { reads++; return await summary() }
    const state = new EarningsState(life)
    state.attach(fake as unknown as ProviderPayments)
    await expect.poll(() => state.summary?.earned).toBe(4n)
    const history = state.summary?.history
    const before = reads
    // three cheques within the second: one update, the highest total
    for (const total of [5n, 7n, 6n]) fake.safeDispatchEvent('earned', { detail: { payer: PAYER, amount: 1n, total } })
    await expect.poll(() => state.summary?.earned).toBe(7n)
    expect(state.summary?.uncashed).toBe(6n)
    expect(state.summary?.cashed).toBe(1n)
    expect(state.summary?.payers).toEqual([{ payer: PAYER, earned: 7n, cashed: 1n, uncashed: 6n }])
    expect(state.summary?.history).toBe(history)
    expect(reads).toBe(before)
    // a payer the card does not list yet: the store is read
    const other = '0x00000000000000000000000000000000000000bb'
    fake.safeDispatchEvent('earned', { detail: { payer: other, amount: 1n, total: 1n } })
    await expect.poll(() => reads).toBe(before + 1)
    life.end()
  })

  it('reads once more when asked during a read that began before the change', async () => {
    const life = new Lifetime()
    const fake = new FakeEarnings()
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    const summary = fake.summary.bind(fake)
    let reads = 0
    fake.summary = async () => {
      reads++
      // the first read takes its figures, then waits: what changes meanwhile is not in it
      const out = await summary()
      if (reads === 1) await gate
      return out
    }
    const state = new EarningsState(life)
    state.attach(fake as unknown as ProviderPayments)
    fake.earned = 5n
    const asked = state.refresh()
    release()
    await asked
    expect(state.summary?.earned).toBe(5n)
    expect(reads).toBe(2)
    life.end()
  })

  it('says why a cashout failed, in words', () => {
    expect(cashError(Object.assign(new Error('x'), { name: 'ChainUnavailableError' }))).toMatch(/^No relay this tab is connected to cashes cheques/)
    expect(cashError(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toMatch(/did not answer in time/)
    expect(shortHash(TX)).toBe('0xabababab…ababab')
  })
})
