import { join } from 'node:path'
import { BaseError, ContractFunctionRevertedError, ContractFunctionZeroDataError, encodeDeployData, getAddress, isAddress, isHex, parseUnits, toHex } from 'viem'
import { clayDepositAbi, clayDepositBytecode, clayTestTokenAbi, clayTestTokenBytecode, DEPOSIT_DOMAIN_VERSION } from '../../contracts/index.ts'
import { ContractDeployError, DEFAULT_WITHDRAW_DELAY } from './deploy.ts'
import { readTextIfExists, writeFileAtomic } from './atomic-file.ts'
import type { TxSender } from './tx-sender.ts'
import type { Address, Hex, PublicClient } from 'viem'

export const DEPLOYMENT_FILE_NAME = 'deployment.json'

/** Where the contracts of a chain are, and the salt their signatures name. */
export interface ChainDeployment {
  chainId: number
  token: Address
  deposit: Address
  salt: Hex
  /** The block the deposit contract was made in (where clients start reading its events). */
  blockNumber: number
}

export interface EnsureDeploymentInit {
  /** The chain folder, where `deployment.json` is kept. */
  dir: string
  chainId: number
  /** @default DEFAULT_WITHDRAW_DELAY (a week) */
  withdrawDelay?: bigint
  /** @default 1000 tokens of 18 decimals */
  maxDeposit?: bigint
}

export interface EnsuredDeployment {
  deployment: ChainDeployment
  /** `kept`: the recorded contracts are on the chain; `new`: first deployment; `redeployed`: the chain had lost them, or holds an older version of the deposit contract. */
  outcome: 'kept' | 'new' | 'redeployed'
  /** The deployment the chain lost, when redeployed. */
  lost?: ChainDeployment
}

/**
 * The embedded chain's contracts: those `deployment.json` records when
 * their code is on the chain with the recorded salt and the deposit
 * contract is the version this code signs for (an older one, from a data
 * folder of an earlier release, takes none of its cheques), or a new test token
 * and deposit contract, sent through the journal, with a new random salt
 * (a chain that lost its contracts never honours signatures made for the
 * lost ones, even at the same addresses).
 */
export async function ensureDeployment (components: { client: PublicClient, sender: TxSender }, init: EnsureDeploymentInit): Promise<EnsuredDeployment> {
  const path = join(init.dir, DEPLOYMENT_FILE_NAME)
  const recorded = parseDeployment(await readTextIfExists(path))
  if (recorded != null && recorded.chainId === init.chainId && await isDeployed(components.client, recorded)) {
    return { deployment: recorded, outcome: 'kept' }
  }
  const { sender } = components
  let salt = toHex(crypto.getRandomValues(new Uint8Array(32)))
  while (salt === recorded?.salt) salt = toHex(crypto.getRandomValues(new Uint8Array(32)))
  const owner = sender.address
  const tokenReceipt = await sender.submit({ kind: 'deploy', data: encodeDeployData({ abi: clayTestTokenAbi, bytecode: clayTestTokenBytecode, args: [owner] }) })
  if (tokenReceipt.contractAddress == null) throw new ContractDeployError(`ClayTestToken: ${tokenReceipt.transactionHash} made no contract`)
  const token = getAddress(tokenReceipt.contractAddress)
  const args = [token, init.withdrawDelay ?? DEFAULT_WITHDRAW_DELAY, init.maxDeposit ?? parseUnits('1000', 18), salt, owner] as const
  const depositReceipt = await sender.submit({ kind: 'deploy', data: encodeDeployData({ abi: clayDepositAbi, bytecode: clayDepositBytecode, args }) })
  if (depositReceipt.contractAddress == null) throw new ContractDeployError(`ClayDeposit: ${depositReceipt.transactionHash} made no contract`)
  const deployment: ChainDeployment = { chainId: init.chainId, token, deposit: getAddress(depositReceipt.contractAddress), salt, blockNumber: Number(depositReceipt.blockNumber) }
  await writeFileAtomic(path, `${JSON.stringify(deployment, null, 2)}\n`)
  return { deployment, outcome: recorded == null ? 'new' : 'redeployed', ...(recorded != null ? { lost: recorded } : {}) }
}

/** Code at both addresses, and the deposit contract's salt is the recorded one and its EIP-712 version ours. */
export async function isDeployed (client: PublicClient, deployment: Pick<ChainDeployment, 'token' | 'deposit' | 'salt'>): Promise<boolean> {
  const [tokenCode, depositCode] = await Promise.all([client.getCode({ address: deployment.token }), client.getCode({ address: deployment.deposit })])
  if (tokenCode == null || tokenCode === '0x' || depositCode == null || depositCode === '0x') return false
  // ERC-5267: version and salt in one read
  const domain = await client.readContract({ address: deployment.deposit, abi: clayDepositAbi, functionName: 'eip712Domain' }).catch(notOurs)
  return domain?.[2] === DEPOSIT_DOMAIN_VERSION && domain[5] === deployment.salt
}

/**
 * A contract that refuses the call or answers nothing is not ours (another
 * version, another contract): undefined. Anything else (the chain slow or
 * gone) is thrown: a redeploy on a failed read would strand every deposit.
 */
function notOurs (err: unknown): undefined {
  const refused = err instanceof BaseError ? err.walk(e => e instanceof ContractFunctionRevertedError || e instanceof ContractFunctionZeroDataError) : null
  if (refused != null) return undefined
  throw err
}

function parseDeployment (text: string | undefined): ChainDeployment | undefined {
  if (text == null) return undefined
  try {
    const d = JSON.parse(text)
    if (Number.isSafeInteger(d.chainId) && isAddress(d.token) && isAddress(d.deposit) && isHex(d.salt) && Number.isSafeInteger(d.blockNumber)) {
      return { chainId: d.chainId, token: getAddress(d.token), deposit: getAddress(d.deposit), salt: d.salt, blockNumber: d.blockNumber }
    }
  } catch {}
  return undefined
}
