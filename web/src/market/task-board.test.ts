import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TypedEventEmitter } from 'main-event'
import { Lifetime } from '../lifetime.ts'
import { TaskBoard } from './task-board.svelte.ts'
import { HISTORY_MAX, IMAGE_LIMITS, imagesToKeep } from './task-history.ts'
import { STALL_AFTER } from './task-phase.ts'
import { TaskCancelledError } from '../../../shared/market/index.ts'
import type { TaskHistory, TaskRecord } from './task-history.ts'
import type { Market } from '../../../shared/market/index.ts'

interface FakeTask extends TypedEventEmitter<any> {
  id: string
  done: Promise<unknown>
  cancel: ReturnType<typeof vi.fn>
  finish: (outputs: Uint8Array[]) => void
}

function fakeTask (): FakeTask {
  let settle: { resolve: (v: unknown) => void, reject: (e: Error) => void } | undefined
  const done = new Promise((resolve, reject) => { settle = { resolve, reject } })
  done.catch(() => {})
  const task = Object.assign(new TypedEventEmitter<any>(), {
    id: crypto.randomUUID(),
    done,
    // as RequestorTask.cancel: the signed `closed` goes out and `done` rejects
    cancel: vi.fn(() => { settle?.reject(new TaskCancelledError('cancelled')) }),
    finish: (outputs: Uint8Array[]) => { settle?.resolve(outputs.map((data, subtask) => ({ subtask, provider: `p${subtask % 2}`, sha256: '', data, computeMs: 1 }))) }
  })
  return task as FakeTask
}

/** A market whose submit stores nothing and hands back a task the test drives; `hold` keeps submit in its storing step. */
function fakeMarket (): { market: Market, tasks: FakeTask[], submit: ReturnType<typeof vi.fn>, hold: () => () => void } {
  const tasks: FakeTask[] = []
  let gate: Promise<void> = Promise.resolve()
  const submit = vi.fn(async () => {
    await gate
    const t = fakeTask()
    tasks.push(t)
    return t
  })
  const hold = (): () => void => {
    let release = (): void => {}
    gate = new Promise(resolve => { release = resolve })
    return release
  }
  return { market: { submit } as unknown as Market, tasks, submit, hold }
}

function memoryHistory (): TaskHistory & { records: TaskRecord[] } {
  const h = {
    records: [] as TaskRecord[],
    load: async () => h.records.slice(),
    // what IndexedDB would do: structured clone, which a Svelte proxy does not survive
    save: async (items: readonly TaskRecord[]) => { h.records = structuredClone(items.slice(-HISTORY_MAX)) as TaskRecord[] },
    clear: async () => { h.records = [] }
  }
  return h
}

const primesOut = (count: number, largest: number): Uint8Array => {
  const b = new Uint8Array(16)
  const v = new DataView(b.buffer)
  v.setBigUint64(0, BigInt(count), true)
  v.setBigUint64(8, BigInt(largest), true)
  return b
}

function board (history = memoryHistory()): { board: TaskBoard, life: Lifetime, history: typeof history, encoded: Array<{ width: number, height: number }> } {
  const life = new Lifetime()
  const encoded: Array<{ width: number, height: number }> = []
  const b = new TaskBoard({
    life,
    history: () => history,
    module: async () => new Uint8Array(8),
    encodePng: async (pixels, width, height) => { encoded.push({ width, height }); return new Blob([pixels.slice(0, 64)], { type: 'image/png' }) }
  })
  return { board: b, life, history, encoded }
}

const tick = async (ms = 0): Promise<void> => { await vi.advanceTimersByTimeAsync(ms) }

