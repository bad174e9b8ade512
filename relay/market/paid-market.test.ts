import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pEvent } from 'p-event'
import { createPublicClient, http } from 'viem'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { clayDepositAbi } from '../../contracts/index.ts'
import { createEmbeddedChain } from '../chain/index.ts'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { fileLedgerStores } from '../node-peer/file-ledger-stores.ts'
import { createNodeTaskRunner } from '../compute/node-task-runner.ts'
import { addOneModule, inputs } from '../testing/add-one.ts'
import { tcpAddr as tcp, until } from '../testing/wait.ts'
import { signMessage } from '../../shared/market/index.ts'
import { DEPOSIT_ABI, DepositActionError, DepositTooSmallError, depositClients, depositTokens, generatePaymentKey, memoryLedgerStores, paymentAddressOf, TOKEN_ABI, unlockDeposit, withdrawDeposit } from '../../shared/payments/index.ts'
import { bytesSource } from '../../shared/storage/index.ts'
import { cheatingRunner, runnerWith } from '../../shared/testing/index.ts'
import type { EmbeddedChain } from '../chain/index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer, NodePeerInit } from '../node-peer/create-node-peer.ts'
import type { TaskHeader } from '../../shared/market/index.ts'
import type { LedgerStores } from '../../shared/payments/index.ts'
import type { Address, PublicClient } from 'viem'

const FAST = { difficulty: { base: 4, max: 6 } }
/** A thousandth of a token per subtask. */
const PRICE = 10n ** 15n
/** High enough that nothing is cashed before a test asks. */
const NEVER = 10n ** 30n

let dir: string
let chain: EmbeddedChain
let relay: RelayNode
let relayKey: Awaited<ReturnType<typeof generateKeyPair>>
let client: PublicClient
let addOne: Uint8Array
const running: Array<{ stop: () => Promise<void> | void }> = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gc-paid-market-'))
  chain = createEmbeddedChain({}, { dir: join(dir, 'chain'), snapshotIntervalMs: 3600_000 })
  await chain.start()
  client = createPublicClient({ transport: http(chain.rpcUrl) })
  relayKey = await generateKeyPair('Ed25519')
  relay = await startRelay(0)
  addOne = await addOneModule()
}, 60_000)

/** The relay on `tcpPort` (0: any), with the chain and storage in the test's folder. */
async function startRelay (tcpPort: number): Promise<RelayNode> {
  const node = await createRelayNode({ privateKey: relayKey, host: '127.0.0.1', tcpPort, wsPort: 0, session: FAST, storage: { dir: join(dir, 'storage') }, chain, chainServer: { casher: { batchWindowMs: 200 } } })
  await node.start()
  return node
}

afterEach(async () => { await Promise.all(running.splice(0).map(async n => { await n.stop() })) })

afterAll(async () => {
  await relay?.stop()
  await chain?.stop()
  await rm(dir, { recursive: true, force: true })
})

async function peer (provider?: NodePeerInit['provider'], privateKey?: NodePeerInit['privateKey'], market?: NodePeerInit['market']): Promise<NodePeer> {
  const node = await createNodePeer({ privateKey, market, relays: [tcp(relay)], session: FAST, maxRelays: 1, provider: provider == null ? undefined : { cores: 1, ...provider, payments: { cashThreshold: NEVER, ...provider.payments } } })
  await node.start()
  running.push(node)
  await until(() => node.services.relays.status.some(s => s.state === 'reserved'), 'a reservation')
  return node
}

/** A requestor with test tokens from the faucet, `amount` of them in its deposit (sent over the chain protocol, signed by its payment key). */
async function requestor (amount: bigint, privateKey?: NodePeerInit['privateKey'], market?: NodePeerInit['market']): Promise<NodePeer> {
  const node = await peer(undefined, privateKey, market)
  await chain.faucet?.grant(node.services.payments.address)
  if (amount > 0n) await depositTokens(clientsOf(node), chain.info, amount)
  return node
}

function clientsOf (node: NodePeer): ReturnType<typeof depositClients> {
  return depositClients(node.services.chain.transport(), node.services.payments.account, chain.info.chainId)
}

/** A paid task of `subtasks` from `from`, done, and its cheques held uncashed by `provider` (its only provider). */
async function paidTask (from: NodePeer, provider: NodePeer, subtasks: number): Promise<{ id: string }> {
  const task = await from.services.market.submit({ name: 'paid', module: addOne, inputs: inputs(subtasks), price: Number(PRICE), timeout: 30_000 })
  await task.done
  await until(async () => (await provider.services.market.earnings?.summary())?.uncashed === PRICE * BigInt(subtasks), 'the cheques to be held')
  return task
}

