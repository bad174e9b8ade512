import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { ChequeBook } from './cheque-book.ts'
import { ChequeWallet } from './cheque-wallet.ts'
import { signCheque } from './cheque.ts'
import { checkDepositCover } from './deposit-cover.ts'
import {
  ChequeInvalidError, ChequeNotHigherError, ChequeSeqBackwardsError, InsufficientDepositError, WrongBeneficiaryError, WrongDeploymentError, WrongRequestorError, WrongSignerError
} from './payment-errors.ts'
import { MemoryPaymentStore } from './payment-store.ts'
import { subtaskId, verifyNote } from './promissory-note.ts'
import type { ChequeBookEntry } from './cheque-book.ts'
import type { ChequeWalletEntry } from './cheque-wallet.ts'
import type { DepositDeployment } from './deposit-typed-data.ts'
import type { PaymentStore } from './payment-store.ts'
import type { Address } from 'viem'

/** The account of a provider paid itself. */
const self = (address: Address): { beneficiary: Address, provider: Address } => ({ beneficiary: address, provider: address })

const deployment: DepositDeployment = { chainId: 31337, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3', salt: `0x${'5a'.repeat(32)}` }
const requestor = privateKeyToAccount(generatePrivateKey())
const provider = privateKeyToAccount(generatePrivateKey())
const provider2 = privateKeyToAccount(generatePrivateKey())
const mallory = privateKeyToAccount(generatePrivateKey())

/** A store whose saves fail while `failing` is set. */
class FlakyStore<T> extends MemoryPaymentStore<T> {
  failing = false
  override async save (key: string, entry: T): Promise<void> {
    if (this.failing) throw new Error('disk full')
    await super.save(key, entry)
  }
}

function book (store: PaymentStore<ChequeBookEntry> = new MemoryPaymentStore(), reserve?: number): ChequeBook {
  return new ChequeBook({ deployment, signer: requestor, store, reserve })
}

/** A store that counts its writes. */
class CountingStore<T> extends MemoryPaymentStore<T> {
  saves = 0
  override async save (key: string, entry: T): Promise<void> {
    this.saves++
    await super.save(key, entry)
  }
}

function wallet (store: PaymentStore<ChequeWalletEntry> = new MemoryPaymentStore(), beneficiary = provider.address): ChequeWallet {
  return new ChequeWallet({ deployment, beneficiary, store })
}

describe('the cheque book (requestor)', () => {
  it('numbers assignments per beneficiary and pays them with cumulative cheques', async () => {
    const b = book()
    expect(await b.nextSeq(self(provider.address))).toBe(1n)
    expect(await b.nextSeq(self(provider.address))).toBe(2n)
    expect(await b.nextSeq(self(provider2.address))).toBe(1n)
    const first = await b.pay(self(provider.address), 5n, 1n)
    expect(first.cheque).toEqual({ requestor: requestor.address, beneficiary: provider.address, provider: provider.address, cumulative: 5n, seq: 1n })
    expect((await b.pay(self(provider.address), 7n, 2n)).cheque).toMatchObject({ cumulative: 12n, seq: 2n })
    expect((await b.pay(self(provider2.address), 3n, 1n)).cheque).toMatchObject({ beneficiary: provider2.address, provider: provider2.address, cumulative: 3n, seq: 1n })
    expect(await b.owed(self(provider.address))).toBe(12n)
    expect((await b.last(self(provider.address)))?.cheque.cumulative).toBe(12n)
    expect(await b.last(self(mallory.address))).toBeUndefined()
  })

  it('keeps the cheque\'s seq at the highest paid when assignments are accepted out of order', async () => {
    const b = book()
    for (let i = 0; i < 3; i++) await b.nextSeq(self(provider.address))
    expect((await b.pay(self(provider.address), 5n, 3n)).cheque).toMatchObject({ cumulative: 5n, seq: 3n })
    expect((await b.pay(self(provider.address), 5n, 1n)).cheque).toMatchObject({ cumulative: 10n, seq: 3n })
  })

  it('signs the promissory note of each assignment it numbers', async () => {
    const b = book()
    const subtask = subtaskId('task', 0)
    const signed = await b.assign(self(provider.address), subtask, 5n)
    expect(signed.note).toEqual({ requestor: requestor.address, beneficiary: provider.address, provider: provider.address, subtask, seq: 1n, amount: 5n })
    verifyNote(signed, { deployment, requestor: requestor.address, beneficiary: provider.address, provider: provider.address, subtask, seq: 1n, amount: 5n })
    expect((await b.assign(self(provider.address), subtaskId('task', 1), 5n)).note.seq).toBe(2n)
  })

  it('refuses to pay for an assignment it never numbered, or nothing', async () => {
    const b = book()
    await expect(b.pay(self(provider.address), 5n, 1n)).rejects.toThrow(ChequeInvalidError)
    await b.nextSeq(self(provider.address))
    await expect(b.pay(self(provider.address), 5n, 2n)).rejects.toThrow(ChequeInvalidError)
    await expect(b.pay(self(provider.address), 0n, 1n)).rejects.toThrow(ChequeInvalidError)
    await expect(b.pay(self(provider.address), -1n, 1n)).rejects.toThrow(ChequeInvalidError)
    expect(await b.owed(self(provider.address))).toBe(0n)
  })

  it('hands nothing out before it is saved, and picks up where it was after a restart', async () => {
    const store = new FlakyStore<ChequeBookEntry>()
    const b = book(store, 2)
    await b.nextSeq(self(provider.address))
    await b.nextSeq(self(provider.address))
    await b.pay(self(provider.address), 5n, 1n)
    store.failing = true
    await expect(b.pay(self(provider.address), 7n, 2n)).rejects.toThrow('disk full')
    // past the reserved block: the next block must be saved first
    await expect(b.nextSeq(self(provider.address))).rejects.toThrow('disk full')
    expect(await b.owed(self(provider.address))).toBe(5n)
    store.failing = false
    // the seq whose reservation failed is skipped, never handed out
    expect(await b.nextSeq(self(provider.address))).toBe(4n)
    // a new book on the same store: the same debt, the last cheque to send again, numbering above the saved block
    const again = book(store, 2)
    expect((await again.last(self(provider.address)))?.cheque).toMatchObject({ cumulative: 5n, seq: 1n })
    expect((await again.pay(self(provider.address), 7n, 2n)).cheque).toMatchObject({ cumulative: 12n, seq: 2n })
    expect(await again.nextSeq(self(provider.address))).toBe(6n)
  })

  it('reserves seqs in blocks: one write numbers a block, a restart goes on above it', async () => {
    const store = new CountingStore<ChequeBookEntry>()
    const b = book(store)
    for (let i = 1n; i <= 32n; i++) expect(await b.nextSeq(self(provider.address))).toBe(i)
    expect(store.saves).toBe(1)
    expect(await b.nextSeq(self(provider.address))).toBe(33n)
    expect(store.saves).toBe(2)
    await b.pay(self(provider.address), 5n, 33n)
    // a seq of the block not handed out yet is not paid for
    await expect(b.pay(self(provider.address), 5n, 34n)).rejects.toThrow(ChequeInvalidError)
    const again = book(store)
    expect(await again.nextSeq(self(provider.address))).toBe(65n)
    expect((await again.pay(self(provider.address), 5n, 65n)).cheque).toMatchObject({ cumulative: 10n, seq: 65n })
  })

  it('pays concurrently without two cheques starting from the same cumulative', async () => {
    const b = book()
    const seqs = await Promise.all(Array.from({ length: 20 }, async () => await b.nextSeq(self(provider.address))))
    expect(new Set(seqs).size).toBe(20)
    const cheques = await Promise.all(seqs.map(async seq => await b.pay(self(provider.address), 1n, seq)))
    expect(cheques.map(c => c.cheque.cumulative).sort((x, y) => Number(x - y))).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)))
    expect(await b.owed(self(provider.address))).toBe(20n)
  })
})

