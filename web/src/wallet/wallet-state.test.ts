import { BaseError, ContractFunctionRevertedError, encodeErrorResult, HttpRequestError, InsufficientFundsError, InternalRpcError, RpcRequestError } from 'viem'
import { describe, expect, it } from 'vitest'
import { Lifetime } from '../lifetime.ts'
import { DEPOSIT_ABI } from '../../../shared/payments/index.ts'
import { formatAmount, parseAmount, WalletError, WalletState } from './wallet-state.svelte.ts'
import type { NodeState } from '../node/node-state.svelte.ts'

describe('the wallet card\'s amounts', () => {
  it('shows whole units, at most 4 decimals, grouped thousands', () => {
    expect(formatAmount(0n, 18)).toBe('0')
    expect(formatAmount(10n ** 20n, 18)).toBe('100')
    expect(formatAmount(999_700_000_000_000_000n, 18)).toBe('0.9997')
    expect(formatAmount(1_234_567_890_000n, 6)).toBe('1,234,567.89')
    expect(formatAmount(1n, 18)).toBe('0')
  })

  it('reads what was typed in the token\'s smallest unit, and says what is wrong', () => {
    expect(parseAmount(' 10 ', 18)).toBe(10n * 10n ** 18n)
    expect(parseAmount('2.5', 6)).toBe(2_500_000n)
    expect(() => parseAmount('abc', 18)).toThrow(WalletError)
    expect(() => parseAmount('-1', 18)).toThrow('Enter an amount such as 10 or 2.5')
    expect(() => parseAmount('0', 18)).toThrow('above zero')
    expect(() => parseAmount('0.0000001', 6)).toThrow('At most 6 decimals')
  })
})

describe('the wallet card\'s failures, in words', () => {
  const wallet = new WalletState({ phase: 'identity' } as unknown as NodeState, new Lifetime(), () => 'http://relay.invalid/chain')

  it('no gas, a busy or unreachable relay, a chain that is down', () => {
    expect(wallet.describe(new BaseError('estimate', { cause: new InsufficientFundsError() }))).toMatch(/^Not enough ETH for gas at this address/)
    expect(wallet.describe(new HttpRequestError({ url: 'http://relay.invalid/chain/rpc', status: 429 }))).toMatch(/busy/)
    expect(wallet.describe(new HttpRequestError({ url: 'http://relay.invalid/chain/rpc' }))).toMatch(/could not be reached/)
    expect(wallet.describe(new HttpRequestError({ url: 'http://relay.invalid/chain/rpc', status: 502 }))).toMatch(/HTTP 502/)
    expect(wallet.describe(new InternalRpcError(new RpcRequestError({ body: {}, url: 'x', error: { code: -32603, message: 'the chain is unreachable' } })))).toMatch(/chain is down/)
  })

  it('the contract\'s own errors', () => {
    const revert = (data: `0x${string}`): ContractFunctionRevertedError => new ContractFunctionRevertedError({ abi: DEPOSIT_ABI, data, functionName: 'withdraw' })
    const tooEarly = encodeErrorResult({ abi: DEPOSIT_ABI, errorName: 'WithdrawTooEarly', args: [1_800_000_000n] })
    expect(wallet.describe(new BaseError('write', { cause: revert(tooEarly) }))).toMatch(/^Not yet: the deposit can be withdrawn from/)
    const tooLarge = encodeErrorResult({ abi: DEPOSIT_ABI, errorName: 'DepositTooLarge', args: [0n, 1000n * 10n ** 18n] })
    expect(wallet.describe(revert(tooLarge))).toBe('A deposit holds at most 1,000 tokens')
  })
})
