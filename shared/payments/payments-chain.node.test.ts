import { hashDomain, parseEventLogs } from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { clayDepositAbi } from '../../contracts/index.ts'
import { TOKEN, callDeposit, depositBalance, fundDeposit, revertReason, startTestChain, tokenBalance } from '../../relay/testing/test-chain.ts'
import { ChequeBook } from './cheque-book.ts'
import { ChequeWallet } from './cheque-wallet.ts'
import { checkDepositCover } from './deposit-cover.ts'
import { depositDomain } from './deposit-typed-data.ts'
import { InsufficientDepositError } from './payment-errors.ts'
import { MemoryPaymentStore } from './payment-store.ts'
import { chequeFromWire, chequeToWire, noteFromWire, noteToWire } from './payment-wire.ts'
import { subtaskId, verifyNote } from './promissory-note.ts'
import type { SignedCheque } from './cheque.ts'
import type { Actor, TestChain } from '../../relay/testing/test-chain.ts'
import type { Address } from 'viem'

/** The account of a provider paid itself. */
const self = (address: Address): { beneficiary: Address, provider: Address } => ({ beneficiary: address, provider: address })

/**
 * The payments code against the real contract on Anvil: cheques and notes
 * made here are cashed and drawn by ClayDeposit, so this code's EIP-712
 * hashing and signatures are the contract's.
 */

let t: TestChain
beforeAll(async () => { t = await startTestChain() }, 60_000)
afterAll(async () => { await t?.stop() })
afterEach(async () => { await t.reset() })

function book (requestor: Actor): ChequeBook {
  return new ChequeBook({ deployment: t.deployment, signer: requestor.account, store: new MemoryPaymentStore() })
}

function wallet (provider: Actor): ChequeWallet {
  return new ChequeWallet({ deployment: t.deployment, beneficiary: provider.address, provider: provider.address, store: new MemoryPaymentStore() })
}

/** What the contract says of an account (a provider paid itself): paid out, settled seq, drawn seq. */
async function account (requestor: Actor, beneficiary: Actor): Promise<readonly [bigint, bigint, bigint]> {
  return await t.client.readContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'accounts', args: [requestor.address, beneficiary.address, beneficiary.address] })
}

/** A cheque as the provider gets it: through its wire form. */
function received (signed: SignedCheque): SignedCheque {
  return chequeFromWire(JSON.parse(JSON.stringify(chequeToWire(signed))))
}

async function cashOne (by: Actor, signed: SignedCheque): Promise<void> {
  await callDeposit(t, by, 'cashCheque', [signed.cheque, signed.signature])
}

