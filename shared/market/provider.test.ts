import { describe, expect, it } from 'vitest'
import { logger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { formatAddress, parseAddress, sha256Once, toHex } from '../storage/index.ts'
import { packInputs } from './input-bundle.ts'
import { InvalidTaskError } from './market-errors.ts'
import { DutyCycle } from './duty-cycle.ts'
import { Provider } from './provider.ts'
import type { Assignment, TaskHeader } from './market-codec.ts'
import type { MarketRequest } from './market-wire.ts'
import type { ProviderContext, ProviderInit, ProviderJob } from './provider.ts'
import type { SubtaskJob, TaskRunner } from '../compute/index.ts'

// Ordering of one provider's messages, with an in-process requestor: the real wire is covered by relay/market/market.test.ts and e2e/compute-market.spec.ts.
const REQUESTOR = 'requestor'
const SELF = 'provider'
const TASK = 'task-1'
/** The requestor's payment address, as the header's verified binding gives it (bindings have tests of their own). */
const PAYER = '0x000000000000000000000000000000000000dEaD'

/** Echoes the input back: enough to produce a result to report. */
function echoRunner (): TaskRunner {
  const runner = new TypedEventEmitter() as unknown as TaskRunner
  return Object.assign(runner, { cores: 1, paused: false, run: async (job: SubtaskJob) => job.input })
}

/** A provider of one single-subtask task; `request` plays the requestor's side of each request it sends. */
async function fixture (request: (provider: Provider, req: MarketRequest, signal: AbortSignal) => void, init: Partial<ProviderInit> = {}): Promise<{ provider: Provider, header: TaskHeader, assignment: Assignment, finished: Promise<ProviderJob> }> {
  const input = new TextEncoder().encode('subtask 0')
  const bundle = packInputs([input])
  const module = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])
  const ref = async (bytes: Uint8Array, path: string): Promise<{ address: string, sha256: string, size: number }> => {
    const sha256 = toHex(await sha256Once(bytes))
    return { address: formatAddress({ drive: 'ab'.repeat(32), path, sha256, size: bytes.byteLength, relays: [] }), sha256, size: bytes.byteLength }
  }
  const now = Date.now()
  const header: TaskHeader = {
    v: 1, type: 'task', id: TASK, requestor: REQUESTOR, requestorAddrs: [], name: 'echo',
    module: await ref(module, 'module'), inputs: await ref(bundle, 'inputs'), subtasks: 1, price: 0,
    deadline: now + 60_000, subtaskTimeout: 10_000, requirements: { runtimes: ['node'], memoryMB: 16 }, verification: { mode: 'redundancy', k: 1 }, createdAt: now, payment: 'binding'
  }
  const assignment: Assignment = { v: 1, type: 'assign', id: 'a-1', task: header.id, requestor: REQUESTOR, provider: SELF, subtask: 0, input: toHex(await sha256Once(input)), deadline: now + 30_000, at: now }
  const ctx: ProviderContext = {
    self: SELF,
    log: logger('golem-clay:provider-test'),
    addrs: () => [],
    sign: async (kind, body) => JSON.stringify({ kind, body }),
    payment: async () => 'binding',
    request: async (_peer, _addrs, req, signal) => { request(provider, req, signal) },
    fetch: async (address) => parseAddress(address).path === 'module' ? module : bundle
  }
  const provider = new Provider(ctx, echoRunner(), { runtime: 'node', ...init })
  const finished = new Promise<ProviderJob>(resolve => {
    provider.addEventListener('job', (evt) => { if (evt.detail.state === 'done' || evt.detail.state === 'failed') resolve(evt.detail) })
  })
  return { provider, header, assignment, finished }
}