describe('the cheque wallet (provider)', () => {
  it('keeps the highest valid cheque and says what each added', async () => {
    const b = book()
    const w = wallet()
    for (let i = 0; i < 3; i++) await b.nextSeq(self(provider.address))
    expect(await w.receive(await b.pay(self(provider.address), 5n, 1n), requestor.address)).toEqual({ added: 5n, uncashed: 5n })
    expect(await w.receive(await b.pay(self(provider.address), 7n, 2n), requestor.address)).toEqual({ added: 7n, uncashed: 12n })
    expect((await w.held(requestor.address))?.cheque.cumulative).toBe(12n)
    expect(await w.uncashed(requestor.address)).toBe(12n)
    expect(await w.uncashed(mallory.address)).toBe(0n)
  })

  it('refuses replayed, lower and backwards cheques, and what verifyCheque refuses', async () => {
    const w = wallet()
    const sign = async (cumulative: bigint, seq: bigint): Promise<Awaited<ReturnType<typeof signCheque>>> =>
      await signCheque(requestor, deployment, { requestor: requestor.address, beneficiary: provider.address, provider: provider.address, cumulative, seq })
    const ten = await sign(10n, 3n)
    await w.receive(ten, requestor.address)
    await expect(w.receive(ten, requestor.address)).rejects.toThrow(ChequeNotHigherError)
    await expect(w.receive(await sign(9n, 4n), requestor.address)).rejects.toThrow(ChequeNotHigherError)
    await expect(w.receive(await sign(11n, 2n), requestor.address)).rejects.toThrow(ChequeSeqBackwardsError)
    await expect(w.receive(ten, mallory.address)).rejects.toThrow(WrongRequestorError)
    await expect(wallet(undefined, provider2.address).receive(ten, requestor.address)).rejects.toThrow(WrongBeneficiaryError)
    await expect(new ChequeWallet({ deployment: { ...deployment, chainId: 1 }, beneficiary: provider.address, store: new MemoryPaymentStore() }).receive(ten, requestor.address)).rejects.toThrow(WrongDeploymentError)
    await expect(w.receive({ ...ten, cheque: { ...ten.cheque, cumulative: 20n, seq: 5n } }, requestor.address)).rejects.toThrow(WrongSignerError)
    expect((await w.held(requestor.address))?.cheque.cumulative).toBe(10n)
  })

  it('counts what the chain paid out: uncashed, what to cash, cheques that would pay nothing', async () => {
    const w = wallet()
    const b = book()
    const b2 = new ChequeBook({ deployment, signer: mallory, store: new MemoryPaymentStore() })
    for (let i = 0; i < 4; i++) await b.nextSeq(self(provider.address))
    await b2.nextSeq(self(provider.address))
    await w.receive(await b.pay(self(provider.address), 10n, 1n), requestor.address)
    await w.receive(await b2.pay(self(provider.address), 3n, 1n), mallory.address)
    expect((await w.toCash(5n)).map(c => c.cheque.requestor)).toEqual([requestor.address])
    expect((await w.toCash()).map(c => c.cheque.cumulative)).toEqual([10n, 3n])
    // cashed on chain: nothing left to cash; an older reading does not undo it
    await w.chainState(requestor.address, 10n)
    await w.chainState(requestor.address, 4n)
    expect(await w.uncashed(requestor.address)).toBe(0n)
    expect((await w.toCash()).map(c => c.cheque.requestor)).toEqual([mallory.address])
    // notes for 2 and 3 drawn (P = 20, D = 3): a cheque for 1..2 would pay nothing, one for 1..4 pays assignment 4 only
    await w.chainState(requestor.address, 20n, 3n)
    await b.pay(self(provider.address), 5n, 2n)
    await expect(w.receive(await b.pay(self(provider.address), 5n, 3n), requestor.address)).rejects.toThrow(ChequeNotHigherError)
    expect(await w.receive(await b.pay(self(provider.address), 5n, 4n), requestor.address)).toEqual({ added: 15n, uncashed: 5n })
    expect((await w.toCash()).map(c => c.cheque.cumulative)).toEqual([25n, 3n])
  })

  it('does not cash a cheque behind a drawn note', async () => {
    const w = wallet()
    const b = book()
    for (let i = 0; i < 3; i++) await b.nextSeq(self(provider.address))
    await w.receive(await b.pay(self(provider.address), 10n, 2n), requestor.address)
    await w.chainState(requestor.address, 5n, 3n)
    expect(await w.toCash()).toEqual([])
    await w.receive(await b.pay(self(provider.address), 5n, 3n), requestor.address)
    expect(await w.toCash()).toHaveLength(1)
  })

  it('holds a cheque only once saved, and still holds it after a restart', async () => {
    const store = new FlakyStore<ChequeWalletEntry>()
    const b = book()
    await b.nextSeq(self(provider.address))
    await b.nextSeq(self(provider.address))
    await wallet(store).receive(await b.pay(self(provider.address), 5n, 1n), requestor.address)
    const w = wallet(store)
    expect((await w.held(requestor.address))?.cheque.cumulative).toBe(5n)
    store.failing = true
    const next = await b.pay(self(provider.address), 5n, 2n)
    await expect(w.receive(next, requestor.address)).rejects.toThrow('disk full')
    expect((await w.held(requestor.address))?.cheque.cumulative).toBe(5n)
    store.failing = false
    expect(await w.receive(next, requestor.address)).toEqual({ added: 5n, uncashed: 10n })
  })
})

