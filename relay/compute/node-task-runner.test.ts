import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTaskRunner, moduleHash } from '../../shared/compute/index.ts'
import { GARBAGE, testModule } from '../../tasks/test-modules.ts'
import { loadDemoTask } from '../../tasks/load-demo-task.ts'
import { assembleMandelbrot, mandelbrotImage, splitMandelbrot } from '../../tasks/mandelbrot/tiles.ts'
import { decodePrimesOutput, encodePrimesInput, primesInputs, sumPrimes } from '../../tasks/primes/ranges.ts'
import { until } from '../testing/wait.ts'
import { createNodeTaskRunner, spawnNodeSandboxWorker } from './node-task-runner.ts'
import type { SandboxPool, SandboxWorker } from '../../shared/compute/index.ts'
import type { SubtaskJob, SubtaskProgress } from '../../shared/compute/index.ts'
import type { TestModuleName } from '../../tasks/test-modules.ts'

const runners: SandboxPool[] = []
afterEach(() => {
  vi.useRealTimers()
  for (const r of runners.splice(0)) r.stop()
})

function runner (init: Parameters<typeof createNodeTaskRunner>[0] = {}): SandboxPool {
  const r = createNodeTaskRunner(init)
  r.start()
  runners.push(r)
  return r
}

let jobs = 0
async function job (name: TestModuleName, input = new Uint8Array(4), limits?: SubtaskJob['limits']): Promise<SubtaskJob> {
  return { id: `${name}-${jobs++}`, ...await testModule(name), input, limits }
}

async function failure (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err: any) {
    return err
  }
  throw new Error('expected the job to fail')
}

