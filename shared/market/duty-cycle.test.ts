import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DutyCycle } from './duty-cycle.ts'

describe('DutyCycle', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('makes each subtask rest as long as its share demands before the next starts, one per core', async () => {
    const gate = new DutyCycle({ maxShare: 0.5, cores: 1 })
    await gate.enter(AbortSignal.timeout(60_000))
    let second = false
    const next = gate.enter(new AbortController().signal).then(() => { second = true })
    // the core is busy: no second subtask, whatever the credit
    await vi.advanceTimersByTimeAsync(1_000)
    expect(second).toBe(false)
    gate.leave(1_000)
    // it ran 1 s at 50 %: 1 s of rest, counted from its end
    await vi.advanceTimersByTimeAsync(999)
    expect(second).toBe(false)
    await vi.advanceTimersByTimeAsync(2)
    await next
    expect(second).toBe(true)
    await vi.advanceTimersByTimeAsync(1_000)
    gate.leave(1_000)
    // 2 s of work in 3 s of wall time
    expect(gate.achieved).toBeCloseTo(2_000 / 3_001, 2)
  })

  it('lets saved-up idle time run a burst, no more than a window of it, and wakes waiters on a new share', async () => {
    const gate = new DutyCycle({ maxShare: 0.25, cores: 2, windowMs: 4_000 })
    await vi.advanceTimersByTimeAsync(60_000)
    // a window's worth of credit at most: 4 s × 0.25 × 2 cores = 2 s
    await gate.enter(new AbortController().signal)
    gate.leave(2_000)
    await gate.enter(new AbortController().signal)
    gate.leave(500)
    let admitted = false
    const waiting = gate.enter(new AbortController().signal).then(() => { admitted = true })
    // 500 ms of debt at 0.5 ms of credit per ms: 1 s
    await vi.advanceTimersByTimeAsync(500)
    expect(admitted).toBe(false)
    gate.configure({ maxShare: 1 })
    // at 2 ms per ms the rest of the debt (250 ms) goes in 125 ms
    await vi.advanceTimersByTimeAsync(130)
    await waiting
    expect(admitted).toBe(true)
  })

  it('gives a waiting subtask up when its signal aborts', async () => {
    const gate = new DutyCycle({ maxShare: 0.5 })
    await gate.enter(new AbortController().signal)
    gate.leave(10_000)
    const controller = new AbortController()
    const waiting = gate.enter(controller.signal)
    controller.abort(new Error('paused'))
    await expect(waiting).rejects.toThrow('paused')
  })
})
