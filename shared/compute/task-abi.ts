/**
 * The task module ABI (docs/task-abi.md), host side: compile and check a
 * module, give it a capped memory, run it on one input and read its result.
 * Pure and isomorphic; the sandbox workers (browser and Node) call
 * `runModule` synchronously, so a runaway module is stopped by terminating
 * its worker, never from in here.
 *
 * The module may import `env.memory` (required) and `env.progress(f64)`,
 * nothing else: no way to reach the network, the DOM, storage or keys.
 */
import {
  TaskInputTooLargeError, TaskMemoryError, TaskModuleInvalidError, TaskModuleTooLargeError,
  TaskOutputInvalidError, TaskOutputTooLargeError, TaskTrapError
} from './errors.ts'
import { readModuleShape } from './wasm-sections.ts'
import type { MemoryLimits } from './wasm-sections.ts'

export type { MemoryLimits } from './wasm-sections.ts'

export const WASM_PAGE_BYTES = 65_536
/** wasm32 cannot address more than 65536 pages. */
export const MAX_WASM_PAGES = 65_536
export const DEFAULT_MAX_MODULE_BYTES = 8 * 1024 * 1024
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024
export const DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024
export const DEFAULT_TIME_MS = 60_000
/** Minimum ms between two forwarded `env.progress` calls. */
export const DEFAULT_PROGRESS_INTERVAL = 100

/** A compiled module that passed the ABI checks. */
export interface TaskModule {
  module: WebAssembly.Module
  /** Limits the module declares for `env.memory`. */
  memory: MemoryLimits
  /** The module imports `env.progress`. */
  progress: boolean
}

const ALLOWED_IMPORTS = new Set(['env.memory:memory', 'env.progress:function'])

/** Whole pages in `bytes` (at least 1, at most what wasm32 addresses). */
export function memoryPagesFor (bytes: number): number {
  return Math.max(1, Math.min(MAX_WASM_PAGES, Math.floor(bytes / WASM_PAGE_BYTES)))
}

/** Checks a compiled module against the ABI; `bytes` are the ones it was compiled from. */
export function checkTaskModule (module: WebAssembly.Module, bytes: Uint8Array): TaskModule {
  let memory = false
  let progress = false
  for (const imp of WebAssembly.Module.imports(module)) {
    const key = `${imp.module}.${imp.name}:${imp.kind}`
    if (!ALLOWED_IMPORTS.has(key)) {
      throw new TaskModuleInvalidError(`import ${imp.module}.${imp.name} (${imp.kind}) is not allowed: only env.memory and env.progress`)
    }
    if (imp.kind === 'memory') memory = true
    else progress = true
  }
  if (!memory) throw new TaskModuleInvalidError('the module must import its memory as env.memory')
  const exports = new Map(WebAssembly.Module.exports(module).map(e => [e.name, e.kind]))
  for (const name of ['alloc', 'run']) {
    if (exports.get(name) !== 'function') throw new TaskModuleInvalidError(`the module must export a function "${name}"`)
  }
  const shape = readModuleShape(bytes)
  if (shape.definesMemory) throw new TaskModuleInvalidError('the module defines its own memory; it must import env.memory')
  if (shape.memoryImport == null) throw new TaskModuleInvalidError('the module must import its memory as env.memory')
  return { module, memory: shape.memoryImport, progress }
}

/** Compiles and checks module bytes (async: engines refuse big synchronous compiles on some threads). */
export async function compileTaskModule (bytes: Uint8Array, maxModuleBytes = DEFAULT_MAX_MODULE_BYTES): Promise<TaskModule> {
  if (bytes.byteLength > maxModuleBytes) {
    throw new TaskModuleTooLargeError(`module is ${bytes.byteLength} bytes, the limit is ${maxModuleBytes}`)
  }
  let module: WebAssembly.Module
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>)
  } catch (err: any) {
    throw new TaskModuleInvalidError(`not a valid WebAssembly module: ${err?.message ?? String(err)}`)
  }
  return checkTaskModule(module, bytes)
}

/**
 * The memory handed to the module: its declared initial size, and a maximum
 * of `maxPages` (or its own declared maximum if lower), so growing past the
 * limit fails inside WebAssembly (memory.grow returns -1).
 */
export function createTaskMemory (limits: MemoryLimits, maxPages: number): WebAssembly.Memory {
  const maximum = Math.min(maxPages, limits.max ?? maxPages)
  if (limits.min > maximum) {
    throw new TaskMemoryError(`the module needs ${limits.min} pages of memory at start, the limit is ${maximum}`)
  }
  try {
    return new WebAssembly.Memory({ initial: limits.min, maximum })
  } catch (err: any) {
    throw new TaskMemoryError(`could not allocate ${limits.min} pages: ${err?.message ?? String(err)}`)
  }
}

