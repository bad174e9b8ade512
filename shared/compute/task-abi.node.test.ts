import { describe, expect, it } from 'vitest'
import { loadDemoTask } from '../../tasks/load-demo-task.ts'
import { decodeMandelbrotInput, mandelbrotImage, splitMandelbrot } from '../../tasks/mandelbrot/tiles.ts'
import { decodePrimesOutput, encodePrimesInput } from '../../tasks/primes/ranges.ts'
import { moduleHash } from './module-hash.ts'
import { handleSandboxMessages } from './sandbox-protocol.ts'
import { compileTaskModule, memoryPagesFor, runModule } from './task-abi.ts'
import { GARBAGE, testModule } from '../../tasks/test-modules.ts'
import type { SandboxToPool } from './sandbox-protocol.ts'
import type { TestModuleName } from '../../tasks/test-modules.ts'

const PAGES_16M = memoryPagesFor(16 * 1024 * 1024)

async function compiled (name: TestModuleName): Promise<Awaited<ReturnType<typeof compileTaskModule>>> {
  return await compileTaskModule((await testModule(name)).module)
}

async function refusal (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err: any) {
    return err
  }
  throw new Error('expected a refusal')
}

describe('task ABI checks', () => {
  it.each([
    ['importsFetch', /env\.fetch/],
    ['importsHost', /not allowed/],
    ['ownMemory', /own memory|import its memory/],
    ['noRun', /"run"/]
  ] as const)('refuses %s before running it', async (name, message) => {
    const err = await refusal(compiled(name))
    expect(err.name).toBe('TaskModuleInvalidError')
    expect(err.message).toMatch(message)
  })

  it('refuses bytes that are not WebAssembly', async () => {
    const err = await refusal(compileTaskModule(GARBAGE))
    expect(err.name).toBe('TaskModuleInvalidError')
  })

  it('refuses modules over the size cap', async () => {
    const { module } = await testModule('echo')
    const err = await refusal(compileTaskModule(module, module.byteLength - 1))
    expect(err.name).toBe('TaskModuleTooLargeError')
  })

  it('reads the declared memory limits', async () => {
    expect((await compiled('echo')).memory).toEqual({ min: 1 })
    expect((await compiled('bigStart')).memory).toEqual({ min: 1024 })
    expect((await compiled('progress')).progress).toBe(true)
  })
})

describe('runModule', () => {
  it('writes the input where alloc says and returns the result block', async () => {
    const input = new TextEncoder().encode('hello sandbox')
    const out = runModule(await compiled('echo'), input, { memoryPages: PAGES_16M })
    expect(new TextDecoder().decode(out)).toBe('hello sandbox')
    // the output owns an exactly sized buffer, ready to transfer
    expect(out.buffer.byteLength).toBe(input.byteLength)
  })

  it('forwards progress, clamped and throttled', async () => {
    const seen: number[] = []
    runModule(await compiled('progress'), new Uint8Array(1), { memoryPages: PAGES_16M, onProgress: f => seen.push(f), progressInterval: 10_000 })
    // the first call goes through, 0.5 is throttled, the final 1 always goes through
    expect(seen).toEqual([0.25, 1])
  })

  it.each([
    ['resultOutOfBounds', 'TaskOutputInvalidError'],
    ['resultTooLong', 'TaskOutputInvalidError'],
    ['trap', 'TaskTrapError'],
    ['memoryBomb', 'TaskMemoryError'],
    ['bigStart', 'TaskMemoryError']
  ] as const)('%s fails with %s', async (name, error) => {
    const task = await compiled(name)
    const err = await refusal((async () => runModule(task, new Uint8Array(4), { memoryPages: memoryPagesFor(8 * 1024 * 1024) }))())
    expect(err.name).toBe(error)
  })

  it('enforces input and output caps', async () => {
    const task = await compiled('echo')
    expect(() => runModule(task, new Uint8Array(100), { memoryPages: PAGES_16M, maxInputBytes: 99 })).toThrow(expect.objectContaining({ name: 'TaskInputTooLargeError' }))
    expect(() => runModule(task, new Uint8Array(100), { memoryPages: PAGES_16M, maxOutputBytes: 99 })).toThrow(expect.objectContaining({ name: 'TaskOutputTooLargeError' }))
  })
})

