import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pEvent } from 'p-event'
import wabtInit from 'wabt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRelayNode } from '../gateway/create-relay-node.ts'
import { createNodePeer } from '../node-peer/create-node-peer.ts'
import { exchange, InvalidTaskError, signMessage } from '../../shared/market/index.ts'
import { generatePaymentKey, MAX_PAYMENT_BINDING_LENGTH, PAYMENT_BINDING_KIND, paymentAccountOf, paymentProofText } from '../../shared/payments/index.ts'
import { MARKET_PROTOCOL, signJson, TASKS_TOPIC } from '../../shared/wire/index.ts'
import type { Assignment, Offer, TaskHeader } from '../../shared/market/index.ts'
import type { MarketRequest } from '../../shared/market/index.ts'
import type { RelayNode } from '../gateway/create-relay-node.ts'
import type { NodePeer, NodePeerInit } from '../node-peer/create-node-peer.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import { tcpAddr as tcp, until } from '../testing/wait.ts'
import { addOneModule, inputs, plusOne } from '../testing/add-one.ts'
import { cheatingRunner, mismatchingTap } from '../../shared/testing/index.ts'
import { createNodeTaskRunner } from '../compute/node-task-runner.ts'

const FAST = { difficulty: { base: 4, max: 6 } }
const running: Array<{ stop: () => Promise<void> | void }> = []
let dir: string
let addOne: Uint8Array

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'golem-clay-market-'))
  addOne = await addOneModule()
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })
afterEach(async () => { await Promise.all(running.splice(0).map(async n => { await n.stop() })) })

async function relay (): Promise<RelayNode> {
  const node = await createRelayNode({ privateKey: await generateKeyPair('Ed25519'), host: '127.0.0.1', tcpPort: 0, wsPort: 0, session: FAST, storage: { dir: join(dir, crypto.randomUUID()) } })
  await node.start()
  running.push(node)
  return node
}

async function peer (r: RelayNode, provider?: NodePeerInit['provider'], market?: NodePeerInit['market']): Promise<NodePeer> {
  const node = await createNodePeer({ relays: [tcp(r)], session: FAST, maxRelays: 1, provider, market })
  await node.start()
  running.push(node)
  await until(() => node.services.relays.status.some(s => s.state === 'reserved'), 'a reservation')
  return node
}