export interface RunModuleOptions {
  /** Memory limit in 64 KiB pages (see `memoryPagesFor`). */
  memoryPages: number
  /** Default DEFAULT_MAX_INPUT_BYTES (64 MiB). */
  maxInputBytes?: number
  /** Default DEFAULT_MAX_OUTPUT_BYTES (16 MiB). */
  maxOutputBytes?: number
  /** `env.progress` calls, clamped to 0..1 and throttled. */
  onProgress?: (fraction: number) => void
  /** Minimum ms between forwarded progress calls. Default 100. */
  progressInterval?: number
}

/**
 * Instantiates `task` with a fresh capped memory, writes `input` where
 * `alloc` says, calls `run` and copies the result out. Synchronous; throws
 * the typed errors of ./errors.ts. The returned bytes own their buffer, so
 * a worker can transfer it without another copy.
 */
export function runModule (task: TaskModule, input: Uint8Array, options: RunModuleOptions): Uint8Array {
  const maxInput = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES
  if (input.byteLength > maxInput) throw new TaskInputTooLargeError(`input is ${input.byteLength} bytes, the limit is ${maxInput}`)
  const memory = createTaskMemory(task.memory, options.memoryPages)
  const maxBytes = Math.min(options.memoryPages, task.memory.max ?? MAX_WASM_PAGES) * WASM_PAGE_BYTES
  const progress = throttledProgress(options)
  try {
    const instance = new WebAssembly.Instance(task.module, { env: { memory, progress } })
    const alloc = instance.exports.alloc as (len: number) => unknown
    const run = instance.exports.run as (ptr: number, len: number) => unknown
    const ptr = pointer(alloc(input.byteLength), 'alloc')
    if (input.byteLength > 0) {
      if (ptr + input.byteLength > memory.buffer.byteLength) {
        if (atCap(memory, maxBytes)) throw new TaskMemoryError(`no room for ${input.byteLength} bytes of input within the memory limit`)
        throw new TaskModuleInvalidError(`alloc(${input.byteLength}) returned ${ptr}, outside the module's memory`)
      }
      new Uint8Array(memory.buffer, ptr, input.byteLength).set(input)
    }
    return readResult(memory, pointer(run(ptr, input.byteLength), 'run'), options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES)
  } catch (err) {
    throw classifyError(err, memory, maxBytes)
  }
}

/** Reads the result block at `ptr`: u32 little-endian length, then that many bytes (copied out). */
export function readResult (memory: WebAssembly.Memory, ptr: number, maxOutputBytes: number): Uint8Array {
  const size = memory.buffer.byteLength
  if (ptr + 4 > size) throw new TaskOutputInvalidError(`result pointer ${ptr} is outside the module's memory (${size} bytes)`)
  const len = new DataView(memory.buffer).getUint32(ptr, true)
  if (len > maxOutputBytes) throw new TaskOutputTooLargeError(`result is ${len} bytes, the limit is ${maxOutputBytes}`)
  if (ptr + 4 + len > size) throw new TaskOutputInvalidError(`result of ${len} bytes at ${ptr} runs past the module's memory (${size} bytes)`)
  return new Uint8Array(memory.buffer).slice(ptr + 4, ptr + 4 + len)
}

function pointer (value: unknown, from: string): number {
  if (typeof value !== 'number') throw new TaskOutputInvalidError(`${from} must return an i32 pointer`)
  return value >>> 0
}

/**
 * Memory within 1/8 of the cap (or 2 MiB of it): a module growing in steps
 * ends there when grow fails. A single huge grow that fails far from the
 * cap cannot be told from other traps; the demo tasks grow page by page to
 * the cap before trapping so theirs are reported right.
 */
function atCap (memory: WebAssembly.Memory, maxBytes: number): boolean {
  return memory.buffer.byteLength + Math.max(2 * 1024 * 1024, maxBytes / 8) >= maxBytes
}

const TYPED = new Set(['TaskModuleInvalidError', 'TaskMemoryError', 'TaskOutputInvalidError', 'TaskOutputTooLargeError', 'TaskInputTooLargeError', 'TaskTrapError'])

/**
 * Traps become TaskTrapError, except when memory is the likely cause: the
 * engine could not allocate, or the module trapped with its memory grown to
 * (nearly) the cap, which is how a failed memory.grow usually ends.
 */
function classifyError (err: unknown, memory: WebAssembly.Memory, maxBytes: number): Error {
  if (err instanceof Error && TYPED.has(err.name)) return err
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof WebAssembly.LinkError) return new TaskModuleInvalidError(message)
  if (err instanceof RangeError && /memory/i.test(message)) return new TaskMemoryError(message)
  if (atCap(memory, maxBytes)) return new TaskMemoryError(`trapped at the memory limit (${maxBytes} bytes): ${message}`)
  return new TaskTrapError(message)
}

function throttledProgress (options: RunModuleOptions): (fraction: unknown) => void {
  const onProgress = options.onProgress
  if (onProgress == null) return () => {}
  const interval = options.progressInterval ?? DEFAULT_PROGRESS_INTERVAL
  let last = -Infinity
  return (fraction) => {
    if (typeof fraction !== 'number' || Number.isNaN(fraction)) return
    const now = performance.now()
    if (now - last < interval && fraction < 1) return
    last = now
    onProgress(Math.min(1, Math.max(0, fraction)))
  }
}
