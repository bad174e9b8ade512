import { keccak256, parseEventLogs, toHex } from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { clayDepositAbi } from './index.ts'
import { TOKEN, callDeposit, depositBalance, fundDeposit, revertReason, signCheque, signNote, startTestChain, tokenBalance } from '../relay/testing/test-chain.ts'
import type { Actor, TestChain } from '../relay/testing/test-chain.ts'
import type { PromissoryNote } from './index.ts'
import type { Hex } from 'viem'

let t: TestChain
beforeAll(async () => { t = await startTestChain() }, 60_000)
afterAll(async () => { await t?.stop() })
afterEach(async () => { await t.reset() })

/** A note for `provider`'s work (the beneficiary's own unless given), paid to `beneficiary`. */
function note (requestor: Actor, beneficiary: Actor, seq: bigint, amount: bigint, subtask: Hex = keccak256(toHex(`subtask ${seq}`)), provider = beneficiary): PromissoryNote {
  return { requestor: requestor.address, beneficiary: beneficiary.address, provider: provider.address, subtask, seq, amount }
}

async function draw (arbiter: Actor, signed: { note: PromissoryNote, signature: Hex }): Promise<void> {
  await callDeposit(t, arbiter, 'drawNote', [signed.note, signed.signature])
}

async function cash (signed: { cheque: object, signature: Hex }): Promise<void> {
  await callDeposit(t, t.actors.stranger, 'cashCheque', [signed.cheque, signed.signature])
}

async function account (requestor: Actor, beneficiary: Actor, provider = beneficiary): Promise<readonly [bigint, bigint, bigint]> {
  return await t.client.readContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'accounts', args: [requestor.address, beneficiary.address, provider.address] })
}

async function authorize (arbiter: Actor, dailyCap: bigint): Promise<void> {
  await callDeposit(t, t.actors.owner, 'setArbiter', [arbiter.address, dailyCap])
}