async function tokens (address: Address): Promise<bigint> {
  return await client.readContract({ address: chain.info.token, abi: TOKEN_ABI, functionName: 'balanceOf', args: [address] })
}

describe('paid tasks on the relay\'s chain (real Anvil, contracts, libp2p, worker threads)', () => {
  it('pays every accepted subtask with cheques that providers cash in one batch; an outvoted provider is not paid', { timeout: 120_000 }, async () => {
    // with k = 3 the quorum is 2: the honest pair alone decides a subtask, and could close the task before the cheat
    // reports at all (then it is never outvoted). So the pair computes nothing until the cheat's first report is in
    let cheatReported = (): void => {}
    const reported = new Promise<void>(resolve => { cheatReported = resolve })
    const heldBack = (): NodePeerInit['provider'] => ({ runner: runnerWith(createNodeTaskRunner({ cores: 1 }), async (run) => { await reported; return await run() }) })
    const honest = [await peer(heldBack()), await peer(heldBack())]
    const cheat = await peer({ runner: cheatingRunner(createNodeTaskRunner({ cores: 1 })) })
    cheat.services.market.provider?.addEventListener('job', (evt) => { if (evt.detail.state === 'done') cheatReported() })
    const alice = await requestor(10n ** 18n)
    const bob = await requestor(10n ** 18n)

    // k = 3: the cheat is outvoted on every subtask it gets; k = 1 from a second requestor: whoever computes is paid
    const voted = await alice.services.market.submit({ name: 'voted', module: addOne, inputs: inputs(4), k: 3, price: Number(PRICE), timeout: 60_000, subtaskTimeout: 20_000 })
    expect(voted.header.pay?.budget).toBe(String(PRICE * BigInt(4 * 3 + 3)))
    await voted.done
    const single = await bob.services.market.submit({ name: 'single', module: addOne, inputs: inputs(3), price: Number(PRICE), timeout: 60_000, runtimes: ['node'] })
    const singles = await single.done

    // each verdict the providers heard, and what they hold, before cashing: with 3 providers and k = 3 every
    // subtask went to each, the honest pair won them all and the cheat none (its first report at least was outvoted); the single task's go to whoever computed them
    const acceptedOf = (n: NodePeer): number => n.services.market.provider?.accepted ?? 0
    const expected = (n: NodePeer): number => (n === cheat ? 0 : 4) + singles.filter(r => r.provider === n.peerId.toString()).length
    await until(() => [...honest, cheat].every(p => acceptedOf(p) === expected(p)), 'every accepted verdict to reach its provider')
    // a loser's verdict is sent on its own, after the winners': waited for, not raced
    await until(() => (cheat.services.market.provider?.rejected ?? 0) > 0, 'the cheat\'s rejected verdict')
    for (const p of [...honest, cheat]) {
      // a verdict's cheque is held once saved: at once after the last work of its requestor here, else with the others of its second
      await until(async () => (await p.services.market.earnings?.summary())?.uncashed === PRICE * BigInt(acceptedOf(p)), 'the cheques to be saved')
      expect((await p.services.market.earnings?.summary())?.cashed).toBe(0n)
    }

    // cashing: a provider paid by both requestors cashes both cheques in one transaction
    for (const p of [...honest, cheat]) {
      const before = await tokens(p.services.payments.address)
      const cashed = await p.services.market.earnings?.cash() ?? []
      expect(new Set(cashed.map(c => c.tx)).size).toBeLessThanOrEqual(1)
      expect(await tokens(p.services.payments.address) - before).toBe(PRICE * BigInt(acceptedOf(p)))
      const summary = await p.services.market.earnings?.summary()
      expect(summary?.uncashed).toBe(0n)
      expect(summary?.history.length).toBe(cashed.length)
    }
    const both = honest.find(h => singles.some(r => r.provider === h.peerId.toString()))
    if (both != null) expect((await both.services.market.earnings?.summary())?.payers).toHaveLength(2)
    // what the requestors owe is what they paid
    expect(await alice.services.market.spending?.owed(await alice.services.chain.deployment() as any, { beneficiary: honest[0]?.services.payments.address as Address, provider: honest[0]?.services.payments.address as Address })).toBe(PRICE * 4n)
  })

  it('refuses to publish without a covering deposit, and providers make no offer to a requestor that skipped the check', { timeout: 60_000 }, async () => {
    const provider = await peer({})
    const key = await generateKeyPair('Ed25519')
    const poor = await requestor(0n, key)
    await expect(poor.services.market.submit({ name: 'unfunded', module: addOne, inputs: inputs(2), price: Number(PRICE), timeout: 30_000 })).rejects.toThrow(DepositTooSmallError)
    // a requestor that skips its own check: a header with terms, published by hand
    const deployment = await poor.services.chain.deployment()
    if (deployment == null) throw new Error('no deployment')
    const header: TaskHeader = {
      v: 1, type: 'task', id: crypto.randomUUID(), requestor: poor.peerId.toString(), requestorAddrs: [], name: 'unfunded', module: { address: 'x', sha256: '0'.repeat(64), size: 1 },
      inputs: { address: 'x', sha256: '0'.repeat(64), size: 1 }, subtasks: 2, price: Number(PRICE), deadline: Date.now() + 30_000, subtaskTimeout: 10_000,
      requirements: { runtimes: ['node'], memoryMB: 64 }, verification: { mode: 'none', k: 1 }, createdAt: Date.now(), payment: await poor.services.payments.binding(),
      pay: { chainId: deployment.chainId, contract: deployment.address, salt: deployment.salt, budget: String(PRICE * 4n) }
    }
    // the header passes for its resources too: real addresses of real objects
    const mod = await poor.services.storage.put(bytesSource(addOne), { path: 'm.wasm' })
    header.module = { address: mod.address, sha256: mod.object.sha256, size: addOne.byteLength }
    header.inputs = { ...header.module }
    const declined = pEvent(provider.services.market.provider as any, 'declined', { filter: (e: CustomEvent) => e.detail.task === header.id, timeout: 20_000 })
    await poor.services.market.router.publish('task', await signMessage(key, 'task', header))
    const { detail } = await declined as CustomEvent<{ reason: string }>
    expect(detail.reason).toMatch(/deposit of 0 is below/)
  })

  it('a requestor withdrawing its deposit: refused before the delay, providers offer no more and cash at once', { timeout: 90_000 }, async () => {
    const provider = await peer({})
    const carol = await requestor(10n ** 18n)
    const task = await paidTask(carol, provider, 2)
    await unlockDeposit(clientsOf(carol), chain.info)
    await expect(withdrawDeposit(clientsOf(carol), chain.info)).rejects.toMatchObject({ name: DepositActionError.name, reason: 'WithdrawTooEarly' })
    await expect(carol.services.market.submit({ name: 'more', module: addOne, inputs: inputs(2), price: Number(PRICE), timeout: 30_000 })).rejects.toThrow(/being withdrawn/)
    // the provider's check before its next offer sees the unlock: it offers no more and cashes what it holds at once
    const cashed = pEvent(provider.services.market.earnings as any, 'cashed', { timeout: 30_000 })
    const deployment = await carol.services.chain.deployment()
    if (deployment == null) throw new Error('no deployment')
    const next = { task: 'next', payer: carol.services.payments.address, price: PRICE, deployment, budget: PRICE }
    // a deposit read is kept for 5 s: the unlock shows within that
    await until(async () => /withdrawing/.test(await provider.services.market.earnings?.mayOffer(next) ?? ''), 'the provider to see the unlock', 15_000)
    await cashed
    expect(await tokens(provider.services.payments.address)).toBe(PRICE * 2n)
  })

  it('a paid subtask a provider gives up (paused): the provider drops its note (that work is not owed) and the task\'s budget takes the assignment back', { timeout: 90_000 }, async () => {
    const quitter = await peer({ cores: 1 })
    // the quitter pauses as soon as it gets work: it gives the subtask up and offers no more
    const given: number[] = []
    quitter.services.market.provider?.addEventListener('job', (evt) => {
      const provider = quitter.services.market.provider
      if (evt.detail.state !== 'queued' || provider == null || !provider.enabled) return
      given.push(evt.detail.subtask)
      provider.enabled = false
      provider.giveUp('paused: hidden')
    })
    const alice = await requestor(10n ** 18n)
    const task = await alice.services.market.submit({ name: 'given up', module: addOne, inputs: inputs(2), price: Number(PRICE), timeout: 50_000 })
    await until(() => given.length > 0, 'the give-up')
    const steady = await peer({})
    const results = await task.done
    expect(results.map(res => res.provider)).toEqual([steady.peerId.toString(), steady.peerId.toString()])
    // the quitter took the note with the assignment, and dropped it once it gave the subtask up
    await until(() => quitter.services.market.provider?.activeJobs.every(j => j.state === 'done' || j.state === 'failed') ?? true, 'the quitter\'s report')
    expect(quitter.services.market.earnings?.notesOf(alice.services.payments.address).valid).toEqual([])
    // the steady provider was paid for both, by cheque
    await until(async () => (await steady.services.market.earnings?.summary())?.uncashed === 2n * PRICE, 'the cheques to be held')
  })

  // last: it replaces the relay and its chain
  it('providers working for one payee (a widget\'s site owner): each has its own account, the cheques pay the payee, and cashing pays the payee, not the providers', { timeout: 90_000 }, async () => {
    const owner = paymentAddressOf(generatePaymentKey())
    const providers = [await peer({ payee: owner }), await peer({ payee: owner })]
    const alice = await requestor(10n ** 18n)
    // k = 2: both providers compute every subtask, so both are owed
    const task = await alice.services.market.submit({ name: 'for-a-site', module: addOne, inputs: inputs(3), k: 2, price: Number(PRICE), timeout: 30_000 })
    await task.done
    // the requestor paid the payee the offers named, an account per provider
    for (const p of providers) expect(task.payees.get(p.peerId.toString())).toEqual({ beneficiary: owner, provider: p.services.payments.address })
    for (const p of providers) await until(async () => (await p.services.market.earnings?.summary())?.uncashed === 3n * PRICE, 'the cheques to be held')
    const ownerBefore = await tokens(owner)
    for (const p of providers) {
      const own = p.services.payments.address
      const ownBefore = await tokens(own)
      const cashed = await p.services.market.earnings?.cash() ?? []
      expect(cashed.map(c => c.amount)).toEqual([3n * PRICE])
      expect(await tokens(own)).toBe(ownBefore)
      // the contract's account of this provider's work for the owner: paid out 3 prices, settled through its own seq 3
      const [paidOut, settledSeq] = await client.readContract({ address: chain.info.deposit, abi: clayDepositAbi, functionName: 'accounts', args: [alice.services.payments.address, owner, own] })
      expect([paidOut, settledSeq]).toEqual([3n * PRICE, 3n])
    }
    expect(await tokens(owner) - ownerBefore).toBe(6n * PRICE)
    // nothing was paid to an account of the owner alone
    expect((await client.readContract({ address: chain.info.deposit, abi: clayDepositAbi, functionName: 'accounts', args: [alice.services.payments.address, owner, owner] }))[0]).toBe(0n)
  })

  it('a requestor stopped the moment its task is done still hands over the last cheque: the stop lets the answer out first', { timeout: 60_000 }, async () => {
    const provider = await peer({})
    // a slow disk under the cheque book: the last verdict's cheque is still being saved when the task completes
    const memory = memoryLedgerStores()
    const slow: LedgerStores = {
      wallet: memory.wallet,
      book: (ns) => {
        const store = memory.book(ns)
        return { load: async () => await store.load(), save: async (key, entry) => { await new Promise(resolve => setTimeout(resolve, 300)); await store.save(key, entry) } }
      }
    }
    const alice = await requestor(10n ** 18n, undefined, { ledgers: slow })
    const defaults: string[] = []
    provider.services.market.earnings?.addEventListener('defaulted', (e) => { defaults.push(e.detail.reason) })
    const task = await alice.services.market.submit({ name: 'stopping', module: addOne, inputs: inputs(2), price: Number(PRICE), timeout: 30_000 })
    await task.done
    await alice.stop()
    await until(async () => (await provider.services.market.earnings?.summary())?.uncashed === 2n * PRICE, 'the last cheque to be held', 5_000)
    expect(defaults).toEqual([])
  })

  it('a provider with more of a requestor\'s work under way saves its verdicts\' cheques together, and the verdict after the last work at once', { timeout: 60_000 }, async () => {
    const ledgers = join(dir, 'grouped-ledgers')
    // a group time no test waits out: only a verdict with none of the requestor's work under way settles
    const provider = await peer({ cores: 2, payments: { saveGroupMs: 600_000 } }, undefined, { ledgers: fileLedgerStores(ledgers) })
    const alice = await requestor(10n ** 18n)
    const defaults: string[] = []
    provider.services.market.earnings?.addEventListener('defaulted', (e) => { defaults.push(e.detail.reason) })
    const earned: bigint[] = []
    provider.services.market.earnings?.addEventListener('earned', (e) => { earned.push(e.detail.total) })
    const task = await alice.services.market.submit({ name: 'grouped', module: addOne, inputs: inputs(12), price: Number(PRICE), timeout: 30_000 })
    await task.done
    await until(async () => (await provider.services.market.earnings?.summary())?.uncashed === 12n * PRICE, 'the cheques to be held', 10_000)
    expect(defaults).toEqual([])
    expect(earned).toHaveLength(12)
    expect(earned.at(-1)).toBe(12n * PRICE)
    // fewer writes than verdicts: the wallet's journal has a line per settled group
    const [journal] = (await readdir(join(ledgers, 'ledgers'))).filter(n => n.endsWith('-wallet.journal'))
    const lines = (await readFile(join(ledgers, 'ledgers', journal as string), 'utf8')).split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.length).toBeLessThan(12)
  })

  it('a provider whose last work for a requestor ends without a verdict (it failed) settles the cheques waiting for their group then', { timeout: 60_000 }, async () => {
    // the first run computes once the second started; the others fail, the first of them only once the test lets it
    let gate: () => void = () => {}
    const opened = new Promise<void>(resolve => { gate = resolve })
    let secondStarted: () => void = () => {}
    const second = new Promise<void>(resolve => { secondStarted = resolve })
    let runs = 0
    const runner = runnerWith(createNodeTaskRunner({ cores: 2 }), async (run) => {
      if (runs++ === 0) {
        await second
        return await run()
      }
      secondStarted()
      await opened
      throw new Error('this runner gives out')
    })
    // a group time no test waits out
    const provider = await peer({ cores: 2, runner, payments: { saveGroupMs: 600_000 } })
    const alice = await requestor(10n ** 18n)
    const defaults: string[] = []
    provider.services.market.earnings?.addEventListener('defaulted', (e) => { defaults.push(e.detail.reason) })
    const earned: bigint[] = []
    provider.services.market.earnings?.addEventListener('earned', (e) => { earned.push(e.detail.total) })
    const jobs = provider.services.market.provider
    const task = await alice.services.market.submit({ name: 'gives-out', module: addOne, inputs: inputs(2), price: Number(PRICE), timeout: 30_000 })
    const failed = task.done.then(() => false, () => true)
    // the computed subtask's verdict came while the other work was under way: its cheque waits for the group
    await until(() => runs >= 2 && (jobs?.activeJobs.length ?? 0) === 1, 'one subtask done, the other running')
    expect(earned).toEqual([])
    gate()
    await until(async () => (await provider.services.market.earnings?.summary())?.uncashed === PRICE, 'the waiting cheque to be held', 10_000)
    expect(earned).toEqual([PRICE])
    expect(defaults).toEqual([])
    // the failed subtask waits for another provider until the deadline: no need to wait for it
    task.cancel()
    expect(await failed).toBe(true)
  })

  it('a relay restart (its chain too) keeps balances and the cheques providers hold uncashed', { timeout: 120_000 }, async () => {
    const provider = await peer({})
    const dave = await requestor(10n ** 18n)
    await paidTask(dave, provider, 3)
    const deposit = async (): Promise<bigint> => (await client.readContract({ address: chain.info.deposit, abi: DEPOSIT_ABI, functionName: 'deposits', args: [dave.services.payments.address] }))[0]
    const before = await deposit()

    const port = Number(tcp(relay).toString().split('/')[4])
    await relay.stop()
    await chain.stop()
    chain = createEmbeddedChain({}, { dir: join(dir, 'chain'), snapshotIntervalMs: 3600_000 })
    await chain.start()
    client = createPublicClient({ transport: http(chain.rpcUrl) })
    relay = await startRelay(port)
    expect(await deposit()).toBe(before)

    // the provider finds the relay again by itself, and cashes what it held across the restart
    await until(() => provider.services.relays.status.some(s => s.state === 'reserved'), 'the provider to rejoin', 60_000)
    await until(async () => (await provider.services.chain.relays()).length > 0, 'the relay\'s chain to be known again', 30_000)
    const cashed = await provider.services.market.earnings?.cash() ?? []
    expect(cashed.reduce((sum, c) => sum + c.amount, 0n)).toBe(PRICE * 3n)
    expect(await tokens(provider.services.payments.address)).toBe(PRICE * 3n)
    expect(await deposit()).toBe(before - PRICE * 3n)
  })
})