describe('compute market between Node peers (real libp2p, storage, worker threads)', () => {
  it('runs every subtask on providers, verifies by majority and penalises a cheat', { timeout: 90_000 }, async () => {
    const r = await relay()
    const requestor = await peer(r)
    const honest = [await peer(r, { cores: 1 }), await peer(r, { cores: 1 })]
    const cheat = await peer(r, { cores: 1, runner: cheatingRunner(createNodeTaskRunner({ cores: 1 })) })
    const task = await requestor.services.market.submit({ name: 'add one', module: addOne, inputs: inputs(6), k: 3, subtaskTimeout: 20_000, timeout: 60_000 })
    const rejected: string[] = []
    task.addEventListener('rejected', (evt) => { rejected.push(evt.detail.provider) })
    for (const e of ['offer', 'assigned', 'result', 'rejected', 'reassigned', 'progress'] as const) task.addEventListener(e, (evt: any) => { if (process.env.DEBUG_MARKET) console.log(e, JSON.stringify(evt.detail, (k, v) => k === 'data' ? undefined : v)) })
    const results = await task.done
    expect(results).toHaveLength(6)
    results.forEach((res, i) => {
      expect(Buffer.from(res.data).equals(Buffer.from(plusOne(inputs(6)[i] as Uint8Array)))).toBe(true)
      expect(honest.map(h => h.peerId.toString())).toContain(res.provider)
    })
    // the cheat was outvoted, penalised in PeerKeeper and sent a signed rejection, even when
    // its report came after the honest majority had closed the task
    // (events from before submit() returned are not seen here: the market's own record is)
    await until(() => requestor.services.market.penalised.size > 0, 'the cheat to be judged')
    expect([...requestor.services.market.penalised.keys()]).toEqual([cheat.peerId.toString()])
    expect(rejected.filter(p => p !== cheat.peerId.toString())).toEqual([])
    await until(() => (cheat.services.market.provider?.rejected ?? 0) > 0, 'the cheat to get a rejection')
    const kept = requestor.services.keeper.get(cheat.peerId.toString())
    expect(kept?.score).toBeLessThan(requestor.services.keeper.get(honest[0]?.peerId.toString() ?? '')?.score ?? 0)
    // quorum 2 with one cheat: both honest providers won every subtask, and each hears so (the last report's verdict too, though the task closed as it landed)
    await until(() => honest.every(h => h.services.market.provider?.accepted === 6), 'an accepted verdict for each subtask to reach each honest provider')

    // and is avoided afterwards: a task without redundancy goes to honest providers only
    const next = await requestor.services.market.submit({ name: 'add one again', module: addOne, inputs: inputs(4), timeout: 60_000 })
    const again = await next.done
    expect(again.map(res => res.provider).filter(p => p === cheat.peerId.toString())).toEqual([])
  })

  it('feeds a provider whose gossip died: it asks its relay for the open tasks, and subscribes again', { timeout: 90_000 }, async () => {
    const r = await relay()
    const requestor = await peer(r)
    const quiet = await peer(r, { cores: 1, pullInterval: 1_000 })
    // the subscription gone without a sound: no header reaches it by gossip
    quiet.services.pubsub.unsubscribe(TASKS_TOPIC)
    expect(quiet.services.market.feed.subscribed).toBe(false)
    const payers = new Set<string>()
    quiet.services.market.provider?.addEventListener('job', (evt) => { payers.add(evt.detail.payer) })
    const task = await requestor.services.market.submit({ name: 'add one', module: addOne, inputs: inputs(2), timeout: 60_000 })
    const results = await task.done
    expect(results.map(res => res.provider)).toEqual([quiet.peerId.toString(), quiet.peerId.toString()])
    // each side knows the other's payment address, from the bindings in the signed header and offer
    expect([...payers]).toEqual([requestor.services.payments.address])
    expect([...task.payees]).toEqual([[quiet.peerId.toString(), { beneficiary: quiet.services.payments.address, provider: quiet.services.payments.address }]])
    const feed = quiet.services.market.feed
    expect(feed.pulls).toBeGreaterThanOrEqual(1)
    expect(feed.pulledNew).toBeGreaterThanOrEqual(1)
    expect(feed.subscribed).toBe(true)
    // the relay answers anyone with a session, with signed headers only
    expect(r.services.market.feed.subscribed).toBe(true)
  })

  it('reassigns the work of a provider that vanishes mid-subtask', { timeout: 90_000 }, async () => {
    const r = await relay()
    const requestor = await peer(r)
    const stable = await peer(r, { cores: 1 })
    const leaving = await peer(r, { cores: 1 })
    const task = await requestor.services.market.submit({ name: 'add one', module: addOne, inputs: inputs(8), subtaskTimeout: 30_000, timeout: 60_000 })
    // the first assignment to `leaving`: stop it right away, before it can report
    const reassigned = pEvent(task, 'reassigned', { timeout: 30_000 })
    await pEvent(leaving.services.market.provider as any, 'job', { filter: (e: CustomEvent) => e.detail.state === 'fetching', timeout: 30_000 })
    await leaving.stop()
    expect((await reassigned as CustomEvent).detail.provider).toBe(leaving.peerId.toString())
    const results = await task.done
    expect(results.every(res => res.data.byteLength > 0)).toBe(true)
    expect(results.map(res => res.provider)).toContain(stable.peerId.toString())
  })

  it('refuses a task that is not WebAssembly before uploading anything', async () => {
    const r = await relay()
    const requestor = await peer(r)
    await expect(requestor.services.market.submit({ name: 'bad', module: new TextEncoder().encode('#!/bin/sh echo hi'), inputs: inputs(1) })).rejects.toThrow(InvalidTaskError)
  })
})

