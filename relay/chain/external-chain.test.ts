import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { InvalidConfigError } from '../../shared/errors.ts'
import { parseRelayConfig } from '../config/relay-config.ts'
import { createAnvilProcess, createExternalChain, deployContracts, ExternalChainError, JsonRpcError } from './index.ts'
import type { AnvilProcess, DeployedContracts, ExternalChainInit } from './index.ts'

let anvil: AnvilProcess
let rpcUrl: string
let contracts: DeployedContracts

beforeAll(async () => {
  anvil = createAnvilProcess({ accounts: 1, chainId: 1337 })
  const started = await anvil.start()
  rpcUrl = started.rpcUrl
  contracts = await deployContracts({ rpcUrl, privateKey: started.accounts[0]?.privateKey ?? '0x' })
})
afterAll(async () => { await anvil?.stop() })

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
      .toEqual({ mode: 'external', rpcUrl: 'https://polygon.example/v1/key', chainId: 137, token, deposit })
    expect(() => parse('--chain-rpc', 'https://polygon.example', '--token', token, '--deposit-contract', deposit)).toThrow(/needs --chain-id/)
    expect(() => parse('--chain-rpc', 'https://polygon.example', '--chain-id', '137', '--token', token)).toThrow(/needs --deposit-contract/)
    expect(() => parse('--chain-rpc', 'ftp://polygon.example', '--chain-id', '137', '--token', token, '--deposit-contract', deposit)).toThrow(/http\(s\) URL/)
    expect(() => parse('--chain-rpc', 'https://polygon.example', '--chain-id', '137', '--token', '0x12', '--deposit-contract', deposit)).toThrow(/--token must be an address/)
    expect(() => parse('--chain', 'embedded', '--token', token)).toThrow(/--token is for an external chain/)
    expect(() => parse('--chain', 'external')).toThrow(/needs --chain-rpc/)
    expect(() => parse('--chain', 'anvil')).toThrow(InvalidConfigError)
  })
})