describe('the cheque wallet\'s credit groups (provider)', () => {
  const grouped = (store: PaymentStore<ChequeWalletEntry>, groupMs = 60_000): ChequeWallet =>
    new ChequeWallet({ deployment, beneficiary: provider.address, store, groupMs })
  const sign = async (signer: 'requestor' | 'forged', cumulative: bigint, seq: bigint): Promise<Awaited<ReturnType<typeof signCheque>>> => {
    // forged: the requestor's signature over other terms
    const signed = await signCheque(requestor, deployment, { requestor: requestor.address, beneficiary: provider.address, provider: provider.address, cumulative: signer === 'forged' ? 1n : cumulative, seq })
    return { ...signed, cheque: { ...signed.cheque, cumulative } }
  }

  it('settles a group in one write, checking only the highest cheque\'s signature; `now` settles it at once', async () => {
    const store = new CountingStore<ChequeWalletEntry>()
    const w = grouped(store)
    const settled: string[] = []
    // a forged cheque below a valid one is never checked: the higher one pays for it
    const first = w.credit(requestor.address, 5n, await sign('forged', 5n, 1n)).then(r => { settled.push('first'); return r })
    const second = w.credit(requestor.address, 5n, await sign('requestor', 10n, 2n)).then(r => { settled.push('second'); return r })
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(settled).toEqual([])
    expect(store.saves).toBe(0)
    const third = w.credit(requestor.address, 5n, await sign('requestor', 15n, 3n), { now: true })
    expect(await Promise.all([first, second, third])).toEqual([{ owed: 5n, held: 15n, seq: 3n }, { owed: 10n, held: 15n, seq: 3n }, { owed: 15n, held: 15n, seq: 3n }])
    expect(store.saves).toBe(1)
    expect((await w.held(requestor.address))?.cheque.cumulative).toBe(15n)
  })

  it('refuses a forged highest cheque and keeps the highest valid one below it', async () => {
    const w = grouped(new MemoryPaymentStore())
    const a = w.credit(requestor.address, 5n, await sign('requestor', 5n, 1n))
    const b = w.credit(requestor.address, 5n, await sign('requestor', 10n, 2n))
    const c = w.credit(requestor.address, 5n, await sign('forged', 15n, 3n))
    const d = w.credit(requestor.address, 5n, undefined)
    await w.flush()
    const results = await Promise.all([a, b, c, d])
    expect(results.map(r => r.held)).toEqual([10n, 10n, 10n, 10n])
    expect(results.map(r => r.owed)).toEqual([5n, 10n, 15n, 20n])
    expect(results[2]?.refused).toBeInstanceOf(WrongSignerError)
    expect(results.filter(r => r.refused != null)).toHaveLength(1)
    expect((await w.held(requestor.address))?.cheque.cumulative).toBe(10n)
  })

  it('goes through a group again, every signature checked, when its highest cheque is forged: a valid cheque after a forged one is kept', async () => {
    const w = grouped(new MemoryPaymentStore())
    const results = await Promise.all([
      w.credit(requestor.address, 5n, await sign('requestor', 5n, 1n)),
      w.credit(requestor.address, 5n, await sign('forged', 100n, 2n)),
      w.credit(requestor.address, 5n, await sign('requestor', 15n, 3n), { now: true })
    ])
    expect(results.map(r => [r.held, r.seq])).toEqual([[15n, 3n], [15n, 3n], [15n, 3n]])
    expect(results.map(r => r.refused?.name)).toEqual([undefined, 'WrongSignerError', undefined])
    expect((await w.held(requestor.address))?.cheque.cumulative).toBe(15n)
  })

  it('settles on its own once the group\'s time is up, and refuses a whole group a failed write lost', async () => {
    const store = new FlakyStore<ChequeWalletEntry>()
    const w = grouped(store, 30)
    expect(await w.credit(requestor.address, 5n, await sign('requestor', 5n, 1n))).toEqual({ owed: 5n, held: 5n, seq: 1n })
    store.failing = true
    const lost = [w.credit(requestor.address, 5n, await sign('requestor', 10n, 2n)), w.credit(requestor.address, 5n, await sign('requestor', 15n, 3n))]
    for (const p of lost) await expect(p).rejects.toThrow('disk full')
    store.failing = false
    expect(await w.held(requestor.address)).toMatchObject({ cheque: { cumulative: 5n } })
    // the requestor's next cheque, cumulative, pays for the lost ones again
    expect(await w.credit(requestor.address, 5n, await sign('requestor', 20n, 4n), { now: true })).toEqual({ owed: 10n, held: 20n, seq: 4n })
  })
})

describe('deposit cover', () => {
  it('passes when the deposit covers what the cheque would pay now, and says how much that is', () => {
    expect(checkDepositCover({ cumulative: 30n }, { deposit: 10n, paidOut: 20n })).toBe(10n)
    expect(checkDepositCover({ cumulative: 30n }, { deposit: 0n, paidOut: 30n })).toBe(0n)
    try {
      checkDepositCover({ cumulative: 30n }, { deposit: 9n, paidOut: 20n })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(InsufficientDepositError)
      expect(err).toMatchObject({ code: 'INSUFFICIENT_DEPOSIT', available: 9n, needed: 10n })
    }
  })
})