describe('compute market refusals (real libp2p)', () => {
  it('refuses forged, replayed and expired assignments, and keeps serving', { timeout: 90_000 }, async () => {
    const r = await relay()
    const provider = await peer(r, { cores: 1 })
    const key = await generateKeyPair('Ed25519')
    const rogue = await createNodePeer({ privateKey: key, relays: [tcp(r)], session: FAST, maxRelays: 1 })
    await rogue.start()
    running.push(rogue)
    const conn = await rogue.dial(provider.getMultiaddrs()[0] as Multiaddr)
    await rogue.services.sessions.ensure(conn)
    const send = async (req: MarketRequest): Promise<void> => {
      const stream = await conn.newStream(MARKET_PROTOCOL, { runOnLimitedConnection: true })
      await exchange(stream, req, AbortSignal.timeout(10_000))
    }
    const me = rogue.peerId.toString()
    const sha = 'b'.repeat(64)
    const payment = await rogue.services.payments.binding()
    const header: TaskHeader = {
      v: 1, type: 'task', id: 'rogue-task', requestor: me, requestorAddrs: [], name: 'rogue',
      module: { address: `golem-clay:${'c'.repeat(64)}/m.wasm?sha256=${sha}&size=10`, sha256: sha, size: 10 },
      inputs: { address: `golem-clay:${'c'.repeat(64)}/i.bin?sha256=${sha}&size=20`, sha256: sha, size: 20 },
      subtasks: 1, price: 1, deadline: Date.now() + 60_000, subtaskTimeout: 5_000,
      requirements: { runtimes: ['node'], memoryMB: 16 }, verification: { mode: 'none', k: 1 }, createdAt: Date.now(), payment
    }
    const signedHeader = await signMessage(key, 'task', header)
    const assignment = (over: Partial<Assignment> = {}): Assignment => ({ v: 1, type: 'assign', id: crypto.randomUUID(), task: header.id, requestor: me, provider: provider.peerId.toString(), subtask: 0, input: sha, deadline: Date.now() + 5_000, at: Date.now(), ...over })
    const refusal = async (req: MarketRequest): Promise<string> => await send(req).then(() => 'accepted', (err: any) => err.reason ?? err.name)

    // read tokens ride beside the signed assignment
    const assign = (msg: string, tokens: MarketRequest['tokens'] | null = { module: 'x', inputs: 'y' }): MarketRequest => ({ v: 1, kind: 'assign', msg, header: signedHeader, ...(tokens != null ? { tokens } : {}) })

    // without tokens, for a task the provider holds none for: it could never fetch the inputs
    expect(await refusal(assign(await signMessage(key, 'assign', assignment()), null))).toBe('UnknownTaskError')
    const genuine = await signMessage(key, 'assign', assignment())
    expect(await refusal(assign(genuine))).toBe('accepted')
    // the same signed assignment again: a replay
    expect(await refusal(assign(genuine))).toBe('ReplayedMessageError')
    // signed by us but claiming another requestor: the signature can't match
    const other = (await generateKeyPair('Ed25519')).publicKey.toString()
    expect(await refusal(assign(await signMessage(key, 'assign', assignment({ requestor: other }))))).toBe('InvalidSignatureError')
    // for another provider, past its deadline, or not matching its header
    expect(await refusal(assign(await signMessage(key, 'assign', assignment({ provider: other }))))).toBe('InvalidSignatureError')
    expect(await refusal(assign(await signMessage(key, 'assign', assignment({ deadline: Date.now() - 1 }))))).toBe('TaskDeadlineError')
    expect(await refusal(assign(await signMessage(key, 'assign', assignment({ subtask: 5 }))))).toBe('InputMismatchError')
    // garbage where a signed message belongs
    expect(await refusal(assign('not.signed'))).toBe('InvalidMessageError')
    // a header carrying another peer's payment binding: the provider would not know who pays
    const lifted = await signMessage(key, 'task', { ...header, id: 'lifted-task', payment: await provider.services.payments.binding() })
    expect(await refusal({ ...assign(await signMessage(key, 'assign', assignment({ task: 'lifted-task' }))), header: lifted })).toBe('PaymentBindingInvalidError')
    // a frame the codec refuses (tokens on a message that carries none) resets its stream
    expect(await refusal({ v: 1, kind: 'verdict', msg: genuine, tokens: { module: 'x', inputs: 'y' } })).toBe('StreamResetError')
    expect(provider.services.market.refusals).toBeGreaterThanOrEqual(8)

    // the provider keeps serving honest requestors
    const requestor = await peer(r)
    const task = await requestor.services.market.submit({ name: 'after the rogue', module: addOne, inputs: inputs(2), timeout: 60_000 })
    expect((await task.done).map(res => res.provider)).toEqual([provider.peerId.toString(), provider.peerId.toString()])
  })

  it('refuses an offer whose payment binding is another peer\'s, or proves an address its maker lacks', { timeout: 90_000 }, async () => {
    const r = await relay()
    const requestor = await peer(r)
    const key = await generateKeyPair('Ed25519')
    const rogue = await createNodePeer({ privateKey: key, relays: [tcp(r)], session: FAST, maxRelays: 1 })
    await rogue.start()
    running.push(rogue)
    const task = await requestor.services.market.submit({ name: 'no providers yet', module: addOne, inputs: inputs(1), timeout: 60_000 })
    const conn = await rogue.dial(requestor.getMultiaddrs()[0] as Multiaddr)
    await rogue.services.sessions.ensure(conn)
    const offer = (payment: string): Offer => ({ v: 1, type: 'offer', task: task.id, provider: rogue.peerId.toString(), providerAddrs: [], runtime: 'node', cores: 1, price: 1, at: Date.now(), payment })
    const send = async (payment: string): Promise<string> => {
      const stream = await conn.newStream(MARKET_PROTOCOL, { runOnLimitedConnection: true })
      return await exchange(stream, { v: 1, kind: 'offer', msg: await signMessage(key, 'offer', offer(payment)) }, AbortSignal.timeout(10_000)).then(() => 'accepted', (err: any) => err.reason ?? err.name)
    }
    // the requestor's own binding, lifted from its header: to pass as its account
    expect(await send(task.header.payment)).toBe('PaymentBindingInvalidError')
    // signed by the rogue, for an address whose key it lacks (the proof is its own wallet's)
    const wallet = paymentAccountOf(generatePaymentKey())
    const victim = paymentAccountOf(generatePaymentKey())
    const me = rogue.peerId.toString()
    const statement = { v: 1, type: 'payment-binding', peer: me, address: victim.address, at: Date.now(), proof: await wallet.signMessage({ message: paymentProofText(me) }) }
    const claimed = await signJson(key, PAYMENT_BINDING_KIND, statement, MAX_PAYMENT_BINDING_LENGTH)
    expect(await send(claimed)).toBe('PaymentBindingInvalidError')
    expect(task.payees.size).toBe(0)
    // its own binding: taken, and the requestor knows whom it would pay
    expect(await send(await rogue.services.payments.binding())).toBe('accepted')
    expect(task.payees.get(rogue.peerId.toString())).toEqual({ beneficiary: rogue.services.payments.address, provider: rogue.services.payments.address })
    task.cancel()
  })

  it('a provider that joins after a task was announced asks a relay for open tasks at once, not at the next announcement or pull', { timeout: 60_000 }, async () => {
    const r = await relay()
    // no re-announcement and no periodic pull within the test: only the pull on joining can bring the task
    const requestor = await peer(r, undefined, { announceInterval: 600_000 })
    const task = await requestor.services.market.submit({ name: 'late', module: addOne, inputs: inputs(2), timeout: 50_000 })
    const late = await peer(r, { cores: 1, pullInterval: 600_000 })
    await until(() => late.services.market.feed.pulls > 0, 'the pull on joining')
    const results = await task.done
    expect(results.map(res => res.provider)).toEqual([late.peerId.toString(), late.peerId.toString()])
  })

  it('a subtask a provider gives up (paused) goes to another provider at once, not counted as a failed try', { timeout: 60_000 }, async () => {
    const r = await relay()
    const requestor = await peer(r)
    const quitter = await peer(r, { cores: 1 })
    // the quitter pauses as soon as it gets work: it gives the subtask up and offers no more
    quitter.services.market.provider?.addEventListener('job', (evt) => {
      if (evt.detail.state !== 'queued') return
      const provider = quitter.services.market.provider
      if (provider == null || !provider.enabled) return
      provider.enabled = false
      provider.giveUp('paused: hidden')
    })
    const task = await requestor.services.market.submit({ name: 'given up', module: addOne, inputs: inputs(2), timeout: 50_000 })
    const reassigned: string[] = []
    task.addEventListener('reassigned', (evt) => { reassigned.push(`${evt.detail.provider === quitter.peerId.toString() ? 'quitter' : 'other'}: ${evt.detail.reason}`) })
    await until(() => reassigned.length > 0, 'the give-up')
    const steady = await peer(r, { cores: 1 })
    const results = await task.done
    expect(results.map(res => res.provider)).toEqual([steady.peerId.toString(), steady.peerId.toString()])
    expect(reassigned[0]).toBe('quitter: gave it up (paused: hidden)')
    expect(reassigned.every(x => x.startsWith('quitter: gave it up'))).toBe(true)
  })

  it('task headers still spread by gossip after many peers from one address came and went (no IP colocation penalty)', { timeout: 90_000 }, async () => {
    const r = await relay()
    // 16 short visits from 127.0.0.1: with gossipsub's default scoring, the address's later peers would be graylisted
    for (let i = 0; i < 16; i++) {
      const visitor = await peer(r)
      await visitor.stop()
    }
    const requestor = await peer(r)
    const provider = await peer(r, { cores: 1, pullInterval: 600_000 })
    const task = await requestor.services.market.submit({ name: 'crowded', module: addOne, inputs: inputs(1), timeout: 50_000 })
    await task.done
    // the header reached the provider by gossip (the relay forwarded it), not only by its pull on joining
    await until(() => provider.services.market.router.headers > 0, 'a header by gossip', 15_000)
  })

  it('rejects a result whose bytes do not match the reported hash, and reassigns it', { timeout: 90_000 }, async () => {
    const r = await relay()
    const requestor = await peer(r)
    const liar = await peer(r, { cores: 1 }, { tap: mismatchingTap() })
    const task = await requestor.services.market.submit({ name: 'add one', module: addOne, inputs: inputs(3), timeout: 60_000 })
    const rejected = pEvent(task, 'rejected', { timeout: 30_000 })
    expect((await rejected as CustomEvent).detail).toMatchObject({ provider: liar.peerId.toString(), reason: 'result does not match its hash' })
    // the liar gets nothing more; an honest provider finishes the task
    const honest = await peer(r, { cores: 1 })
    const results = await task.done
    expect(results.every(res => res.provider === honest.peerId.toString())).toBe(true)
    results.forEach((res, i) => { expect(Buffer.from(res.data).equals(Buffer.from(plusOne(inputs(3)[i] as Uint8Array)))).toBe(true) })
  })
})

