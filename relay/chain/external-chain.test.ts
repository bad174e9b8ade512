import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, createWalletClient, http } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { clayTestTokenAbi } from '../../contracts/index.ts'
import { depositClients, depositTokens, signCheque } from '../../shared/payments/index.ts'
import { ChequeCasher } from './cheque-casher.ts'
import type { Hex } from 'viem'
import { InvalidConfigError } from '../../shared/errors.ts'
import { parseRelayConfig } from '../config/relay-config.ts'
import { createAnvilProcess, createExternalChain, deployContracts, ExternalChainError, JsonRpcError, rpcChain } from './index.ts'
import type { AnvilProcess, DeployedContracts, ExternalChainInit } from './index.ts'

let anvil: AnvilProcess
let rpcUrl: string
let contracts: DeployedContracts
let owner: Hex
let relayKey: Hex
let dir: string

beforeAll(async () => {
  // the owner deploys and mints; the second account is the relay's, funded by the operator
  anvil = createAnvilProcess({ accounts: 2, chainId: 1337 })
  const started = await anvil.start()
  rpcUrl = started.rpcUrl
  owner = started.accounts[0]?.privateKey ?? '0x'
  relayKey = started.accounts[1]?.privateKey ?? '0x'
  contracts = await deployContracts({ rpcUrl, privateKey: owner })
  dir = await mkdtemp(join(tmpdir(), 'gc-external-chain-'))
})
afterAll(async () => {
  await anvil?.stop()
  await rm(dir, { recursive: true, force: true })
})

const external = (init: Partial<ExternalChainInit> = {}): ReturnType<typeof createExternalChain> =>
  createExternalChain({}, { rpcUrl, chainId: 1337, token: contracts.token, deposit: contracts.deposit, ...init })

describe('external chain (--chain-rpc)', () => {
  it('checks the chain at start and serves no faucet', async () => {
    const chain = external()
    await chain.start()
    expect(chain.info).toEqual({ mode: 'external', chainId: 1337, token: contracts.token, deposit: contracts.deposit, salt: contracts.salt })
    expect(chain.faucet).toBeUndefined()
    const tab = privateKeyToAccount(generatePrivateKey())
    const wrongChain = await tab.signTransaction({ chainId: 1, type: 'eip1559', nonce: 0, to: tab.address, value: 0n, gas: 21_000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n })
    await expect(chain.sendRawTransaction(wrongChain)).rejects.toThrow(JsonRpcError)
    // the chain's own refusal comes back as it is (no gas on this account)
    const broke = await tab.signTransaction({ chainId: 1337, type: 'eip1559', nonce: 0, to: tab.address, value: 0n, gas: 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n })
    await expect(chain.sendRawTransaction(broke)).rejects.toThrow(JsonRpcError)
  })

  it('cashes providers\' cheques from the relay\'s own account, journaled; cashes nothing without one', async () => {
    expect(external().txSender).toBeUndefined()
    const chain = external({ privateKey: relayKey, dir: join(dir, 'chain') })
    await chain.start()
    const sender = chain.txSender
    if (sender == null) throw new Error('no relay account')
    expect(sender.address).toBe(privateKeyToAccount(relayKey).address)
    // a requestor with tokens (the owner mints; gas from the owner) and a deposit, paying a provider
    const requestor = privateKeyToAccount(generatePrivateKey())
    const provider = privateKeyToAccount(generatePrivateKey()).address
    const ownerWallet = createWalletClient({ account: privateKeyToAccount(owner), transport: http(rpcUrl), chain: await rpcChain(rpcUrl) })
    const client = createPublicClient({ transport: http(rpcUrl) })
    for (const hash of [
      await ownerWallet.sendTransaction({ to: requestor.address, value: 10n ** 18n }),
      await ownerWallet.writeContract({ address: contracts.token, abi: clayTestTokenAbi, functionName: 'mint', args: [requestor.address, 10n ** 18n] })
    ]) await client.waitForTransactionReceipt({ hash })
    await depositTokens(depositClients(http(rpcUrl), requestor, 1337), { chainId: 1337, token: contracts.token, deposit: contracts.deposit }, 10n ** 17n)
    const deployment = { chainId: 1337, address: contracts.deposit, salt: contracts.salt }
    const cheque = await signCheque(requestor, deployment, { requestor: requestor.address, beneficiary: provider, provider: provider, cumulative: 12345n, seq: 1n })
    const casher = new ChequeCasher({ client: client as any, sender, deployment }, { batchWindowMs: 10 })
    const [result] = await casher.cash([cheque])
    expect(result).toMatchObject({ ok: true, payout: '12345' })
    expect(await client.readContract({ address: contracts.token, abi: clayTestTokenAbi, functionName: 'balanceOf', args: [provider] })).toBe(12345n)
    // the relay paid the gas
    expect(await client.getBalance({ address: sender.address })).toBeLessThan(10000n * 10n ** 18n)
    await chain.stop()
    // a restart reopens the journal and sends nothing again (the chain has it all)
    const again = external({ privateKey: relayKey, dir: join(dir, 'chain') })
    await again.start()
    expect(again.txSender).toBeDefined()
    await again.stop()
  })

  it('refuses to start on another chain, without contracts, or with a deposit contract for another token', async () => {
    await expect(external({ chainId: 137 }).start()).rejects.toThrow(/is chain 1337, not --chain-id 137/)
    await expect(external({ chainId: 137 }).start()).rejects.toBeInstanceOf(InvalidConfigError)
    const nobody = privateKeyToAccount(generatePrivateKey()).address
    await expect(external({ deposit: nobody }).start()).rejects.toThrow(/--deposit-contract .*no contract there/)
    await expect(external({ token: contracts.deposit }).start()).rejects.toThrow(/holds deposits in .*not --token/)
    await expect(external({ rpcUrl: 'http://127.0.0.1:1' }).start()).rejects.toThrow(ExternalChainError)
  })
})

