import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TypedEventEmitter } from 'main-event'
import { Lifetime } from '../lifetime.ts'
import { ComputeState } from './compute-state.svelte.ts'
import type { Market } from '../../../shared/market/index.ts'
import type { TaskRunner, TaskRunnerState } from '../../../shared/compute/index.ts'

const STATE: TaskRunnerState = { cores: 2, maxCores: 4, paused: false, running: 0, queued: 0 }

function fakeRunner (): TaskRunner & TypedEventEmitter<any> {
  return Object.assign(new TypedEventEmitter<any>(), {
    state: STATE, ...STATE, run: vi.fn(), setCores: vi.fn(), pause: vi.fn(), resume: vi.fn(), start: vi.fn(), stop: vi.fn()
  }) as any
}

function fakeMarket (): { market: Market, provider: TypedEventEmitter<any> & { enabled: boolean }, emitter: TypedEventEmitter<any> } {
  const provider = Object.assign(new TypedEventEmitter<any>(), { enabled: true })
  const emitter = Object.assign(new TypedEventEmitter<any>(), { provider, penalised: new Map([['bad', 1]]), openTasks: () => [] })
  return { market: emitter as unknown as Market, provider, emitter }
}

describe('ComputeState', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('steers the runner the page made, not the market\'s', () => {
    const runner = fakeRunner()
    const compute = new ComputeState({ runner, life: new Lifetime() })
    compute.setCores(3)
    compute.setPaused(true)
    compute.setPaused(false)
    expect(runner.setCores).toHaveBeenCalledWith(3)
    expect(runner.pause).toHaveBeenCalledOnce()
    expect(runner.resume).toHaveBeenCalledOnce()
  })

  it('batches redraws on a timer and reads the market through its public surface', () => {
    const runner = fakeRunner()
    const { market, provider } = fakeMarket()
    const compute = new ComputeState({ runner, enabled: false, life: new Lifetime() })
    // lending means nothing before the node's market is up
    expect(compute.attached).toBe(false)
    compute.attach(market)
    expect(compute.attached).toBe(true)
    expect(provider.enabled).toBe(false)
    expect(compute.penalised()).toEqual(['bad'])
    runner.safeDispatchEvent('runner:state', { detail: { ...STATE, running: 1 } })
    provider.safeDispatchEvent('verdict', { detail: { task: 't', subtask: 0, accepted: true, reason: '' } })
    expect(compute.accepted).toBe(0)
    vi.advanceTimersByTime(250)
    expect(compute.accepted).toBe(1)
    expect(compute.runner?.running).toBe(1)
  })

  it('leaves no timer and no listener once the page\'s life ends', () => {
    const life = new Lifetime()
    const runner = fakeRunner()
    const { market, provider, emitter } = fakeMarket()
    const compute = new ComputeState({ runner, life })
    compute.attach(market)
    // the task feed's poll, and a redraw pending when the page stops
    expect(vi.getTimerCount()).toBe(1)
    provider.safeDispatchEvent('job', { detail: { assignment: 'a', task: 't', taskName: 'T', requestor: 'r', subtask: 0, state: 'running' } })
    expect(vi.getTimerCount()).toBe(2)
    life.end()
    expect(vi.getTimerCount()).toBe(0)
    expect(runner.listenerCount('runner:state')).toBe(0)
    for (const type of ['job', 'verdict']) expect(provider.listenerCount(type)).toBe(0)
    for (const type of ['task:seen', 'task:closed']) expect(emitter.listenerCount(type)).toBe(0)
    // nor can anything start one afterwards
    runner.safeDispatchEvent('runner:state', { detail: STATE })
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('Lifetime', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('clears its intervals and pending timeouts when it ends, and starts none after', () => {
    const life = new Lifetime()
    const tick = vi.fn()
    life.every(1_000, tick)
    life.after(5_000, tick)
    vi.advanceTimersByTime(2_000)
    expect(tick).toHaveBeenCalledTimes(2)
    life.end()
    expect(vi.getTimerCount()).toBe(0)
    life.every(1_000, tick)
    life.after(1_000, tick)
    vi.advanceTimersByTime(10_000)
    expect(tick).toHaveBeenCalledTimes(2)
  })

  it('lets go of a fired timeout\'s abort listener', () => {
    const life = new Lifetime()
    const add = vi.spyOn(life.signal, 'addEventListener')
    const remove = vi.spyOn(life.signal, 'removeEventListener')
    life.after(10, () => {})
    vi.advanceTimersByTime(10)
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0]?.[1])
  })
})