describe('demo tasks', () => {
  it('primes counts known ranges', async () => {
    const task = await compileTaskModule((await loadDemoTask('primes')).module)
    const count = (from: number, to: number): { count: number, largest: number } =>
      decodePrimesOutput(runModule(task, encodePrimesInput({ from, to }), { memoryPages: PAGES_16M }))
    expect(count(0, 100)).toEqual({ count: 25, largest: 97 })
    expect(count(0, 10_000_000)).toEqual({ count: 664579, largest: 9999991 })
    expect(count(2, 3)).toEqual({ count: 1, largest: 2 })
    expect(count(0, 2)).toEqual({ count: 0, largest: 0 })
    expect(count(24, 28)).toEqual({ count: 0, largest: 0 })
    // around 10^12: 10^12 + 39 is the first prime above 10^12
    expect(count(1e12, 1e12 + 40)).toEqual({ count: 1, largest: 1e12 + 39 })
    const err = await refusal((async () => runModule(task, new Uint8Array(3), { memoryPages: PAGES_16M }))())
    expect(err.name).toBe('TaskTrapError')
  })

  it('mandelbrot colours the set black and is deterministic', async () => {
    const task = await compileTaskModule((await loadDemoTask('mandelbrot')).module)
    // 9 x 5 pixels over [-2, 2] x [-1, 1]: pixel (4, 2) is exactly c = 0
    const image = { width: 9, height: 5, x0: -2, y0: 1, step: 0.5, maxIter: 200 }
    const [tile] = splitMandelbrot(image, 9, 5)
    expect(decodeMandelbrotInput(tile!.input)).toMatchObject({ left: 0, top: 0, width: 9, height: 5, maxIter: 200 })
    const out = runModule(task, tile!.input, { memoryPages: PAGES_16M })
    expect(out.byteLength).toBe(9 * 5 * 4)
    const pixel = (x: number, y: number): number[] => [...out.subarray((y * 9 + x) * 4, (y * 9 + x) * 4 + 4)]
    expect(pixel(4, 2)).toEqual([0, 0, 0, 255]) // c = 0 is inside
    expect(pixel(0, 0)).not.toEqual([0, 0, 0, 255]) // c = -2 + i escapes
    const again = runModule(task, tile!.input, { memoryPages: PAGES_16M })
    expect(again).toEqual(out)
    // a fixed view always hashes the same (guards the palette and the maths against drift)
    const view = mandelbrotImage({ width: 64, height: 48, maxIter: 300 })
    const [whole] = splitMandelbrot(view, 64, 48)
    expect(await moduleHash(runModule(task, whole!.input, { memoryPages: PAGES_16M }))).toMatchInlineSnapshot(`"dd3a5247817df7fdc36492be5698b327f69ff16115e01f5a50470ba07334f8c5"`)
  })
})

describe('sandbox worker protocol', () => {
  it('asks for module bytes it lacks, and checks them against the hash', async () => {
    const posted: SandboxToPool[] = []
    let wake: () => void = () => {}
    const handle = handleSandboxMessages({ post: (m) => { posted.push(m); wake() } })
    const next = async (): Promise<SandboxToPool> => {
      while (posted.length === 0) await new Promise<void>(resolve => { wake = resolve })
      return posted.shift() as SandboxToPool
    }
    expect(await next()).toEqual({ type: 'ready' })
    const { module, moduleHash: hash } = await testModule('echo')
    const base = { type: 'run', moduleHash: hash, input: new Uint8Array([1, 2, 3]), memoryPages: 16, maxModuleBytes: 1 << 20, maxInputBytes: 1 << 20, maxOutputBytes: 1 << 20, progressInterval: 100, moduleCacheSize: 2 }
    handle({ ...base, seq: 1 })
    expect(await next()).toEqual({ type: 'need-module', seq: 1 })
    handle({ ...base, seq: 2, moduleHash: '00'.repeat(32), module })
    expect(await next()).toMatchObject({ type: 'error', seq: 2, error: { name: 'TaskModuleInvalidError' } })
    handle({ ...base, seq: 3, module })
    expect(await next()).toEqual({ type: 'result', seq: 3, output: new Uint8Array([1, 2, 3]) })
    // cached now: no bytes needed
    handle({ ...base, seq: 4, input: new Uint8Array([9]) })
    expect(await next()).toEqual({ type: 'result', seq: 4, output: new Uint8Array([9]) })
  })
})