describe('chain options', () => {
  const parse = (...args: string[]): ReturnType<typeof parseRelayConfig>['config']['chain'] => parseRelayConfig(['--data', '/tmp/gc-data', ...args], {}).config.chain

  it('runs no chain unless asked; embedded keeps it in <data>/chain', () => {
    expect(parse()).toEqual({ mode: 'off' })
    expect(parse('--chain', 'embedded')).toEqual({ mode: 'embedded', dir: '/tmp/gc-data/chain', chainId: 31337, snapshotIntervalMs: 30_000 })
    expect(parse('--chain', 'embedded', '--chain-id', '1337', '--chain-snapshot-interval', '5s')).toMatchObject({ chainId: 1337, snapshotIntervalMs: 5000 })
    expect(parseRelayConfig(['--data', '/tmp/gc-data'], { GOLEM_CLAY_CHAIN: 'embedded' }).config.chain.mode).toBe('embedded')
  })

  it('takes an external chain from --chain-rpc, with its ID and both contracts', () => {
    const token = privateKeyToAccount(generatePrivateKey()).address
    const deposit = privateKeyToAccount(generatePrivateKey()).address
    expect(parse('--chain-rpc', 'https://polygon.example/v1/key', '--chain-id', '137', '--token', token.toLowerCase(), '--deposit-contract', deposit))
      .toEqual({ mode: 'external', rpcUrl: 'https://polygon.example/v1/key', chainId: 137, token, deposit, dir: '/tmp/gc-data/chain' })
    expect(() => parse('--chain-rpc', 'https://polygon.example', '--token', token, '--deposit-contract', deposit)).toThrow(/needs --chain-id/)
    expect(() => parse('--chain-rpc', 'https://polygon.example', '--chain-id', '137', '--token', token)).toThrow(/needs --deposit-contract/)
    expect(() => parse('--chain-rpc', 'ftp://polygon.example', '--chain-id', '137', '--token', token, '--deposit-contract', deposit)).toThrow(/http\(s\) URL/)
    expect(() => parse('--chain-rpc', 'https://polygon.example', '--chain-id', '137', '--token', '0x12', '--deposit-contract', deposit)).toThrow(/--token must be an address/)
    expect(() => parse('--chain', 'embedded', '--token', token)).toThrow(/--token is for an external chain/)
    expect(() => parse('--chain', 'external')).toThrow(/needs --chain-rpc/)
    expect(() => parse('--chain', 'anvil')).toThrow(InvalidConfigError)
  })
})
