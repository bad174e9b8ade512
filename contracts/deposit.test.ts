import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { clayDepositAbi, clayTestTokenAbi } from './index.ts'
import { TOKEN, callDeposit, depositBalance, fundDeposit, revertReason, send, startTestChain, tokenBalance } from '../relay/testing/test-chain.ts'
import type { TestChain } from '../relay/testing/test-chain.ts'

let t: TestChain
beforeAll(async () => { t = await startTestChain({ deploy: { maxDeposit: 100n * TOKEN, withdrawDelay: 3600n } }) }, 60_000)
afterAll(async () => { await t?.stop() })
afterEach(async () => { await t.reset() })

async function unlockAt (who: `0x${string}`): Promise<bigint> {
  const [, at] = await t.client.readContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'deposits', args: [who] })
  return at
}

async function later (seconds: number): Promise<void> {
  await t.test.increaseTime({ seconds })
  await t.test.mine({ blocks: 1 })
}

describe('ClayDeposit: deposits', () => {
  it('holds a deposit until it is unlocked and the delay has passed; a new deposit locks it again', async () => {
    const { requestor } = t.actors
    await fundDeposit(t, requestor, 10n * TOKEN)
    expect(await depositBalance(t, requestor.address)).toBe(10n * TOKEN)
    expect(await revertReason(callDeposit(t, requestor, 'withdraw', [requestor.address]))).toBe('NotUnlocking')

    await callDeposit(t, requestor, 'unlock')
    expect(await unlockAt(requestor.address)).toBeGreaterThan(0n)
    expect(await revertReason(callDeposit(t, requestor, 'unlock'))).toBe('AlreadyUnlocking')
    expect(await revertReason(callDeposit(t, requestor, 'withdraw', [requestor.address]))).toBe('WithdrawTooEarly')
    await later(1800)
    expect(await revertReason(callDeposit(t, requestor, 'withdraw', [requestor.address]))).toBe('WithdrawTooEarly')

    // a deposit while unlocking: locked again, the delay starts over at the next unlock
    await fundDeposit(t, requestor, TOKEN)
    expect(await unlockAt(requestor.address)).toBe(0n)
    await later(3600)
    expect(await revertReason(callDeposit(t, requestor, 'withdraw', [requestor.address]))).toBe('NotUnlocking')

    await callDeposit(t, requestor, 'unlock')
    await later(3600)
    await callDeposit(t, requestor, 'withdraw', [t.actors.stranger.address])
    expect(await tokenBalance(t, t.actors.stranger.address)).toBe(11n * TOKEN)
    expect(await depositBalance(t, requestor.address)).toBe(0n)
    expect(await unlockAt(requestor.address)).toBe(0n)
  })

  it('cancels an unlock with lock()', async () => {
    const { requestor } = t.actors
    await fundDeposit(t, requestor, TOKEN)
    expect(await revertReason(callDeposit(t, requestor, 'lock'))).toBe('NotUnlocking')
    await callDeposit(t, requestor, 'unlock')
    await callDeposit(t, requestor, 'lock')
    await later(3600)
    expect(await revertReason(callDeposit(t, requestor, 'withdraw', [requestor.address]))).toBe('NotUnlocking')
  })

  it('refuses a deposit above the maximum and an empty one', async () => {
    const { requestor } = t.actors
    await fundDeposit(t, requestor, 100n * TOKEN)
    expect(await revertReason(fundDeposit(t, requestor, 1n))).toBe('DepositTooLarge')
    expect(await revertReason(callDeposit(t, requestor, 'deposit', [0n]))).toBe('ZeroAmount')
  })

  it('lets a faucet top up another account\'s deposit, within the maximum, without locking it again', async () => {
    const { requestor, relay } = t.actors
    await fundDeposit(t, requestor, 60n * TOKEN)
    await callDeposit(t, requestor, 'unlock')
    const at = await unlockAt(requestor.address)
    await send(t.actors.owner, { address: t.contracts.token, abi: clayTestTokenAbi, functionName: 'mint', args: [relay.address, 50n * TOKEN] })
    await send(relay, { address: t.contracts.token, abi: clayTestTokenAbi, functionName: 'approve', args: [t.contracts.deposit, 50n * TOKEN] })
    await callDeposit(t, relay, 'depositFor', [requestor.address, 40n * TOKEN])
    expect(await depositBalance(t, requestor.address)).toBe(100n * TOKEN)
    expect(await unlockAt(requestor.address)).toBe(at)
    expect(await revertReason(callDeposit(t, relay, 'depositFor', [requestor.address, 1n]))).toBe('DepositTooLarge')
  })
})

describe('ClayTestToken', () => {
  it('mints for its owner only', async () => {
    const { stranger } = t.actors
    expect(await revertReason(send(stranger, { address: t.contracts.token, abi: clayTestTokenAbi, functionName: 'mint', args: [stranger.address, TOKEN] })))
      .toBe('OwnableUnauthorizedAccount')
    await send(t.actors.owner, { address: t.contracts.token, abi: clayTestTokenAbi, functionName: 'mint', args: [stranger.address, TOKEN] })
    expect(await tokenBalance(t, stranger.address)).toBe(TOKEN)
  })
})