describe('payments on the real deposit contract', () => {
  it('hash the domain as the contract does', async () => {
    const separator = await t.client.readContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'domainSeparator' })
    const types = { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }, { name: 'salt', type: 'bytes32' }] }
    expect(hashDomain({ domain: depositDomain(t.deployment), types } as Parameters<typeof hashDomain>[0])).toBe(separator)
  })

  it('cash the cheques a ChequeBook signs and a ChequeWallet takes, one at a time', async () => {
    const { requestor, provider, stranger } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    const b = book(requestor)
    const w = wallet(provider)
    for (let i = 0; i < 3; i++) await b.nextSeq(self(provider.address))
    await w.receive(received(await b.pay(self(provider.address), 5n * TOKEN, 1n)), requestor.address)
    await w.receive(received(await b.pay(self(provider.address), 5n * TOKEN, 2n)), requestor.address)
    const [first] = await w.toCash(TOKEN)
    if (first == null) throw new Error('nothing to cash')
    await cashOne(stranger, first)
    expect(await tokenBalance(t, provider.address)).toBe(10n * TOKEN)
    const [paidOut, settled] = await account(requestor, provider)
    expect([paidOut, settled]).toEqual([10n * TOKEN, 2n])
    await w.chainState(requestor.address, paidOut)
    expect(await w.toCash()).toEqual([])
    // the next one pays the difference; the old one again is refused by both
    await w.receive(received(await b.pay(self(provider.address), 5n * TOKEN, 3n)), requestor.address)
    expect(await revertReason(cashOne(stranger, first))).toBe('ChequeNotHigher')
    const [next] = await w.toCash()
    if (next == null) throw new Error('nothing to cash')
    await cashOne(provider, next)
    expect(await tokenBalance(t, provider.address)).toBe(15n * TOKEN)
    expect(await depositBalance(t, requestor.address)).toBe(35n * TOKEN)
  })

  it('cash a batch with cashCheques, from several requestors to several providers', async () => {
    const { requestor, requestor2, provider, provider2, relay } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    await fundDeposit(t, requestor2, 50n * TOKEN)
    const books = [book(requestor), book(requestor2)]
    const cheques: SignedCheque[] = []
    for (const [i, b] of books.entries()) {
      for (const p of [provider, provider2]) {
        await b.nextSeq(self(p.address))
        await b.nextSeq(self(p.address))
        await b.pay(self(p.address), BigInt(i + 1) * TOKEN, 1n)
        cheques.push(await b.pay(self(p.address), 2n * TOKEN, 2n))
      }
    }
    const cashouts = cheques.map(received).map(({ cheque, signature }) => ({ cheque, signature, callerFee: 0n, beneficiarySignature: '0x' as const }))
    const hash = await relay.wallet.writeContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'cashCheques', args: [cashouts] })
    const receipt = await t.client.waitForTransactionReceipt({ hash })
    expect(parseEventLogs({ abi: clayDepositAbi, eventName: 'ChequeCashed', logs: receipt.logs })).toHaveLength(4)
    // provider: 3 from requestor, 4 from requestor2; the same for provider2
    expect(await tokenBalance(t, provider.address)).toBe(7n * TOKEN)
    expect(await tokenBalance(t, provider2.address)).toBe(7n * TOKEN)
    expect(await depositBalance(t, requestor.address)).toBe(44n * TOKEN)
    expect(await depositBalance(t, requestor2.address)).toBe(42n * TOKEN)
  })

  it('refuse, as the contract would, a cheque the deposit does not cover', async () => {
    const { requestor, provider } = t.actors
    await fundDeposit(t, requestor, 4n * TOKEN)
    const b = book(requestor)
    await b.nextSeq(self(provider.address))
    const signed = await b.pay(self(provider.address), 5n * TOKEN, 1n)
    const [paidOut] = await account(requestor, provider)
    const deposit = await depositBalance(t, requestor.address)
    expect(() => checkDepositCover(signed.cheque, { deposit, paidOut })).toThrow(InsufficientDepositError)
    expect(await revertReason(cashOne(provider, signed))).toBe('InsufficientDeposit')
  })

  it('draw a note a ChequeBook signed with its assignment, by an authorized arbiter; the next cheque nets it out', async () => {
    const { requestor, provider, arbiter, owner, stranger } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    await callDeposit(t, owner, 'setArbiter', [arbiter.address, 20n * TOKEN])
    const b = book(requestor)
    const w = wallet(provider)
    const task = 'f'.repeat(64)
    const notes = []
    for (let i = 0; i < 3; i++) notes.push(noteFromWire(JSON.parse(JSON.stringify(noteToWire(await b.assign(self(provider.address), subtaskId(task, i), 5n * TOKEN))))))
    for (const [i, n] of notes.entries()) verifyNote(n, { deployment: t.deployment, requestor: requestor.address, beneficiary: provider.address, provider: provider.address, subtask: subtaskId(task, i), seq: BigInt(i + 1), amount: 5n * TOKEN })
    // 1 is paid by cheque; the requestor goes silent on 2, and the arbiter draws its note
    await w.receive(received(await b.pay(self(provider.address), 5n * TOKEN, 1n)), requestor.address)
    const drawn = notes[1]
    if (drawn == null) throw new Error('no note')
    const hash = await arbiter.wallet.writeContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'drawNote', args: [drawn.note, drawn.signature] })
    const [event] = parseEventLogs({ abi: clayDepositAbi, eventName: 'NoteDrawn', logs: (await t.client.waitForTransactionReceipt({ hash })).logs })
    expect(event?.args).toMatchObject({ requestor: requestor.address, beneficiary: provider.address, provider: provider.address, subtask: subtaskId(task, 1), seq: 2n, amount: 5n * TOKEN })
    expect(await tokenBalance(t, provider.address)).toBe(5n * TOKEN)
    // only an arbiter draws, and once
    expect(await revertReason(callDeposit(t, stranger, 'drawNote', [drawn.note, drawn.signature]))).toBe('NotArbiter')
    expect(await revertReason(callDeposit(t, arbiter, 'drawNote', [drawn.note, drawn.signature]))).toBe('NoteAlreadyDrawn')
    const [paidOut, , drawnSeq] = await account(requestor, provider)
    await w.chainState(requestor.address, paidOut, drawnSeq)
    // the cheque for 1 alone is behind the note: not to cash; the one for 1..3 pays 1 and 3
    expect(await w.toCash()).toEqual([])
    await b.pay(self(provider.address), 5n * TOKEN, 2n)
    await w.receive(received(await b.pay(self(provider.address), 5n * TOKEN, 3n)), requestor.address)
    const [cheque] = await w.toCash()
    if (cheque == null) throw new Error('nothing to cash')
    await cashOne(provider, cheque)
    expect(await tokenBalance(t, provider.address)).toBe(15n * TOKEN)
    expect(await account(requestor, provider)).toEqual([15n * TOKEN, 3n, 2n])
  })
})
