import { getEip712Domain } from 'viem/actions'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { clayDepositAbi, depositDomain } from './index.ts'
import { TOKEN, callDeposit, depositBalance, fundDeposit, revertReason, signCashout, signCheque, startTestChain, tokenBalance } from '../relay/testing/test-chain.ts'
import type { Actor, TestChain } from '../relay/testing/test-chain.ts'
import type { Hex } from 'viem'

let t: TestChain
beforeAll(async () => { t = await startTestChain() }, 60_000)
afterAll(async () => { await t?.stop() })
afterEach(async () => { await t.reset() })

async function cash (who: Actor, signed: { cheque: object, signature: Hex }, chain = t): Promise<void> {
  await callDeposit(chain, who, 'cashCheque', [signed.cheque, signed.signature])
}

/** A cheque for `provider`'s work, paid to `beneficiary` (the provider itself unless given). */
function cheque (requestor: Actor, beneficiary: Actor, cumulative: bigint, seq: bigint, provider = beneficiary): { requestor: Hex, beneficiary: Hex, provider: Hex, cumulative: bigint, seq: bigint } {
  return { requestor: requestor.address, beneficiary: beneficiary.address, provider: provider.address, cumulative, seq }
}

async function account (requestor: Actor, beneficiary: Actor, provider = beneficiary): Promise<readonly [bigint, bigint, bigint]> {
  return await t.client.readContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'accounts', args: [requestor.address, beneficiary.address, provider.address] })
}

