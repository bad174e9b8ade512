/**
 * Messages between the task runner pool and its sandbox workers, and the
 * worker side of the conversation, shared by the browser (Web Worker) and
 * Node (worker_threads) entry points so those stay a few lines each.
 *
 * A worker runs one job at a time, synchronously: nothing can interrupt a
 * running module but terminating the worker, which is how time limits,
 * aborts and pause work. Compiled modules are cached by hash (bounded LRU)
 * so repeated subtasks of a task skip compilation; the pool sends module
 * bytes only to workers that lack them, and a worker that evicted a module
 * asks again (`need-module`). Buffers cross by transfer, never by copy.
 */
import { TaskModuleInvalidError, taskErrorToWire } from './errors.ts'
import { moduleHash } from './module-hash.ts'
import { compileTaskModule, runModule } from './task-abi.ts'
import type { WireError } from '../wire/index.ts'
import type { TaskModule } from './task-abi.ts'

export interface RunRequest {
  type: 'run'
  /** Dispatch number; replies carry it so the pool drops stale ones. */
  seq: number
  moduleHash: string
  /** Absent when the pool believes the worker has the module cached. */
  module?: Uint8Array
  input: Uint8Array
  memoryPages: number
  maxModuleBytes: number
  maxInputBytes: number
  maxOutputBytes: number
  progressInterval: number
  /** Compiled modules the worker keeps; the pool mirrors the same LRU. */
  moduleCacheSize: number
}

/** Asks for a report of what the worker's global scope still exposes (tests, diagnostics). */
export interface ProbeRequest {
  type: 'probe'
  seq: number
}

export type PoolToSandbox = RunRequest | ProbeRequest

export type SandboxToPool =
  | { type: 'ready' }
  | { type: 'progress', seq: number, fraction: number }
  | { type: 'need-module', seq: number }
  | { type: 'result', seq: number, output: Uint8Array }
  | { type: 'error', seq: number, error: WireError }
  | { type: 'probe', seq: number, report: Record<string, string> }

export interface SandboxHandlerInit {
  post: (message: SandboxToPool, transfer?: ArrayBuffer[]) => void
  /** Answers `probe`; without it the report is empty. */
  probe?: () => Record<string, string>
}

export function isPoolToSandbox (data: unknown): data is PoolToSandbox {
  if (typeof data !== 'object' || data == null) return false
  const m = data as Record<string, unknown>
  if (m.type === 'probe') return typeof m.seq === 'number'
  return m.type === 'run' && typeof m.seq === 'number' && typeof m.moduleHash === 'string' &&
    (m.module === undefined || m.module instanceof Uint8Array) && m.input instanceof Uint8Array &&
    typeof m.memoryPages === 'number' && typeof m.maxModuleBytes === 'number' &&
    typeof m.maxInputBytes === 'number' && typeof m.maxOutputBytes === 'number' && typeof m.progressInterval === 'number' &&
    typeof m.moduleCacheSize === 'number'
}

export function isSandboxToPool (data: unknown): data is SandboxToPool {
  if (typeof data !== 'object' || data == null) return false
  const m = data as Record<string, unknown>
  if (m.type === 'ready') return true
  if (typeof m.seq !== 'number') return false
  switch (m.type) {
    case 'progress': return typeof m.fraction === 'number'
    case 'need-module': return true
    case 'result': return m.output instanceof Uint8Array
    case 'error': return typeof m.error === 'object' && m.error != null && typeof (m.error as any).name === 'string'
    case 'probe': return typeof m.report === 'object' && m.report != null
    default: return false
  }
}

/** The worker side: returns the message handler and announces readiness. */
export function handleSandboxMessages (init: SandboxHandlerInit): (data: unknown) => void {
  const cache = new Map<string, TaskModule>()

  async function load (req: RunRequest): Promise<TaskModule | undefined> {
    const cached = cache.get(req.moduleHash)
    if (cached != null) {
      cache.delete(req.moduleHash)
      cache.set(req.moduleHash, cached)
      return cached
    }
    if (req.module == null) return undefined
    // the hash is the cache key: never let a wrong one poison it
    if (await moduleHash(req.module) !== req.moduleHash.toLowerCase()) {
      throw new TaskModuleInvalidError('module bytes do not match moduleHash')
    }
    const task = await compileTaskModule(req.module, req.maxModuleBytes)
    cache.set(req.moduleHash, task)
    while (cache.size > Math.max(1, req.moduleCacheSize)) cache.delete(cache.keys().next().value as string)
    return task
  }

  async function run (req: RunRequest): Promise<void> {
    try {
      const task = await load(req)
      if (task == null) {
        init.post({ type: 'need-module', seq: req.seq })
        return
      }
      const output = runModule(task, req.input, {
        memoryPages: req.memoryPages,
        maxInputBytes: req.maxInputBytes,
        maxOutputBytes: req.maxOutputBytes,
        progressInterval: req.progressInterval,
        onProgress: (fraction) => { init.post({ type: 'progress', seq: req.seq, fraction }) }
      })
      init.post({ type: 'result', seq: req.seq, output }, [output.buffer as ArrayBuffer])
    } catch (err) {
      init.post({ type: 'error', seq: req.seq, error: taskErrorToWire(err) })
    }
  }

  init.post({ type: 'ready' })
  return (data) => {
    if (!isPoolToSandbox(data)) return
    if (data.type === 'probe') {
      init.post({ type: 'probe', seq: data.seq, report: init.probe?.() ?? {} })
      return
    }
    void run(data)
  }
}
