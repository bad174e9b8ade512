import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, http, parseEther, parseUnits } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { clayTestTokenAbi } from '../../contracts/index.ts'
import { isRunning, readPidFile, writePidFile } from './anvil-pidfile.ts'
import { createEmbeddedChain, FaucetRateLimitedError, FaucetRefusedError, PID_FILE_NAME } from './index.ts'
import type { EmbeddedChain, EmbeddedChainInit } from './index.ts'
import type { Address } from 'viem'

const dirs: string[] = []
const chains: EmbeddedChain[] = []
const pids: number[] = []
afterAll(async () => {
  for (const chain of chains) await chain.stop().catch(() => {})
  for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL')
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

/** An embedded chain in a new folder (or `dir`), its log lines kept by event name. */
async function startChain (init: Partial<EmbeddedChainInit> & { dir?: string } = {}): Promise<{ chain: EmbeddedChain, dir: string, events: Map<string, any>, anvilPid: number }> {
  let dir = init.dir
  if (dir == null) {
    const parent = await mkdtemp(join(tmpdir(), 'gc-chain-'))
    dirs.push(parent)
    dir = join(parent, 'chain')
  }
  const events = new Map<string, any>()
  const keep = (fields: any): void => { events.set(fields.event, fields) }
  const chain = createEmbeddedChain({ log: { info: keep, warn: keep, error: keep } }, { ...init, dir })
  await chain.start()
  chains.push(chain)
  const anvilPid = readPidFile(join(dir, PID_FILE_NAME))?.pid ?? 0
  pids.push(anvilPid)
  return { chain, dir, events, anvilPid }
}

/** Snapshots only when asked: transactions sent after one are in the journal alone. */
const NO_AUTO_SNAPSHOTS = { snapshotIntervalMs: 3600_000, snapshotAfterTxMs: 3600_000 }

async function tokensOf (chain: EmbeddedChain, who: Address): Promise<bigint> {
  const client = createPublicClient({ transport: http(chain.rpcUrl) })
  return await client.readContract({ address: chain.info.token, abi: clayTestTokenAbi, functionName: 'balanceOf', args: [who] })
}

const someone = (): Address => privateKeyToAccount(generatePrivateKey()).address

describe('EmbeddedChain', () => {
  it('keeps its keys private, deploys once, and finds its contracts again after a clean restart', async () => {
    const { chain, dir, events } = await startChain()
    expect(events.get('chain-start')).toMatchObject({ deployment: 'new', loadedBlock: null, newKeys: true })
    expect((await stat(join(dir, 'keys.json'))).mode & 0o777).toBe(0o600)
    const first = chain.info
    await chain.stop()
    expect(existsSync(join(dir, PID_FILE_NAME))).toBe(false)
    expect(JSON.parse(await readFile(join(dir, 'deployment.json'), 'utf8'))).toMatchObject({ deposit: first.deposit, salt: first.salt })

    const again = await startChain({ dir })
    expect(again.events.get('chain-start')).toMatchObject({ deployment: 'kept', newKeys: false, resubmitted: 0 })
    expect(again.chain.info).toEqual(first)
  })

  it('deploys anew when the recorded deposit contract is not this version (a data folder of an earlier release)', async () => {
    const { chain, dir } = await startChain()
    const first = chain.info
    await chain.stop()
    // the recorded address now holds a contract that refuses ClayDeposit's calls, as version 1 refuses version 2's domain
    const path = join(dir, 'deployment.json')
    await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')), deposit: first.token }))
    const again = await startChain({ dir })
    expect(again.events.get('chain-start')).toMatchObject({ deployment: 'redeployed' })
    expect(again.events.get('chain-redeploy')).toMatchObject({ lost: { deposit: first.token } })
    expect(again.chain.info.deposit).not.toBe(first.token)
    expect(again.chain.info.salt).not.toBe(first.salt)
  })

  it('sends again, byte for byte, the journaled transactions a chain killed with the relay lost', async () => {
    const { chain, dir, anvilPid } = await startChain(NO_AUTO_SNAPSHOTS)
    const who = someone()
    const grant = await chain.faucet?.grant(who)
    // the relay and its Anvil die together: the last snapshot is from before the grant
    process.kill(anvilPid, 'SIGKILL')
    chains.splice(chains.indexOf(chain), 1)

    const { chain: restarted, events } = await startChain({ dir, ...NO_AUTO_SNAPSHOTS })
    expect(events.get('chain-resubmit')).toMatchObject({ resubmitted: 2, dropped: 0 })
    expect(await tokensOf(restarted, who)).toBe(parseUnits('100', 18))
    const client = createPublicClient({ transport: http(restarted.rpcUrl) })
    for (const hash of grant?.transactions ?? []) expect((await client.getTransactionReceipt({ hash })).status).toBe('success')
    // and the next transaction takes the next nonce
    expect(await restarted.faucet?.grant(someone())).toBeDefined()
  })

  it('stops the Anvil a killed relay left running, after saving its state, and never a process that is not ours', async () => {
    const { chain, dir, anvilPid } = await startChain(NO_AUTO_SNAPSHOTS)
    const who = someone()
    await chain.faucet?.grant(who)
    // the relay is gone (no stop), its Anvil still runs
    chains.splice(chains.indexOf(chain), 1)

    const { chain: next, events } = await startChain({ dir, ...NO_AUTO_SNAPSHOTS })
    expect(events.get('chain-stale-anvil')).toEqual(expect.objectContaining({ pid: anvilPid, salvaged: true }))
    expect(isRunning(anvilPid)).toBe(false)
    // from the saved state, not the journal
    expect(events.get('chain-resubmit')).toBeUndefined()
    expect(await tokensOf(next, who)).toBe(parseUnits('100', 18))
    await next.stop()

    // a pidfile naming some other program: it is left alone
    const other = spawn('sleep', ['30'], { stdio: 'ignore' })
    pids.push(other.pid ?? 0)
    writePidFile(join(dir, PID_FILE_NAME), { pid: other.pid ?? 0, relayPid: process.pid })
    const third = await startChain({ dir })
    expect(third.events.get('chain-stale-anvil')).toBeUndefined()
    expect(isRunning(other.pid ?? 0)).toBe(true)
    other.kill('SIGKILL')
  })

  it('falls back to the previous snapshot when the newest is damaged, and deploys anew with a new salt when none survives', async () => {
    const { chain, dir } = await startChain(NO_AUTO_SNAPSHOTS)
    const who = someone()
    await chain.faucet?.grant(who)
    const first = chain.info
    await chain.stop() // its last snapshot: state.json, the one before it state.prev.json
    const state = join(dir, 'state.json')
    await truncate(state, (await stat(state)).size >> 1)

    const { chain: restarted, events } = await startChain({ dir, ...NO_AUTO_SNAPSHOTS })
    expect(events.get('chain-start')?.loadedFrom).toBe(join(dir, 'state.prev.json'))
    expect(existsSync(`${state}.corrupt`)).toBe(true)
    expect(restarted.info).toEqual(first)
    expect(await tokensOf(restarted, who)).toBe(parseUnits('100', 18))
    await restarted.stop()

    // one that parses but Anvil refuses goes aside the same way
    await writeFile(state, JSON.stringify({ accounts: { '0xzz': {} }, best_block_number: 3 }))
    const { chain: again, events: againEvents } = await startChain({ dir, ...NO_AUTO_SNAPSHOTS })
    expect(againEvents.get('chain-start')?.loadedFrom).toBe(join(dir, 'state.prev.json'))
    expect(await tokensOf(again, who)).toBe(parseUnits('100', 18))
    await again.stop()

    // both snapshots gone bad, and the journal was pruned since: the chain is lost
    for (const name of ['state.json', 'state.prev.json']) await truncate(join(dir, name), 10)
    const { chain: lost, events: lostEvents } = await startChain({ dir })
    expect(lostEvents.has('chain-lost')).toBe(true)
    expect(lostEvents.get('chain-redeploy')).toMatchObject({ lost: { salt: first.salt } })
    expect(lost.info.salt).not.toBe(first.salt)
  })

  it('gives test tokens and gas to new addresses, within its limits', async () => {
    const { chain } = await startChain({ faucet: { addressIntervalMs: 60_000, maxPerHour: 3 } })
    const faucet = chain.faucet
    if (faucet == null) throw new Error('no faucet')
    const [a, b, c, d] = [someone(), someone(), someone(), someone()]
    const grant = await faucet.grant(a.toLowerCase())
    expect(grant).toMatchObject({ address: a, tokens: parseUnits('100', 18), gas: parseEther('1') })
    const client = createPublicClient({ transport: http(chain.rpcUrl) })
    expect(await client.getBalance({ address: a })).toBe(parseEther('1'))
    expect(await tokensOf(chain, a)).toBe(parseUnits('100', 18))

    const again = await faucet.grant(a).catch(err => err)
    expect(again).toBeInstanceOf(FaucetRateLimitedError)
    expect(again.retryAfterMs).toBeGreaterThan(50_000)
    await faucet.grant(b)
    await faucet.grant(c)
    await expect(faucet.grant(d)).rejects.toThrow(/in an hour/)
    await expect(faucet.grant('0x1234')).rejects.toThrow(FaucetRefusedError)
  })
})
