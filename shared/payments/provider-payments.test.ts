import { describe, expect, it } from 'vitest'
import { generatePaymentKey, paymentAccountOf } from './payment-key.ts'
import { memoryLedgerStores } from './ledger-stores.ts'
import { ChequeInvalidError, NoteInvalidError, NoteReplayedError, PayerDefaultedError } from './payment-errors.ts'
import { chequeFromWire, chequeToWire, noteFromWire, noteToWire } from './payment-wire.ts'
import { subtaskId } from './promissory-note.ts'
import { ProviderPayments } from './provider-payments.ts'
import { RequestorPayments } from './requestor-payments.ts'
import { signCheque } from './cheque.ts'
import type { AccountState } from './chain-client.ts'
import type { PaidTask, ProviderPaymentsInit } from './provider-payments.ts'
import type { Address, Hex } from 'viem'

/** Whom a requestor pays for `p`'s work. */
const to = (p: ProviderPayments): { beneficiary: Address, provider: Address } => ({ beneficiary: p.address, provider: p.provider })

// the chain's answers, as a relay would give them (the real chain: relay/market/paid-market.test.ts)
const deployment = { chainId: 31337, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const, salt: `0x${'11'.repeat(32)}` as Hex }
const PRICE = 1000n

function setUp (state: Partial<AccountState> = {}, init: ProviderPaymentsInit = {}): { requestor: RequestorPayments, provider: ProviderPayments, task: PaidTask, defaulted: string[], forger: ReturnType<typeof paymentAccountOf> } {
  const payer = paymentAccountOf(generatePaymentKey())
  const me = paymentAccountOf(generatePaymentKey())
  const account = { deposit: 10n ** 18n, unlockAt: 0, paidOut: 0n, settledSeq: 0n, drawnSeq: 0n, block: 1, ...state }
  const chain = { deployment: async () => deployment, account: async () => account, cash: async () => [] }
  const requestor = new RequestorPayments({ payments: { address: payer.address, account: payer }, chain, ledgers: memoryLedgerStores() })
  const provider = new ProviderPayments({ payments: { address: me.address }, chain, ledgers: memoryLedgerStores() }, { cashThreshold: 10n ** 30n, ...init })
  const defaulted: string[] = []
  provider.addEventListener('defaulted', (evt) => { defaulted.push(evt.detail.reason) })
  return { requestor, provider, task: { task: 't1', payer: payer.address, price: PRICE, deployment, budget: PRICE * 10n }, defaulted, forger: paymentAccountOf(generatePaymentKey()) }
}

