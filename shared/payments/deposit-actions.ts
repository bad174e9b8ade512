import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, defineChain, parseAbi } from 'viem'
import { GolemClayError } from '../errors.ts'
import type { Address, Chain, Hex, PublicClient, Transport, WalletClient } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'

/**
 * A payment account's own transactions on the deposit contract (deposit,
 * unlock, withdraw) and the balances a wallet shows, signed locally and
 * sent over any viem transport: the relay's HTTP proxy in a page, the
 * chain protocol (ChainClient.transport()) on a Node peer.
 */

/** The calls made here, as human-readable signatures: no dependency on the contracts' build. */
export const TOKEN_ABI = parseAbi([
  'function balanceOf(address account) view returns (uint256)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function decimals() view returns (uint8)',
  'function symbol() view returns (string)',
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)'
])

export const DEPOSIT_ABI = parseAbi([
  'function deposits(address requestor) view returns (uint128 amount, uint64 unlockAt)',
  'function deposit(uint256 amount)',
  'function unlock()',
  'function withdraw(address to)',
  'function withdrawDelay() view returns (uint64)',
  'function maxDeposit() view returns (uint128)',
  'error ZeroAmount()',
  'error DepositTooLarge(uint256 balance, uint256 maxDeposit)',
  'error AlreadyUnlocking(uint256 unlockAt)',
  'error NotUnlocking()',
  'error WithdrawTooEarly(uint256 unlockAt)',
  'error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)',
  'error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)',
  'error SafeERC20FailedOperation(address token)'
])

/** A deposit transaction was refused: `reason` is the contract's error name (WithdrawTooEarly, …) when it gave one. */
export class DepositActionError extends GolemClayError {
  override name = 'DepositActionError'
  override readonly code = 'DEPOSIT_ACTION'
  constructor (message: string, readonly reason?: string) {
    super(message)
  }
}

/** Where deposits are: the token and the contract. */
export interface DepositContracts { chainId: number, token: Address, deposit: Address }

export interface DepositClients {
  read: PublicClient<Transport, Chain>
  write: WalletClient<Transport, Chain, PrivateKeyAccount>
}

/** Clients that read through `transport` and sign with `account`. */
export function depositClients (transport: Transport, account: PrivateKeyAccount, chainId: number): DepositClients {
  const chain = defineChain({ id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [] } } })
  return {
    read: createPublicClient({ chain, transport, pollingInterval: 250 }),
    write: createWalletClient({ account, chain, transport })
  }
}

export interface WalletBalances {
  /** Deposit tokens held, base units. */
  tokens: bigint
  /** Native currency for gas, wei. */
  gas: bigint
  deposit: bigint
  /** s since the epoch when the deposit may be withdrawn; 0 while locked. */
  unlockAt: number
  decimals: number
  symbol: string
}

export async function readBalances ({ read }: DepositClients, contracts: DepositContracts, address: Address): Promise<WalletBalances> {
  const [tokens, gas, [deposit, unlockAt], decimals, symbol] = await Promise.all([
    read.readContract({ address: contracts.token, abi: TOKEN_ABI, functionName: 'balanceOf', args: [address] }),
    read.getBalance({ address }),
    read.readContract({ address: contracts.deposit, abi: DEPOSIT_ABI, functionName: 'deposits', args: [address] }),
    read.readContract({ address: contracts.token, abi: TOKEN_ABI, functionName: 'decimals' }),
    read.readContract({ address: contracts.token, abi: TOKEN_ABI, functionName: 'symbol' })
  ])
  return { tokens, gas, deposit, unlockAt: Number(unlockAt), decimals, symbol }
}

/** Approves (when the allowance is short) and deposits `amount`; the hashes of what was sent. */
export async function depositTokens (clients: DepositClients, contracts: DepositContracts, amount: bigint): Promise<Hex[]> {
  if (amount < 1n) throw new DepositActionError('Deposit a positive amount')
  const me = clients.write.account.address
  const hashes: Hex[] = []
  const allowance = await clients.read.readContract({ address: contracts.token, abi: TOKEN_ABI, functionName: 'allowance', args: [me, contracts.deposit] })
  if (allowance < amount) {
    hashes.push(await send(clients, 'The approval', async () => await clients.write.writeContract({ address: contracts.token, abi: TOKEN_ABI, functionName: 'approve', args: [contracts.deposit, amount] })))
  }
  hashes.push(await send(clients, 'The deposit', async () => await clients.write.writeContract({ address: contracts.deposit, abi: DEPOSIT_ABI, functionName: 'deposit', args: [amount] })))
  return hashes
}

/** Starts the withdrawal delay; cheques and notes are honoured until the withdrawal. */
export async function unlockDeposit (clients: DepositClients, contracts: DepositContracts): Promise<Hex> {
  return await send(clients, 'The unlock', async () => await clients.write.writeContract({ address: contracts.deposit, abi: DEPOSIT_ABI, functionName: 'unlock' }))
}

/** Sends the whole deposit to the account, once the delay has passed (DepositActionError WithdrawTooEarly before). */
export async function withdrawDeposit (clients: DepositClients, contracts: DepositContracts): Promise<Hex> {
  const me = clients.write.account.address
  return await send(clients, 'The withdrawal', async () => await clients.write.writeContract({ address: contracts.deposit, abi: DEPOSIT_ABI, functionName: 'withdraw', args: [me] }))
}

/** Sends, waits for the receipt; a revert (simulated or mined) is a DepositActionError naming the contract's reason. */
async function send (clients: DepositClients, what: string, write: () => Promise<Hex>): Promise<Hex> {
  let hash: Hex
  try {
    hash = await write()
  } catch (err) {
    const reverted = err instanceof BaseError ? err.walk(e => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null : null
    if (reverted?.data?.errorName != null) throw new DepositActionError(`${what} was refused by the contract: ${reverted.data.errorName}`, reverted.data.errorName)
    throw err
  }
  const receipt = await clients.read.waitForTransactionReceipt({ hash, timeout: 60_000 })
  if (receipt.status !== 'success') throw new DepositActionError(`${what} was mined but reverted (transaction ${hash})`)
  return hash
}