describe('ClayDeposit: cheques', () => {
  it('pays each cheque what it adds to the amount paid out, and refuses a replayed or lower one', async () => {
    const { requestor, provider, stranger } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    const first = await signCheque(t, requestor, cheque(requestor, provider, 10n * TOKEN, 1n))
    await cash(stranger, first)
    expect(await tokenBalance(t, provider.address)).toBe(10n * TOKEN)
    expect(await account(requestor, provider)).toEqual([10n * TOKEN, 1n, 0n])

    const third = await signCheque(t, requestor, cheque(requestor, provider, 25n * TOKEN, 3n))
    await cash(provider, third)
    expect(await tokenBalance(t, provider.address)).toBe(25n * TOKEN)
    expect(await depositBalance(t, requestor.address)).toBe(25n * TOKEN)
    expect(await account(requestor, provider)).toEqual([25n * TOKEN, 3n, 0n])

    expect(await revertReason(cash(stranger, third))).toBe('ChequeNotHigher')
    expect(await revertReason(cash(stranger, first))).toBe('ChequeNotHigher')
    expect(await revertReason(cash(stranger, await signCheque(t, requestor, cheque(requestor, provider, 20n * TOKEN, 2n))))).toBe('ChequeNotHigher')
    expect(await tokenBalance(t, provider.address)).toBe(25n * TOKEN)
  })

  it('refuses a cheque signed by anyone but its requestor', async () => {
    const { requestor, provider, stranger } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    const claim = cheque(requestor, provider, 10n * TOKEN, 1n)
    expect(await revertReason(cash(provider, await signCheque(t, provider, claim)))).toBe('InvalidSignature')
    expect(await revertReason(cash(provider, await signCheque(t, stranger, claim)))).toBe('InvalidSignature')
    // a signature for other terms
    const signed = await signCheque(t, requestor, claim)
    expect(await revertReason(cash(provider, { cheque: { ...claim, cumulative: 20n * TOKEN }, signature: signed.signature }))).toBe('InvalidSignature')
    expect(await revertReason(cash(provider, { cheque: claim, signature: `0x${'00'.repeat(65)}` }))).toBe('InvalidSignature')
    expect(await revertReason(cash(provider, { cheque: claim, signature: '0x1234' }))).toBe('InvalidSignature')
    expect(await tokenBalance(t, provider.address)).toBe(0n)
  })

  it('refuses a cheque the deposit cannot cover, and honours cheques while the deposit is unlocking', async () => {
    const { requestor, provider } = t.actors
    await fundDeposit(t, requestor, 10n * TOKEN)
    expect(await revertReason(cash(provider, await signCheque(t, requestor, cheque(requestor, provider, 11n * TOKEN, 1n))))).toBe('InsufficientDeposit')
    await callDeposit(t, requestor, 'unlock')
    await cash(provider, await signCheque(t, requestor, cheque(requestor, provider, 10n * TOKEN, 1n)))
    expect(await tokenBalance(t, provider.address)).toBe(10n * TOKEN)
  })

  it('cashes a batch of cheques in one transaction, all or none', async () => {
    const { requestor, requestor2, provider, provider2, relay } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    await fundDeposit(t, requestor2, 50n * TOKEN)
    const signed = await Promise.all([
      signCheque(t, requestor, cheque(requestor, provider, 3n * TOKEN, 1n)),
      signCheque(t, requestor, cheque(requestor, provider2, 4n * TOKEN, 2n)),
      signCheque(t, requestor2, cheque(requestor2, provider, 5n * TOKEN, 1n)),
      signCheque(t, requestor2, cheque(requestor2, provider, 7n * TOKEN, 2n))
    ])
    const cashouts = signed.map(({ cheque, signature }) => ({ cheque, signature, callerFee: 0n, beneficiarySignature: '0x' }))
    const before = await t.client.getBlockNumber({ cacheTime: 0 })
    await callDeposit(t, relay, 'cashCheques', [cashouts])
    expect(await t.client.getBlockNumber({ cacheTime: 0 })).toBe(before + 1n)
    expect(await tokenBalance(t, provider.address)).toBe(10n * TOKEN)
    expect(await tokenBalance(t, provider2.address)).toBe(4n * TOKEN)
    expect(await depositBalance(t, requestor.address)).toBe(43n * TOKEN)
    expect(await depositBalance(t, requestor2.address)).toBe(43n * TOKEN)

    // one replayed cheque among new ones: the whole batch is refused
    const next = await signCheque(t, requestor, cheque(requestor, provider, 6n * TOKEN, 3n))
    const batch = [{ ...next, callerFee: 0n, beneficiarySignature: '0x' }, cashouts[0]]
    expect(await revertReason(callDeposit(t, relay, 'cashCheques', [batch]))).toBe('ChequeNotHigher')
    expect(await tokenBalance(t, provider.address)).toBe(10n * TOKEN)
  })

  it('pays the caller the fee the cheque\'s beneficiary signed for, and no other: not one its provider signed', async () => {
    const { requestor, provider, provider2, relay, stranger } = t.actors
    await fundDeposit(t, requestor, 50n * TOKEN)
    // provider2's work, paid to provider (its payee): the fee cuts the payee's payout, so the payee signs for it
    const signed = await signCheque(t, requestor, cheque(requestor, provider, 10n * TOKEN, 1n, provider2))
    const fee = TOKEN / 10n
    const terms = { requestor: requestor.address, beneficiary: provider.address, provider: provider2.address, cumulative: 10n * TOKEN, callerFee: fee }
    const consent = await signCashout(t, provider, terms)
    const refused = async (callerFee: bigint, beneficiarySignature: Hex, by = relay): Promise<string> =>
      await revertReason(callDeposit(t, by, 'cashCheques', [[{ ...signed, callerFee, beneficiarySignature }]]))
    expect(await refused(fee, '0x')).toBe('InvalidSignature')
    expect(await refused(2n * fee, consent)).toBe('InvalidSignature')
    expect(await refused(fee, await signCashout(t, stranger, terms))).toBe('InvalidSignature')
    // the provider holds the cheque but may not give the payee's tokens away: a whole-payout fee it signs, cashed by itself, is refused
    expect(await refused(10n * TOKEN, await signCashout(t, provider2, { ...terms, callerFee: 10n * TOKEN }), provider2)).toBe('InvalidSignature')
    expect(await refused(fee, await signCashout(t, provider2, terms))).toBe('InvalidSignature')
    expect(await refused(fee, await signCashout(t, provider, { ...terms, cumulative: 9n * TOKEN }))).toBe('InvalidSignature')
    expect(await refused(fee, await signCashout(t, provider, { ...terms, provider: provider.address }))).toBe('InvalidSignature')
    const greedy = 11n * TOKEN
    expect(await refused(greedy, await signCashout(t, provider, { ...terms, callerFee: greedy }))).toBe('FeeExceedsPayout')

    await callDeposit(t, relay, 'cashCheques', [[{ ...signed, callerFee: fee, beneficiarySignature: consent }]])
    expect(await tokenBalance(t, relay.address)).toBe(fee)
    expect(await tokenBalance(t, provider.address)).toBe(10n * TOKEN - fee)
    expect(await tokenBalance(t, provider2.address)).toBe(0n)
    expect(await depositBalance(t, requestor.address)).toBe(40n * TOKEN)
  })

  it('keeps one account per provider when providers share a beneficiary: no cheque for one moves another\'s counter', async () => {
    const { requestor, provider, provider2, stranger } = t.actors
    const owner = stranger
    await fundDeposit(t, requestor, 50n * TOKEN)
    // two providers working for one payee; each holds a cheque for its own work only
    const first = await signCheque(t, requestor, cheque(requestor, owner, 5n * TOKEN, 5n, provider))
    const second = await signCheque(t, requestor, cheque(requestor, owner, 2n * TOKEN, 2n, provider2))
    await cash(provider2, second)
    await cash(provider, first)
    expect(await tokenBalance(t, owner.address)).toBe(7n * TOKEN)
    expect(await tokenBalance(t, provider.address)).toBe(0n)
    expect(await account(requestor, owner, provider)).toEqual([5n * TOKEN, 5n, 0n])
    expect(await account(requestor, owner, provider2)).toEqual([2n * TOKEN, 2n, 0n])
    expect(await account(requestor, owner)).toEqual([0n, 0n, 0n])

    // a cheque naming another provider (or none) for the same payee leaves provider's counter where it is
    await cash(stranger, await signCheque(t, requestor, cheque(requestor, owner, 9n * TOKEN, 9n)))
    expect(await account(requestor, owner, provider)).toEqual([5n * TOKEN, 5n, 0n])
    const next = await signCheque(t, requestor, cheque(requestor, owner, 8n * TOKEN, 8n, provider))
    await cash(stranger, next)
    expect(await tokenBalance(t, owner.address)).toBe(19n * TOKEN)

    // a signature is for its provider alone
    expect(await revertReason(cash(stranger, { cheque: { ...next.cheque, provider: provider2.address, cumulative: 8n * TOKEN }, signature: next.signature }))).toBe('InvalidSignature')
  })

  it('tells its EIP-712 domain (ERC-5267): chain, contract and salt', async () => {
    const { domain } = await getEip712Domain(t.client, { address: t.contracts.deposit })
    expect(domain).toEqual(depositDomain(t.deployment))
  })

  it('refuses a cheque made for another deployment: a lost chain redeployed at the same address, with another salt', async () => {
    const { requestor, provider } = t.actors
    const other = await startTestChain({ mnemonic: t.anvil.info.mnemonic })
    try {
      expect(other.contracts.deposit).toBe(t.contracts.deposit)
      expect(other.deployment.chainId).toBe(t.deployment.chainId)
      expect(other.contracts.salt).not.toBe(t.contracts.salt)
      await fundDeposit(other, other.actors.requestor, 50n * TOKEN)
      const claim = cheque(requestor, provider, 10n * TOKEN, 1n)
      // signed for this chain's deployment, cashed on the other
      expect(await revertReason(cash(other.actors.provider, await signCheque(t, requestor, claim), other))).toBe('InvalidSignature')
      // and signed for the other's salt, cashed here
      await fundDeposit(t, requestor, 50n * TOKEN)
      expect(await revertReason(cash(provider, await signCheque(t, requestor, claim, other.deployment)))).toBe('InvalidSignature')
      await cash(other.actors.provider, await signCheque(other, other.actors.requestor, claim), other)
      expect(await tokenBalance(other, provider.address)).toBe(10n * TOKEN)
    } finally {
      await other.stop()
    }
  })
})