describe('ProviderPayments', () => {
  it('takes notes and cheques that pay what was accepted, and holds the highest cheque', async () => {
    const { requestor, provider, task, defaulted } = setUp()
    const a = await requestor.note(deployment, to(provider), 't1', 0, PRICE)
    const b = await requestor.note(deployment, to(provider), 't1', 1, PRICE)
    provider.takeNote(task, 0, a.note)
    provider.takeNote(task, 1, b.note)
    expect(provider.notesOf(task.payer)).toMatchObject({ forged: 0, valid: [{}, {}] })
    // the cheques overtake each other on the way: the higher pays for both
    const first = await requestor.cheque(deployment, to(provider), PRICE, a.seq)
    const second = await requestor.cheque(deployment, to(provider), PRICE, b.seq)
    await provider.takeCheque(task, second)
    await provider.takeCheque(task, first)
    expect(defaulted).toEqual([])
    expect(await provider.summary()).toMatchObject({ earned: 2n * PRICE, uncashed: 2n * PRICE, cashed: 0n })
    // paid by cheque: those notes are no longer kept
    expect(provider.notesOf(task.payer).valid).toEqual([])
  })

  it('drops the note of a subtask it gave up, and only that one', async () => {
    const { requestor, provider, task } = setUp()
    for (const i of [0, 1]) provider.takeNote(task, i, (await requestor.note(deployment, to(provider), 't1', i, PRICE)).note)
    provider.dropNote(task.payer, 't1', 1)
    provider.dropNote(task.payer, 'another task', 0)
    expect(provider.notesOf(task.payer).valid.map(n => n.note.seq)).toEqual([1n])
  })

  it('refuses a full note with other terms or a replayed seq at once; a forged one is found when it is needed', async () => {
    const { requestor, provider, task, forger } = setUp()
    const compact = await requestor.note(deployment, to(provider), 't1', 0, PRICE)
    // the full form, as a requestor of an earlier version sends it: terms of its own to check
    const note = { note: noteToWire(noteFromWire(compact.note, { deployment, requestor: task.payer, ...to(provider), subtask: subtaskId('t1', 0), amount: PRICE })) }
    expect(() => { provider.takeNote({ ...task, price: PRICE + 1n }, 0, note.note) }).toThrow(NoteInvalidError)
    expect(() => { provider.takeNote(task, 1, note.note) }).toThrow(NoteInvalidError)
    expect(() => { provider.takeNote(task, 0, undefined) }).toThrow(NoteInvalidError)
    expect(() => { provider.takeNote(task, 0, { ...note.note, amount: 'lots' }) }).toThrow(NoteInvalidError)
    provider.takeNote(task, 0, note.note)
    // the same seq with another subtask: one of the two could never be drawn
    const other = await requestor.note(deployment, to(provider), 't1', 5, PRICE)
    expect(() => { provider.takeNote(task, 5, { ...other.note, seq: note.note.seq, signature: note.note.signature }) }).toThrow(NoteReplayedError)
    // a signature by someone else over the right terms passes the terms, and is dropped when the notes are shown
    const forged = noteToWire({ deployment, note: { requestor: task.payer, beneficiary: provider.address, provider: provider.address, subtask: subtaskId('t1', 5), seq: BigInt(other.note.seq), amount: PRICE }, signature: (await forger.signMessage({ message: 'x' })).toLowerCase() as Hex })
    provider.takeNote(task, 5, forged)
    expect(provider.notesOf(task.payer)).toMatchObject({ forged: 1, valid: [{ note: { seq: BigInt(note.note.seq) } }] })
  })

  it('completes a compact note from the assignment: one signed for other terms is found when it is needed, like a forged one', async () => {
    const { requestor, provider, task } = setUp()
    const a = await requestor.note(deployment, to(provider), 't1', 0, PRICE)
    const b = await requestor.note(deployment, to(provider), 't1', 1, PRICE)
    expect(JSON.stringify(a.note).length).toBeLessThan(200)
    expect(() => { provider.takeNote(task, 0, { ...a.note, seq: 0 }) }).toThrow(NoteInvalidError)
    expect(() => { provider.takeNote(task, 0, { ...a.note, signature: '0x12' }) }).toThrow(NoteInvalidError)
    provider.takeNote(task, 0, a.note)
    // signed for subtask 1, handed with the assignment of subtask 2: its signature does not cover what the provider knows
    provider.takeNote(task, 2, b.note)
    const shown = provider.notesOf(task.payer)
    expect(shown.forged).toBe(1)
    expect(shown.valid.map(n => [n.note.seq, n.note.subtask, n.note.amount, n.note.beneficiary, n.deployment])).toEqual([[BigInt(a.note.seq), subtaskId('t1', 0), PRICE, provider.address, deployment]])
    // without its assignment's terms, a compact note means nothing
    expect(() => noteFromWire(a.note)).toThrow(NoteInvalidError)
  })

  it('stops working for a requestor whose cheque is missing, short, forged, or beyond its deposit', async () => {
    for (const [what, make] of [
      ['missing', async () => undefined],
      ['forged', async ({ forger, provider }: ReturnType<typeof setUp>) => chequeToWire(await signCheque(forger, deployment, { requestor: forger.address, beneficiary: provider.address, provider: provider.address, cumulative: PRICE, seq: 1n }))],
      ['short', async ({ requestor, provider }: ReturnType<typeof setUp>) => await requestor.cheque(deployment, to(provider), PRICE - 1n, (await requestor.note(deployment, to(provider), 't1', 0, PRICE)).seq)]
    ] as const) {
      const setup = setUp()
      await setup.provider.takeCheque(setup.task, await make(setup))
      expect(setup.defaulted, what).toHaveLength(1)
      expect(() => { setup.provider.takeNote(setup.task, 1, {}) }, what).toThrow(PayerDefaultedError)
      expect(await setup.provider.mayOffer(setup.task), what).toMatch(/stopped paying/)
    }
    const poor = setUp({ deposit: PRICE - 1n })
    await poor.provider.takeCheque(poor.task, await poor.requestor.cheque(deployment, to(poor.provider), PRICE, (await poor.requestor.note(deployment, to(poor.provider), 't1', 0, PRICE)).seq))
    expect(poor.defaulted[0]).toMatch(/does not cover/)
  })

  it('completes a compact cheque from the task and itself: one signed for another provider is refused as forged, and the requestor defaulted', async () => {
    const { requestor, provider, task, defaulted } = setUp()
    const elsewhere = setUp().provider
    // signed to pay another provider: handed to this one, its signature covers other terms
    const misdirected = await requestor.cheque(deployment, to(elsewhere), PRICE, (await requestor.note(deployment, to(elsewhere), 't1', 0, PRICE)).seq)
    expect(JSON.stringify(misdirected).length).toBeLessThan(200)
    expect(() => chequeFromWire(misdirected)).toThrow(ChequeInvalidError)
    expect(() => chequeFromWire({ ...misdirected, cumulative: 'lots' }, { deployment, requestor: task.payer, ...to(provider) })).toThrow(ChequeInvalidError)
    await provider.takeCheque(task, misdirected)
    expect(defaulted).toHaveLength(1)
    expect(defaulted[0]).toMatch(/refused/)
    // the right one, to a provider that still works for it
    const fresh = setUp()
    const s = (await fresh.requestor.note(deployment, to(fresh.provider), 't1', 0, PRICE)).seq
    await fresh.provider.takeCheque(fresh.task, await fresh.requestor.cheque(deployment, to(fresh.provider), PRICE, s))
    expect(fresh.defaulted).toEqual([])
    expect((await fresh.provider.summary()).earned).toBe(PRICE)
  })

  it('takes the cheques of verdicts with more work under way together, once the verdict with none under way comes or flush() is called', async () => {
    // a group time no test waits out: only the verdict with no more work under way, or flush(), settles
    const { requestor, provider, task, defaulted } = setUp({}, { saveGroupMs: 600_000 })
    const earned: bigint[] = []
    provider.addEventListener('earned', (evt) => { earned.push(evt.detail.total) })
    const cheques = []
    for (const i of [0, 1, 2, 3]) cheques.push(await requestor.cheque(deployment, to(provider), PRICE, (await requestor.note(deployment, to(provider), 't1', i, PRICE)).seq))
    const waiting = [provider.takeCheque(task, cheques[0], { more: true }), provider.takeCheque(task, cheques[1], { more: true })]
    await new Promise(resolve => setTimeout(resolve, 20))
    // not saved yet: not earned
    expect(earned).toEqual([])
    expect((await provider.summary()).earned).toBe(0n)
    await provider.takeCheque(task, cheques[2])
    await Promise.all(waiting)
    expect(earned).toEqual([3n * PRICE, 3n * PRICE, 3n * PRICE])
    const last = provider.takeCheque(task, cheques[3], { more: true })
    await provider.flush()
    expect(await provider.summary()).toMatchObject({ earned: 4n * PRICE })
    await last
    expect(defaulted).toEqual([])
  })

  it('settles a payer\'s waiting cheques when its work here ended without another verdict, and leaves other payers\' and deployments\' waiting', async () => {
    const { requestor, provider, task, defaulted } = setUp({}, { saveGroupMs: 600_000 })
    const other = setUp()
    const cheque = async (r: RequestorPayments, i: number): Promise<unknown> => await r.cheque(deployment, to(provider), PRICE, (await r.note(deployment, to(provider), 't1', i, PRICE)).seq)
    const first = provider.takeCheque(task, await cheque(requestor, 0), { more: true })
    const second = provider.takeCheque(task, await cheque(requestor, 1), { more: true })
    const theirs = provider.takeCheque({ ...task, payer: other.task.payer }, await cheque(other.requestor, 0), { more: true })
    let settled = false
    void Promise.all([first, second]).then(() => { settled = true })
    // another deployment's wallet, or another payer, is no match
    provider.settle(task.payer, { ...deployment, salt: `0x${'22'.repeat(32)}` })
    provider.settle(paymentAccountOf(generatePaymentKey()).address, deployment)
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(settled).toBe(false)
    provider.settle(task.payer, deployment)
    await Promise.all([first, second])
    expect(await provider.summary()).toMatchObject({ earned: 2n * PRICE })
    let theirsSettled = false
    void theirs.then(() => { theirsSettled = true })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(theirsSettled).toBe(false)
    await provider.flush()
    await theirs
    expect(await provider.summary()).toMatchObject({ earned: 3n * PRICE })
    expect(defaulted).toEqual([])
  })

  it('offers only on its own deployment, to a locked deposit that holds the budget, or for unpaid tasks unless paid-only', async () => {
    const { provider, task } = setUp()
    expect(await provider.mayOffer(task)).toBeUndefined()
    expect(await provider.mayOffer(undefined)).toBeUndefined()
    expect(await provider.mayOffer({ ...task, deployment: { ...deployment, salt: `0x${'22'.repeat(32)}` } })).toMatch(/another deployment/)
    expect(await provider.mayOffer({ ...task, budget: 10n ** 19n })).toMatch(/below the task's budget/)
    expect(await setUp({ unlockAt: 1 }).provider.mayOffer(task)).toMatch(/withdrawing/)
    const strict = new ProviderPayments({ payments: { address: provider.address } }, { paidOnly: true })
    expect(await strict.mayOffer(undefined)).toMatch(/paid tasks only/)
  })
})