describe('compute market deadlines (real libp2p)', () => {
  it('a provider stops working for a requestor that vanished once the task deadline passes', { timeout: 90_000 }, async () => {
    const r = await relay()
    const requestor = await peer(r)
    const provider = await peer(r, { cores: 1 })
    // a subtask that would run for minutes: the module loops for as long as its input says
    const LOOP = `(module
      (import "env" "memory" (memory 1))
      (func (export "alloc") (param i32) (result i32) (i32.const 16))
      (func (export "run") (param $ptr i32) (param $len i32) (result i32)
        (local $n i64)
        (local.set $n (i64.load (local.get $ptr)))
        (block $done (loop $next
          (br_if $done (i64.eqz (local.get $n)))
          (local.set $n (i64.sub (local.get $n) (i64.const 1)))
          (br $next)))
        (i32.store (i32.const 0) (i32.const 0))
        (i32.const 0)))`
    const wabt = await wabtInit()
    const loop = new Uint8Array(wabt.parseWat('loop.wat', LOOP).toBinary({}).buffer)
    const input = new Uint8Array(8)
    new DataView(input.buffer).setBigUint64(0, 10n ** 12n, true)
    const task = await requestor.services.market.submit({ name: 'forever', module: loop, inputs: [input], timeout: 6_000, subtaskTimeout: 300_000 })
    await pEvent(provider.services.market.provider as any, 'job', { filter: (e: CustomEvent) => e.detail.state === 'running', timeout: 30_000 })
    const started = Date.now()
    // vanish like a crash: no closing message reaches the network
    ;(requestor.services.pubsub as any).publish = async () => ({ recipients: [] })
    await requestor.stop()
    await expect(task.done).rejects.toThrow()
    // the job ends at the task's deadline, not at the subtask's 5-minute limit
    const stopped = await pEvent(provider.services.market.provider as any, 'job', { filter: (e: CustomEvent) => e.detail.state === 'failed', timeout: 20_000 }) as CustomEvent
    expect(stopped.detail.error).toMatch(/stopped: Task deadline passed/)
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(provider.services.market.runner?.running).toBe(0)
  })
})
