import { logger } from '@libp2p/logger'
import { createPublicClient, createWalletClient, defineChain, getAddress, http, parseUnits, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { clayDepositAbi, clayDepositBytecode, clayTestTokenAbi, clayTestTokenBytecode } from '../../contracts/index.ts'
import { GolemClayError } from '../../shared/errors.ts'
import type { Address, Chain, Hex, PublicClient } from 'viem'

const log = logger('golem-clay:chain')

/** A contract could not be deployed (the transaction reverted or made no contract). */
export class ContractDeployError extends GolemClayError { override name = 'ContractDeployError'; override readonly code = 'CONTRACT_DEPLOY' }

/** Seconds from unlock to withdraw by default: a week, longer than any dispute window. */
export const DEFAULT_WITHDRAW_DELAY = 7n * 24n * 3600n

export interface DeployContractsInit {
  /** The chain's JSON-RPC URL. */
  rpcUrl: string
  /** Key of the account that pays for the deployment. */
  privateKey: Hex
  /** An existing ERC-20 to hold deposits in (production). @default a new ClayTestToken, which `owner` mints (local chains) */
  token?: Address
  /** Owns the deposit contract (it authorizes arbiters) and the test token. @default the deployer */
  owner?: Address
  /** Seconds from unlock to the earliest withdraw: longer than any dispute window. @default DEFAULT_WITHDRAW_DELAY (a week) */
  withdrawDelay?: bigint
  /** The most one requestor's deposit may hold, in the token's smallest unit. @default 1000 tokens of 18 decimals */
  maxDeposit?: bigint
  /** The deployment's EIP-712 salt: signatures for another deployment never count here. @default 32 random bytes */
  salt?: Hex
}

export interface DeployedContracts {
  chainId: number
  /** The token deposits are in. */
  token: Address
  /** Whether `token` is a ClayTestToken deployed now. */
  testToken: boolean
  deposit: Address
  salt: Hex
  /** The block the deposit contract was made in (where clients start reading its events). */
  blockNumber: bigint
}

/** A chain viem can send to, for the id the RPC reports. */
export async function rpcChain (rpcUrl: string): Promise<Chain> {
  const id = await createPublicClient({ transport: http(rpcUrl) }).getChainId()
  return defineChain({ id, name: `chain ${id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } })
}

/**
 * Deploys the deposit contract (and, unless `token` is given, a test token)
 * from `privateKey`'s account, waiting for each receipt.
 */
export async function deployContracts (init: DeployContractsInit): Promise<DeployedContracts> {
  const chain = await rpcChain(init.rpcUrl)
  const account = privateKeyToAccount(init.privateKey)
  const wallet = createWalletClient({ account, chain, transport: http(init.rpcUrl) })
  const client = createPublicClient({ chain, transport: http(init.rpcUrl) })
  const owner = init.owner ?? account.address
  const salt = init.salt ?? toHex(crypto.getRandomValues(new Uint8Array(32)))

  let token = init.token
  if (token == null) {
    const hash = await wallet.deployContract({ abi: clayTestTokenAbi, bytecode: clayTestTokenBytecode, args: [owner] })
    token = (await deployed(client, hash, 'ClayTestToken')).address
  }
  const args = [token, init.withdrawDelay ?? DEFAULT_WITHDRAW_DELAY, init.maxDeposit ?? parseUnits('1000', 18), salt, owner] as const
  const hash = await wallet.deployContract({ abi: clayDepositAbi, bytecode: clayDepositBytecode, args })
  const deposit = await deployed(client, hash, 'ClayDeposit')
  log('deployed ClayDeposit at %s (token %s) on chain %d', deposit.address, token, chain.id)
  return { chainId: chain.id, token, testToken: init.token == null, deposit: deposit.address, salt, blockNumber: deposit.blockNumber }
}

async function deployed (client: PublicClient, hash: Hex, name: string): Promise<{ address: Address, blockNumber: bigint }> {
  const receipt = await client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success' || receipt.contractAddress == null) {
    throw new ContractDeployError(`${name}: deployment ${hash} ${receipt.status === 'success' ? 'made no contract' : 'reverted'}`)
  }
  return { address: getAddress(receipt.contractAddress), blockNumber: receipt.blockNumber }
}