describe('provider', () => {
  it('delivers the report that completes a task even when the task\'s close overtakes the answer', async () => {
    const sent: MarketRequest[] = []
    const { provider, header, assignment, finished } = await fixture((provider, req, signal) => {
      sent.push(req)
      // the requestor decided on this report and closed the task: its 'closed' gossip lands before the answer
      provider.onClosed({ v: 1, type: 'closed', task: TASK, requestor: REQUESTOR, reason: 'done', at: Date.now() })
      signal.throwIfAborted()
    })
    provider.onAssign(assignment, JSON.stringify(assignment), { header, payer: PAYER }, REQUESTOR, { module: 't', inputs: 't' })
    const job = await finished
    expect(sent.map(r => r.kind)).toEqual(['report'])
    expect(job.error).toBeUndefined()
    expect(job.state).toBe('done')
    // whoever pays for the work, as the header's binding said
    expect(job.payer).toBe(PAYER)
  })

  it('gives up a report on the way when the provider stops', async () => {
    const { provider, header, assignment, finished } = await fixture((provider, _req, signal) => {
      provider.stop()
      signal.throwIfAborted()
    })
    provider.onAssign(assignment, JSON.stringify(assignment), { header, payer: PAYER }, REQUESTOR, { module: 't', inputs: 't' })
    const job = await finished
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/report not delivered/)
  })

  it('holds a subtask at its gate and, given up there, reports it given up so the requestor reassigns it at once', async () => {
    const sent: MarketRequest[] = []
    // a duty cycle already in debt: nothing is admitted for a long while
    const gate = new DutyCycle({ maxShare: 0.5 })
    await gate.enter(AbortSignal.timeout(1_000))
    gate.leave(600_000)
    const { provider, header, assignment, finished } = await fixture((_provider, req) => { sent.push(req) }, { gate })
    const queued = new Promise<void>(resolve => { provider.addEventListener('job', (evt) => { if (evt.detail.state === 'queued') resolve() }) })
    provider.onAssign(assignment, JSON.stringify(assignment), { header, payer: PAYER }, REQUESTOR, { module: 't', inputs: 't' })
    await queued
    expect(sent).toEqual([])
    provider.giveUp('paused: visitor')
    const job = await finished
    expect(job.state).toBe('failed')
    expect(job.error).toBe('paused: visitor')
    const report = JSON.parse(sent[0]?.msg ?? '{}').body
    expect(sent.map(r => r.kind)).toEqual(['report'])
    expect(report.error).toEqual({ name: 'ProviderPausedError', message: 'paused: visitor' })
    expect(report.result).toBeUndefined()
  })

  it('lets a subtask through an open gate and tells the gate how long it ran', async () => {
    const ran: number[] = []
    const gate = { enter: async () => {}, leave: (ms: number) => { ran.push(ms) } }
    const { provider, header, assignment, finished } = await fixture(() => {}, { gate })
    provider.onAssign(assignment, JSON.stringify(assignment), { header, payer: PAYER }, REQUESTOR, { module: 't', inputs: 't' })
    expect((await finished).state).toBe('done')
    expect(ran).toHaveLength(1)
    expect(ran[0]).toBeGreaterThanOrEqual(0)
  })

  it('refuses a task whose resources are too big, or whose addresses promise other bytes, before fetching anything', async () => {
    const fetched: string[] = []
    const { provider, header, assignment } = await fixture(() => {})
    const offers: MarketRequest[] = []
    const guarded = new Provider({
      self: SELF,
      log: logger('golem-clay:provider-test'),
      addrs: () => [],
      sign: async (kind, body) => JSON.stringify({ kind, body }),
      payment: async () => 'binding',
      request: async (_peer, _addrs, req) => { offers.push(req) },
      fetch: async (address) => { fetched.push(address); throw new Error('must not fetch') }
    }, echoRunner(), { runtime: 'node', maxModuleBytes: 1024 })
    // a 64 MiB "module": the header says so, and so does its address
    const huge = { ...header.module, size: 64 * 1024 * 1024, address: formatAddress({ ...parseAddress(header.module.address), size: 64 * 1024 * 1024 }) }
    await guarded.onHeader({ header: { ...header, module: huge }, payer: PAYER })
    expect(offers).toEqual([])
    expect(() => { guarded.onAssign(assignment, JSON.stringify(assignment), { header: { ...header, module: huge }, payer: PAYER }, REQUESTOR, { module: 't', inputs: 't' }) }).toThrow(InvalidTaskError)
    // a small header whose address names 64 MiB
    const lying = { ...header.module, address: huge.address }
    await guarded.onHeader({ header: { ...header, module: lying }, payer: PAYER })
    expect(offers).toEqual([])
    expect(fetched).toEqual([])
    // the honest header is offered for
    await guarded.onHeader({ header, payer: PAYER })
    expect(offers.map(o => o.kind)).toEqual(['offer'])
    // the offer carries this provider's payment binding
    expect(JSON.parse(offers[0]?.msg ?? '{}').body.payment).toBe('binding')
    provider.stop()
    guarded.stop()
  })
})
