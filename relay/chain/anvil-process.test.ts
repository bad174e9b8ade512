import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, http, parseEther } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { clayDepositAbi } from '../../contracts/index.ts'
import { NotStartedError } from '../../shared/errors.ts'
import { AnvilStartError, createAnvilProcess, deployContracts } from './index.ts'
import type { AnvilProcess } from './index.ts'

/** Anvil's well-known first account (from its public default mnemonic): never one of ours. */
const ANVIL_DEFAULT_ACCOUNT = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

const running: AnvilProcess[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const anvil of running.splice(0)) await anvil.stop()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

function anvil (init: Parameters<typeof createAnvilProcess>[0] = {}): AnvilProcess {
  const process = createAnvilProcess(init)
  running.push(process)
  return process
}

describe('AnvilProcess', () => {
  it('starts on a free loopback port with random funded accounts, and stops', async () => {
    const first = anvil({ accounts: 3, balance: 5 })
    const second = anvil({ accounts: 1 })
    const [a, b] = await Promise.all([first.start(), second.start()])
    expect(a.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(a.rpcUrl).not.toBe(b.rpcUrl)
    expect(a.accounts).toHaveLength(3)
    expect(a.accounts.map(x => x.address)).not.toContain(ANVIL_DEFAULT_ACCOUNT)
    expect(a.accounts[0]?.address).not.toBe(b.accounts[0]?.address)
    const client = createPublicClient({ transport: http(a.rpcUrl, { retryCount: 0 }) })
    expect(await client.getChainId()).toBe(31337)
    for (const { address, privateKey } of a.accounts) {
      expect(privateKey).toMatch(/^0x[0-9a-f]{64}$/)
      expect(await client.getBalance({ address })).toBe(parseEther('5'))
    }
    await first.stop()
    expect(() => first.rpcUrl).toThrow(NotStartedError)
    await expect(client.getChainId()).rejects.toThrow()
  })

  it('keeps a deployment across a restart with the state dumped on stop and the same mnemonic', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gc-anvil-'))
    dirs.push(dir)
    const stateFile = join(dir, 'state.json')
    const first = anvil({ dumpState: stateFile, chainId: 1337 })
    const { rpcUrl, accounts, mnemonic } = await first.start()
    const deployed = await deployContracts({ rpcUrl, privateKey: accounts[0]?.privateKey ?? '0x' })
    expect(deployed).toMatchObject({ chainId: 1337, testToken: true })
    await first.stop()

    const again = anvil({ loadState: stateFile, mnemonic, chainId: 1337 })
    const restarted = await again.start()
    expect(restarted.accounts).toEqual(accounts)
    const client = createPublicClient({ transport: http(restarted.rpcUrl) })
    const salt = await client.readContract({ address: deployed.deposit, abi: clayDepositAbi, functionName: 'salt' })
    expect(salt).toBe(deployed.salt)
  })

  it('gives up when aborted, and names a missing binary', async () => {
    const controller = new AbortController()
    const starting = anvil().start({ signal: controller.signal })
    controller.abort(new Error('changed my mind'))
    await expect(starting).rejects.toThrow('changed my mind')
    await expect(anvil({ binary: '/nonexistent/anvil' }).start()).rejects.toThrow(AnvilStartError)
  })
})