describe('TaskBoard', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('shows waiting with no provider, running with one, stalled when nothing moves, then done with the answer kept', async () => {
    const { market, tasks } = fakeMarket()
    const { board: b } = board()
    await b.attach(market, 'me')
    const result = b.submitPrimes({ to: 100, parts: 2, k: 1 })
    expect(b.tasks[0]?.state).toBe('storing')
    await tick()
    const task = tasks[0] as FakeTask
    expect(b.tasks[0]?.state).toBe('waiting')
    task.safeDispatchEvent('progress', { detail: { task: task.id, done: 0, total: 2, running: 1, providers: 1 } })
    expect(b.tasks[0]?.state).toBe('running')
    await tick(STALL_AFTER + 1_000)
    expect(b.tasks[0]?.state).toBe('stalled')
    task.safeDispatchEvent('progress', { detail: { task: task.id, done: 1, total: 2, running: 1, providers: 1 } })
    expect(b.tasks[0]?.state).toBe('running')
    // every provider left: waiting again, not running
    task.safeDispatchEvent('progress', { detail: { task: task.id, done: 1, total: 2, running: 0, providers: 0 } })
    expect(b.tasks[0]?.state).toBe('waiting')
    task.finish([primesOut(15, 47), primesOut(10, 97)])
    const view = await result
    expect(view).toMatchObject({ state: 'done', answer: { count: 25, largest: 97 }, running: 0 })
    // no phase timer outlives the live tasks
    await tick(2_000)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('runs several tasks at once, each cancellable on its own, also while still storing', async () => {
    const { market, tasks, hold } = fakeMarket()
    const { board: b } = board()
    await b.attach(market, 'me')
    const first = b.submitPrimes({ to: 100, parts: 2, k: 1 })
    const second = b.submitPrimes({ to: 1000, parts: 2, k: 1 })
    await tick()
    expect(b.tasks.map(t => t.state)).toEqual(['waiting', 'waiting'])
    expect(new Set(b.tasks.map(t => t.key)).size).toBe(2)
    expect(b.cancel(b.tasks[1]?.key as string)).toBe(true)
    expect((await first).state).toBe('cancelled')
    expect(tasks[0]?.cancel).toHaveBeenCalledOnce()
    expect(tasks[1]?.cancel).not.toHaveBeenCalled()
    expect(b.tasks[0]?.state).toBe('waiting')
    // a finished task has nothing left to cancel
    expect(b.cancel(tasks[0]?.id as string)).toBe(false)

    // cancelled before its header went out: closed as soon as the market hands the task back
    const release = hold()
    const third = b.submitPrimes({ to: 100, parts: 2, k: 1 })
    expect(b.cancel(b.tasks[0]?.key as string)).toBe(true)
    release()
    expect((await third).state).toBe('cancelled')
    expect(tasks[2]?.cancel).toHaveBeenCalled()
    tasks[1]?.finish([primesOut(1, 2), primesOut(1, 3)])
    expect((await second).state).toBe('done')
  })

  it('keeps the history and the picture as a PNG per identity; a task that ran through a reload says it was interrupted', async () => {
    const { market, tasks } = fakeMarket()
    const { board: b, history, life, encoded } = board()
    await b.attach(market, 'me')
    const image = b.submitMandelbrot({ width: 32, height: 32, tile: 16, maxIter: 16, k: 1 })
    await tick()
    const t = tasks[0] as FakeTask
    const tile = new Uint8Array(16 * 16 * 4).fill(255)
    t.safeDispatchEvent('result', { detail: { subtask: 0, provider: 'pA', sha256: '', data: tile, computeMs: 1 } })
    t.finish([tile, tile, tile, tile])
    expect((await image).state).toBe('done')
    expect(encoded).toEqual([{ width: 32, height: 32 }])
    void b.submitPrimes({ to: 100, parts: 2, k: 1 })
    await tick()
    // the newest last, plain data and Blobs only; a task is written when submitted and when it ends
    expect(history.records.map(r => r.view.state)).toEqual(['done', 'storing'])
    expect(history.records[0]?.png).toBeInstanceOf(Blob)
    expect(history.records[0]?.view.tiles).toEqual([{ subtask: 0, provider: 'pA', left: 0, top: 0, width: 16, height: 16 }])
    life.end()

    // the reload: a new board over the same identity's history
    const again = board(history)
    await again.board.attach(fakeMarket().market, 'me')
    expect(again.board.tasks.map(v => [v.kind, v.state])).toEqual([['primes', 'interrupted'], ['mandelbrot', 'done']])
    const restored = again.board.tasks[1]!
    expect(again.board.images.get(restored.key)).toBeInstanceOf(Blob)
    expect(await again.board.png(restored.id)).toBeInstanceOf(Blob)
    expect(history.records.map(r => r.view.state)).toEqual(['done', 'interrupted'])
  })

  it('a task submitted while the history loads joins the kept list instead of replacing it', async () => {
    const history = memoryHistory()
    history.records = [{ view: { key: 'old', id: 'old-id', kind: 'primes', name: 'Primes below 10', state: 'done', total: 1, done: 1, running: 0, providers: 0, k: 1, tiles: [], rejected: [], reassigned: 0, startedAt: 1, lastActivityAt: 1, answer: { count: 4, largest: 7 } } }]
    let release = (): void => {}
    const load = history.load
    history.load = async () => { await new Promise<void>(resolve => { release = resolve }); return await load() }
    const { market } = fakeMarket()
    const { board: b } = board(history)
    const attaching = b.attach(market, 'me')
    void b.submitPrimes({ to: 100, parts: 2, k: 1 })
    await tick()
    expect(history.records.map(r => r.view.key)).toEqual(['old'])
    release()
    await attaching
    expect(b.tasks.map(t => t.name)).toEqual(['Primes below 100', 'Primes below 10'])
    expect(history.records.map(r => r.view.name)).toEqual(['Primes below 10', 'Primes below 100'])
  })

  it('keeps at most HISTORY_MAX tasks and IMAGE_LIMITS.count pictures, and marks the pictures it dropped', async () => {
    const { market, tasks } = fakeMarket()
    const { board: b, history } = board()
    await b.attach(market, 'me')
    const n = HISTORY_MAX + 1
    for (let i = 0; i < n; i++) {
      const run = b.submitMandelbrot({ width: 16, height: 16, tile: 16, maxIter: 16, k: 1 })
      await tick()
      tasks[i]?.finish([new Uint8Array(16 * 16 * 4)])
      expect((await run).state).toBe('done')
    }
    expect(b.tasks).toHaveLength(HISTORY_MAX)
    expect(history.records).toHaveLength(HISTORY_MAX)
    expect(history.records.filter(r => r.png != null)).toHaveLength(IMAGE_LIMITS.count)
    // the newest pictures stay; the older cards say theirs went
    expect(b.tasks.slice(0, IMAGE_LIMITS.count).every(t => t.imageDropped !== true && b.images.has(t.key))).toBe(true)
    expect(b.tasks.slice(IMAGE_LIMITS.count).every(t => t.imageDropped === true && !b.images.has(t.key) && !b.pixels.has(t.key))).toBe(true)
  })

  it('refuses bad sizes before allocating, naming the field', async () => {
    const { market, submit } = fakeMarket()
    const { board: b } = board()
    await b.attach(market, 'me')
    await expect(b.submitMandelbrot({ width: null as unknown as number, height: 64, tile: 16, maxIter: 16, k: 1 })).rejects.toMatchObject({ name: 'InvalidJobError', message: expect.stringContaining('Width is empty') })
    expect(b.tasks).toHaveLength(0)
    expect(submit).not.toHaveBeenCalled()
  })
})

describe('imagesToKeep', () => {
  it('keeps the newest within count and bytes, skipping one too big for what is left', () => {
    const mb = 1024 * 1024
    const keep = imagesToKeep([{ key: 'a', size: 10 * mb }, { key: 'b', size: 40 * mb }, { key: 'c', size: 5 * mb }, { key: 'd', size: 1 * mb }], { count: 3, bytes: 20 * mb })
    expect([...keep]).toEqual(['a', 'c', 'd'])
    expect([...imagesToKeep([{ key: 'a', size: 1 }, { key: 'b', size: 1 }], { count: 1, bytes: 10 })]).toEqual(['a'])
  })
})
