import { BaseError, formatUnits, InsufficientFundsError } from 'viem'
import { GolemClayError } from '../../shared/errors.ts'
import { ChainUnavailableError, DepositActionError, DepositTooSmallError, DEPOSIT_ABI, depositClients, TOKEN_ABI } from '../../shared/payments/index.ts'
import type { ChainInfoWire, DepositClients, DepositContracts } from '../../shared/payments/index.ts'
import type { NodePeer } from '../node-peer/create-node-peer.ts'

/** The payment account has no native currency to pay a transaction's gas with. */
export class NotEnoughGasError extends GolemClayError { override name = 'NotEnoughGasError'; override readonly code = 'NOT_ENOUGH_GAS' }

export const NO_CHAIN = 'this peer\'s relays run no chain: wallets, deposits and paid tasks need a relay started with --chain embedded (or external)'

/** The relay's chain as the wallet commands use it: its deployment, clients signing with the peer's payment key, the token's units. */
export interface ChainAccess {
  info: ChainInfoWire
  contracts: DepositContracts
  clients: DepositClients
  decimals: number
  symbol: string
}

const units = new Map<string, Promise<{ decimals: number, symbol: string }>>()

/** The chain of a connected relay, or ChainUnavailableError in words when none runs one. */
export async function chainAccess (node: NodePeer, signal?: AbortSignal): Promise<ChainAccess> {
  const info = await node.services.chain.chainInfo({ signal })
  if (info == null) throw new ChainUnavailableError(NO_CHAIN)
  const contracts = { chainId: info.chainId, token: info.token, deposit: info.deposit }
  const clients = depositClients(node.services.chain.transport(), node.services.payments.account, info.chainId)
  // a token's decimals and symbol never change: read once per token
  const key = `${info.chainId}:${info.token.toLowerCase()}`
  let unit = units.get(key)
  if (unit == null) {
    unit = Promise.all([
      clients.read.readContract({ address: info.token, abi: TOKEN_ABI, functionName: 'decimals' }),
      clients.read.readContract({ address: info.token, abi: TOKEN_ABI, functionName: 'symbol' })
    ]).then(([decimals, symbol]) => ({ decimals, symbol }))
    units.set(key, unit)
    unit.catch(() => { units.delete(key) })
  }
  return { info, contracts, clients, ...await unit }
}

/** `amount` base units as tokens: "0.001 tCLAY". */
export function tokens (amount: bigint, unit: { decimals: number, symbol: string }): string {
  return `${formatUnits(amount, unit.decimals)} ${unit.symbol}`
}

/** When a deposit unlocking until `unlockAt` (s since the epoch) may be withdrawn, in words. */
export function withdrawableText (unlockAt: number, now = Date.now()): string {
  const ms = unlockAt * 1000 - now
  const at = new Date(unlockAt * 1000).toISOString().replace(/\.\d+Z$/, 'Z')
  return ms <= 0 ? `withdrawable now (since ${at})` : `withdrawable in ${durationText(ms)} (from ${at})`
}

/** A wait in words: "40 s", "12 min", "5 h", "7 days". */
function durationText (ms: number): string {
  const round = (n: number): number => Math.round(n * 10) / 10
  if (ms < 60_000) return `${Math.ceil(ms / 1000)} s`
  if (ms < 3_600_000) return `${round(ms / 60_000)} min`
  if (ms < 48 * 3_600_000) return `${round(ms / 3_600_000)} h`
  return `${round(ms / 86_400_000)} days`
}

/**
 * A payment failure in words for the console (the same class, so --json
 * scripts still see its code): no relay with a chain, a withdrawal before
 * its time, no gas, a deposit too small for a task.
 */
export async function explainPaymentError (err: unknown, node: NodePeer, access?: ChainAccess): Promise<unknown> {
  if (err instanceof ChainUnavailableError) return err.message === NO_CHAIN ? err : new ChainUnavailableError(`${NO_CHAIN} (${err.message})`)
  if (err instanceof DepositTooSmallError) {
    if (err.needed <= err.available) return err
    const unit = access ?? await chainAccess(node).catch(() => undefined)
    if (unit == null) return err
    return new DepositTooSmallError(`your deposit of ${tokens(err.available, unit)} is below the ${tokens(err.needed, unit)} this task locks (2× the budgets of your open tasks, this one's included): deposit ${formatUnits(err.needed - err.available, unit.decimals)} more (deposit <amount>), or lower --price`, err.available, err.needed)
  }
  if (err instanceof DepositActionError) {
    if (err.reason === 'WithdrawTooEarly' && access != null) {
      const [, unlockAt] = await access.clients.read.readContract({ address: access.contracts.deposit, abi: DEPOSIT_ABI, functionName: 'deposits', args: [access.clients.write.account.address] }).catch(() => [0n, 0n] as const)
      return new DepositActionError(`the deposit is still unlocking: ${unlockAt > 0n ? withdrawableText(Number(unlockAt)) : 'try again later'}`, err.reason)
    }
    if (err.reason === 'NotUnlocking') return new DepositActionError('the deposit is locked: run "unlock" first, then "withdraw" once the delay has passed', err.reason)
    if (err.reason === 'AlreadyUnlocking') return new DepositActionError('the deposit is already unlocking (see "wallet" for when it can be withdrawn)', err.reason)
    if (err.reason === 'ERC20InsufficientBalance') return new DepositActionError('you hold fewer tokens than that (see "wallet")', err.reason)
    if (err.reason === 'DepositTooLarge') return new DepositActionError('that would take the deposit past the contract\'s maximum', err.reason)
    return err
  }
  const noFunds = err instanceof BaseError && err.walk(e => e instanceof InsufficientFundsError) != null
  if (noFunds || /insufficient funds/i.test((err as Error)?.message ?? '')) return new NotEnoughGasError('not enough gas: this payment account holds too little of the chain\'s currency to pay for the transaction (on a test chain the relay\'s faucet gives some)')
  return err
}