describe('node task runner', () => {
  it('defaults to all cores but one', () => {
    const r = createNodeTaskRunner()
    expect(r.cores).toBe(Math.max(1, r.maxCores - 1))
    expect(r.paused).toBe(false)
  })

  it('runs the demo tasks: π(10^7) over 4 subtasks and a tiled mandelbrot', async () => {
    const r = runner({ cores: 2, maxCores: 2 })
    const primes = await loadDemoTask('primes')
    const outputs = await Promise.all(primesInputs({ from: 0, to: 10_000_000 }, 4).map(async (input, i) =>
      await r.run({ id: `p${i}`, module: primes.module, moduleHash: primes.moduleHash, input })))
    expect(sumPrimes(outputs.map(decodePrimesOutput))).toEqual({ count: 664579, largest: 9999991 })

    const mandelbrot = await loadDemoTask('mandelbrot')
    const image = mandelbrotImage({ width: 96, height: 64, maxIter: 200 })
    const tiles = splitMandelbrot(image, 32)
    const tileOutputs = await Promise.all(tiles.map(async t => await r.run({ id: `m${t.index}`, module: mandelbrot.module, moduleHash: mandelbrot.moduleHash, input: t.input })))
    const [whole] = splitMandelbrot(image, 96, 64)
    const wholeOutput = await r.run({ id: 'm-whole', module: mandelbrot.module, moduleHash: mandelbrot.moduleHash, input: whole!.input })
    expect(assembleMandelbrot(image, tiles, tileOutputs)).toEqual(wholeOutput)
  })

  it('refuses bad modules with typed errors', async () => {
    const r = runner({ cores: 1 })
    const cases: Array<[TestModuleName, string]> = [
      ['importsFetch', 'TaskModuleInvalidError'],
      ['importsHost', 'TaskModuleInvalidError'],
      ['ownMemory', 'TaskModuleInvalidError'],
      ['resultOutOfBounds', 'TaskOutputInvalidError'],
      ['resultTooLong', 'TaskOutputInvalidError'],
      ['trap', 'TaskTrapError']
    ]
    for (const [name, error] of cases) {
      expect((await failure(r.run(await job(name)))).name, name).toBe(error)
    }
    const garbage = { id: 'garbage', module: GARBAGE, moduleHash: await moduleHash(GARBAGE), input: new Uint8Array(0) }
    expect((await failure(r.run(garbage))).name).toBe('TaskModuleInvalidError')
    const lying = { ...await job('echo'), moduleHash: 'ab'.repeat(32) }
    expect((await failure(r.run(lying))).name).toBe('TaskModuleInvalidError')
    const small = runner({ cores: 1, maxModuleBytes: 10, maxInputBytes: 10 })
    expect((await failure(small.run(await job('echo'))))).toMatchObject({ name: 'TaskModuleTooLargeError' })
    // still serving
    expect(await r.run(await job('echo', new Uint8Array([7, 8])))).toEqual(new Uint8Array([7, 8]))
  })

  it('stops a runaway module at its time limit and keeps working', async () => {
    const r = runner({ cores: 1 })
    await r.run(await job('echo')) // worker started, so the limit measures the module only
    // the limit is a setTimeout in this thread: fake it and move the clock by hand, the runaway spins for real
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let settled: Error | Uint8Array | undefined
    const running = r.run(await job('runaway', undefined, { timeMs: 300 })).then(out => { settled = out }, (err: Error) => { settled = err })
    expect(r.running).toBe(1)
    await vi.advanceTimersByTimeAsync(299)
    expect(settled, 'still running 1 ms before its limit').toBeUndefined()
    expect(r.running).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    await running
    expect((settled as Error).name).toBe('TaskTimeoutError')
    vi.useRealTimers()
    expect(r.running).toBe(0)
    expect(await r.run(await job('echo', new Uint8Array([1])))).toEqual(new Uint8Array([1]))
  })

  it('stops a memory bomb at its memory limit', async () => {
    const r = runner({ cores: 1 })
    const err = await failure(r.run(await job('memoryBomb', undefined, { memoryBytes: 32 * 1024 * 1024 })))
    expect(err.name).toBe('TaskMemoryError')
    const tooBig = await failure(r.run(await job('bigStart', undefined, { memoryBytes: 16 * 1024 * 1024 })))
    expect(tooBig.name).toBe('TaskMemoryError')
  })

  it('runs at most `cores` at once; setCores takes effect at once', async () => {
    const r = runner({ cores: 1, maxCores: 4 })
    const states: number[] = []
    r.addEventListener('runner:state', (e) => { states.push(e.detail.running) })
    const controller = new AbortController()
    const runaways = [await job('runaway'), await job('runaway'), await job('runaway')]
    const runs = runaways.map(async j => await r.run(j, { signal: controller.signal }).catch((err: Error) => err))
    expect([r.running, r.queued]).toEqual([1, 2])
    r.setCores(3)
    expect([r.cores, r.running, r.queued]).toEqual([3, 3, 0])
    r.setCores(1)
    expect([r.running, r.queued]).toEqual([1, 2])
    r.setCores(99)
    expect(r.cores).toBe(4)
    r.setCores(0)
    expect(r.cores).toBe(1)
    controller.abort()
    for (const result of await Promise.all(runs)) expect(result).toMatchObject({ name: 'TaskAbortedError' })
    expect([r.running, r.queued]).toEqual([0, 0])
    expect(Math.max(...states)).toBe(3)
  })

  it('pause stops the running subtask and resume restarts it from scratch', async () => {
    const r = runner({ cores: 1 })
    const primes = await loadDemoTask('primes')
    const progress: SubtaskProgress[] = []
    const result = r.run({ id: 'big', module: primes.module, moduleHash: primes.moduleHash, input: encodePrimesInput({ from: 0, to: 300_000_000 }) }, {
      onProgress: p => progress.push(p)
    })
    await until(() => progress.some(p => p.fraction != null), 'progress from the big subtask')
    r.pause()
    expect([r.paused, r.running, r.queued]).toEqual([true, 0, 1])
    expect(progress.at(-1)?.state).toBe('queued')
    // nothing starts while paused: run() hands a job to a slot at once when it may (before the
    // slot's worker is even up), so one still queued right after run() was held back by the pause;
    // the terminated worker's late events are dropped by its slot, so no later moment differs
    const other = r.run(await job('echo', new Uint8Array([5])))
    expect([r.running, r.queued]).toEqual([0, 2])
    expect(progress.at(-1)?.state).toBe('queued')
    r.resume()
    expect(decodePrimesOutput(await result)).toEqual({ count: 16252325, largest: 299999977 })
    expect(await other).toEqual(new Uint8Array([5]))
  })

  it('aborts queued and running subtasks', async () => {
    const r = runner({ cores: 1 })
    const running = new AbortController()
    const queued = new AbortController()
    const a = r.run(await job('runaway'), { signal: running.signal })
    const b = r.run(await job('runaway'), { signal: queued.signal })
    queued.abort()
    expect((await failure(b)).name).toBe('TaskAbortedError')
    expect(r.running).toBe(1)
    running.abort()
    expect((await failure(a)).name).toBe('TaskAbortedError')
    expect((await failure(r.run(await job('echo'), { signal: AbortSignal.abort() }))).name).toBe('TaskAbortedError')
    expect(await r.run(await job('echo', new Uint8Array([3])))).toEqual(new Uint8Array([3]))
    r.stop()
    expect((await failure(r.run(await job('echo')))).name).toBe('TaskRunnerStoppedError')
  })

  it('forwards progress and reports queued then running', async () => {
    const r = runner({ cores: 1 })
    const seen: SubtaskProgress[] = []
    await r.run(await job('progress'), { onProgress: p => seen.push(p) })
    expect(seen.map(p => p.state).slice(0, 2)).toEqual(['queued', 'running'])
    expect(seen.filter(p => p.fraction != null).map(p => p.fraction)).toEqual([0.25, 1])
  })

  it('reuses workers and sends module bytes once per worker', async () => {
    let spawned = 0
    let moduleSends = 0
    const r = createTaskRunner({
      spawnWorker: (): SandboxWorker => {
        spawned++
        const worker = spawnNodeSandboxWorker()
        const post = worker.postMessage
        worker.postMessage = (message, transfer) => {
          if (message.type === 'run' && message.module != null) moduleSends++
          post(message, transfer)
        }
        return worker
      }
    }, { cores: 1, maxCores: 1 })
    r.start()
    runners.push(r)
    for (let i = 0; i < 20; i++) expect(await r.run(await job('echo', new Uint8Array([i])))).toEqual(new Uint8Array([i]))
    expect([spawned, moduleSends]).toEqual([1, 1])
  })
})