describe('ClayDeposit: promissory notes', () => {
  it('draws a note on its provider\'s account alone: providers sharing a beneficiary keep their own seqs and counters', async () => {
    const { requestor, provider, provider2, arbiter, stranger } = t.actors
    const owner = stranger
    await fundDeposit(t, requestor, 50n * TOKEN)
    await authorize(arbiter, 20n * TOKEN)
    await draw(arbiter, await signNote(t, requestor, note(requestor, owner, 1n, 2n * TOKEN, undefined, provider)))
    // seq 1 of the other provider's account is another note, not a second draw of the first
    await draw(arbiter, await signNote(t, requestor, note(requestor, owner, 1n, 3n * TOKEN, undefined, provider2)))
    expect(await tokenBalance(t, owner.address)).toBe(5n * TOKEN)
    expect(await account(requestor, owner, provider)).toEqual([2n * TOKEN, 0n, 1n])
    expect(await account(requestor, owner, provider2)).toEqual([3n * TOKEN, 0n, 1n])
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, owner, 1n, 2n * TOKEN, undefined, provider))))).toBe('NoteAlreadyDrawn')
  })

  it('lets an arbiter the owner authorized draw a note, once, and nobody else', async () => {
    const { requestor, provider, arbiter, stranger } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    expect(await revertReason(callDeposit(t, stranger, 'setArbiter', [stranger.address, 100n * TOKEN]))).toBe('OwnableUnauthorizedAccount')
    await authorize(arbiter, 20n * TOKEN)
    const signed = await signNote(t, requestor, note(requestor, provider, 1n, 5n * TOKEN))
    expect(await revertReason(draw(stranger, signed))).toBe('NotArbiter')
    expect(await revertReason(draw(provider, signed))).toBe('NotArbiter')
    expect(await revertReason(draw(arbiter, await signNote(t, provider, signed.note)))).toBe('InvalidSignature')
    expect(await revertReason(draw(arbiter, { note: { ...signed.note, amount: 6n * TOKEN }, signature: signed.signature }))).toBe('InvalidSignature')

    const hash = await t.actors.arbiter.wallet.writeContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'drawNote', args: [signed.note, signed.signature] })
    const [event] = parseEventLogs({ abi: clayDepositAbi, eventName: 'NoteDrawn', logs: (await t.client.waitForTransactionReceipt({ hash })).logs })
    expect(event?.args).toEqual({ ...signed.note, arbiter: arbiter.address })
    expect(await tokenBalance(t, provider.address)).toBe(5n * TOKEN)
    expect(await depositBalance(t, requestor.address)).toBe(45n * TOKEN)
    expect(await account(requestor, provider)).toEqual([5n * TOKEN, 0n, 1n])

    // the same note again, or another note for the same assignment
    expect(await revertReason(draw(arbiter, signed))).toBe('NoteAlreadyDrawn')
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, provider, 1n, 5n * TOKEN, keccak256('0x01')))))).toBe('NoteAlreadyDrawn')
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, provider, 2n, 0n))))).toBe('ZeroAmount')

    await authorize(arbiter, 0n)
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, provider, 2n, TOKEN))))).toBe('NotArbiter')
    expect(await tokenBalance(t, provider.address)).toBe(5n * TOKEN)
  })

  it('refuses a note for an assignment a cashed cheque settled; the next cheque nets out a drawn note', async () => {
    const { requestor, provider, arbiter } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    await authorize(arbiter, 50n * TOKEN)
    // assignments 1 to 4 at 5 each; a cheque for 1 and 2
    await cash(await signCheque(t, requestor, { requestor: requestor.address, beneficiary: provider.address, provider: provider.address, cumulative: 10n * TOKEN, seq: 2n }))
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, provider, 2n, 5n * TOKEN))))).toBe('NoteSettled')
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, provider, 1n, 5n * TOKEN))))).toBe('NoteSettled')
    // the requestor does not pay for 3: the arbiter draws its note
    await draw(arbiter, await signNote(t, requestor, note(requestor, provider, 3n, 5n * TOKEN)))
    expect(await account(requestor, provider)).toEqual([15n * TOKEN, 2n, 3n])
    // the cheque for 1 to 4 counts 3 at its note's amount: it pays 4 only
    await cash(await signCheque(t, requestor, { requestor: requestor.address, beneficiary: provider.address, provider: provider.address, cumulative: 20n * TOKEN, seq: 4n }))
    expect(await tokenBalance(t, provider.address)).toBe(20n * TOKEN)
    expect(await account(requestor, provider)).toEqual([20n * TOKEN, 4n, 3n])
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, provider, 4n, 5n * TOKEN))))).toBe('NoteSettled')
    expect(await depositBalance(t, requestor.address)).toBe(30n * TOKEN)
  })

  it('refuses a cheque that does not cover a drawn note (it would pay less than it says)', async () => {
    const { requestor, provider2, arbiter } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    await authorize(arbiter, 50n * TOKEN)
    // assignment 3's note drawn before a cheque for 1 and 2 is cashed
    await draw(arbiter, await signNote(t, requestor, note(requestor, provider2, 3n, 5n * TOKEN)))
    const behind = await signCheque(t, requestor, { requestor: requestor.address, beneficiary: provider2.address, provider: provider2.address, cumulative: 10n * TOKEN, seq: 2n })
    expect(await revertReason(cash(behind))).toBe('ChequeBehindNote')
    // the beneficiary has 1 and 2 drawn too (they are not settled), or waits for a cheque for 1 to 3
    await cash(await signCheque(t, requestor, { requestor: requestor.address, beneficiary: provider2.address, provider: provider2.address, cumulative: 15n * TOKEN, seq: 3n }))
    expect(await tokenBalance(t, provider2.address)).toBe(15n * TOKEN)
    expect(await account(requestor, provider2)).toEqual([15n * TOKEN, 3n, 3n])
  })

  it('keeps each arbiter to its daily cap, and every draw to what the deposit holds', async () => {
    const { requestor, requestor2, provider, arbiter } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    await fundDeposit(t, requestor2, 3n * TOKEN)
    await authorize(arbiter, 10n * TOKEN)
    // start at one in the morning, so no test step crosses midnight
    const now = (await t.client.getBlock()).timestamp
    await t.test.setNextBlockTimestamp({ timestamp: (now / 86400n + 1n) * 86400n + 3600n })
    await t.test.mine({ blocks: 1 })

    await draw(arbiter, await signNote(t, requestor, note(requestor, provider, 1n, 6n * TOKEN)))
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, provider, 2n, 6n * TOKEN))))).toBe('DailyCapExceeded')
    await draw(arbiter, await signNote(t, requestor, note(requestor, provider, 2n, 4n * TOKEN)))
    expect(await revertReason(draw(arbiter, await signNote(t, requestor, note(requestor, provider, 3n, 1n))))).toBe('DailyCapExceeded')
    await t.test.increaseTime({ seconds: 86400 })
    await t.test.mine({ blocks: 1 })
    await draw(arbiter, await signNote(t, requestor, note(requestor, provider, 3n, 6n * TOKEN)))
    expect(await tokenBalance(t, provider.address)).toBe(16n * TOKEN)

    expect(await revertReason(draw(arbiter, await signNote(t, requestor2, note(requestor2, provider, 1n, 4n * TOKEN))))).toBe('InsufficientDeposit')
    expect(await depositBalance(t, requestor2.address)).toBe(3n * TOKEN)
  })
})
