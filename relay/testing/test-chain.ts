import { BaseError, ContractFunctionRevertedError, createPublicClient, createTestClient, createWalletClient, http, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { clayDepositAbi, clayTestTokenAbi, chequeTypes, depositDomain, promissoryNoteTypes, cashoutTypes } from '../../contracts/index.ts'
import { createAnvilProcess, deployContracts, rpcChain } from '../chain/index.ts'
import type { AnvilProcess, DeployContractsInit, DeployedContracts } from '../chain/index.ts'
import type { CashoutAuthorization, Cheque, DepositDeployment, PromissoryNote } from '../../contracts/index.ts'
import type { Address, Chain, Hex, PrivateKeyAccount, PublicClient, TestClient, WalletClient, Transport, Account } from 'viem'

/** The roles a contract test plays, each its own funded account. */
export const ROLES = ['owner', 'requestor', 'requestor2', 'provider', 'provider2', 'arbiter', 'relay', 'stranger'] as const
export type Role = typeof ROLES[number]

export interface Actor {
  account: PrivateKeyAccount
  address: Address
  wallet: WalletClient<Transport, Chain, Account>
  /** Reads the chain the wallet sends to. */
  client: PublicClient
}

export interface TestChain {
  anvil: AnvilProcess
  chain: Chain
  client: PublicClient
  /** Anvil's own methods: snapshots, time travel. */
  test: TestClient
  actors: Record<Role, Actor>
  contracts: DeployedContracts
  /** What signatures name: this deployment. */
  deployment: DepositDeployment
  /** Undoes every change since the last reset (a snapshot taken then). */
  reset: () => Promise<void>
  stop: () => Promise<void>
}

/** One token of 18 decimals. */
export const TOKEN = parseUnits('1', 18)

export interface TestChainInit {
  /** How to deploy (the owner's account deploys). @default a test token, a withdrawal delay of an hour */
  deploy?: Partial<DeployContractsInit>
  /** The accounts' mnemonic: another chain's makes the same accounts and contract addresses. @default a random one */
  mnemonic?: string
}

/** A new Anvil chain with the contracts deployed, for one test file. */
export async function startTestChain (init: TestChainInit = {}): Promise<TestChain> {
  const anvil = createAnvilProcess({ accounts: ROLES.length, mnemonic: init.mnemonic })
  const { rpcUrl, accounts } = await anvil.start()
  try {
    const chain = await rpcChain(rpcUrl)
    const transport = http(rpcUrl)
    const client = createPublicClient({ chain, transport, pollingInterval: 50 })
    const test = createTestClient({ chain, mode: 'anvil', transport })
    const actors = Object.fromEntries(ROLES.map((role, i) => {
      const account = privateKeyToAccount(accounts[i]?.privateKey ?? '0x')
      return [role, { account, address: account.address, wallet: createWalletClient({ account, chain, transport }), client }]
    })) as Record<Role, Actor>
    const contracts = await deployContracts({ rpcUrl, privateKey: accounts[0]?.privateKey ?? '0x', withdrawDelay: 3600n, ...init.deploy })
    const deployment = { chainId: chain.id, address: contracts.deposit, salt: contracts.salt }
    let snapshot = await test.snapshot()
    const reset = async (): Promise<void> => {
      await test.revert({ id: snapshot })
      snapshot = await test.snapshot()
    }
    return { anvil, chain, client, test, actors, contracts, deployment, reset, stop: async () => { await anvil.stop() } }
  } catch (err) {
    await anvil.stop()
    throw err
  }
}

/** Sends a contract call from `actor` (on its chain) and waits for it to be mined; throws on a revert (viem simulates first). */
export async function send (actor: Actor, call: { address: Address, abi: any, functionName: string, args?: readonly unknown[] }): Promise<void> {
  const hash = await actor.wallet.writeContract(call as any)
  const receipt = await actor.client.waitForTransactionReceipt({ hash, timeout: 10_000 })
  if (receipt.status !== 'success') throw new Error(`${call.functionName} reverted in ${hash}`)
}

/** Calls the deposit contract as `actor`. */
export async function callDeposit (t: TestChain, actor: Actor, functionName: string, args: readonly unknown[] = []): Promise<void> {
  await send(actor, { address: t.contracts.deposit, abi: clayDepositAbi, functionName, args })
}

/** The custom error a call reverted with (by name), or throws what it was if not a revert. */
export async function revertReason (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    const revert = err instanceof BaseError ? err.walk(e => e instanceof ContractFunctionRevertedError) : null
    if (revert instanceof ContractFunctionRevertedError) return revert.data?.errorName ?? revert.reason ?? 'unknown revert'
    throw err
  }
  throw new Error('expected the call to revert, it succeeded')
}

/** Mints `amount` to `who` and deposits it (as `who`). */
export async function fundDeposit (t: TestChain, who: Actor, amount: bigint): Promise<void> {
  await send(t.actors.owner, { address: t.contracts.token, abi: clayTestTokenAbi, functionName: 'mint', args: [who.address, amount] })
  await send(who, { address: t.contracts.token, abi: clayTestTokenAbi, functionName: 'approve', args: [t.contracts.deposit, amount] })
  await callDeposit(t, who, 'deposit', [amount])
}

export async function tokenBalance (t: TestChain, who: Address): Promise<bigint> {
  return await t.client.readContract({ address: t.contracts.token, abi: clayTestTokenAbi, functionName: 'balanceOf', args: [who] })
}

export async function depositBalance (t: TestChain, who: Address): Promise<bigint> {
  const [amount] = await t.client.readContract({ address: t.contracts.deposit, abi: clayDepositAbi, functionName: 'deposits', args: [who] })
  return amount
}

/** A cheque signed by `signer` (the requestor's key, or another to test refusals) for `deployment` (this one by default). */
export async function signCheque (t: TestChain, signer: Actor, cheque: Cheque, deployment: DepositDeployment = t.deployment): Promise<{ cheque: Cheque, signature: Hex }> {
  const signature = await signer.account.signTypedData({ domain: depositDomain(deployment), types: chequeTypes, primaryType: 'Cheque', message: cheque })
  return { cheque, signature }
}

export async function signNote (t: TestChain, signer: Actor, note: PromissoryNote): Promise<{ note: PromissoryNote, signature: Hex }> {
  const signature = await signer.account.signTypedData({ domain: depositDomain(t.deployment), types: promissoryNoteTypes, primaryType: 'PromissoryNote', message: note })
  return { note, signature }
}

/** A cheque's beneficiary's consent (the fee cuts its payout) that whoever cashes it keeps `callerFee`. */
export async function signCashout (t: TestChain, signer: Actor, authorization: CashoutAuthorization): Promise<Hex> {
  return await signer.account.signTypedData({ domain: depositDomain(t.deployment), types: cashoutTypes, primaryType: 'Cashout', message: authorization })
}
