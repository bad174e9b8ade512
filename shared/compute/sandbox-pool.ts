/**
 * The TaskRunner both platforms use: a pool of sandbox workers, at most
 * `cores` busy at once, the rest of the jobs queued in order. Browser and
 * Node only differ in how a worker is spawned (see the two factories).
 *
 * Workers are reused between subtasks (their compiled-module caches make a
 * repeat subtask cost one postMessage each way). A worker is terminated
 * only when its job must stop mid-run: time limit, abort, pause, fewer
 * cores, runner stop. A fresh one is spawned when work needs it; the time
 * limit starts when a started worker gets the job, so spawn time never
 * counts against a subtask.
 */
import { defaultLogger } from '@libp2p/logger'
import { TypedEventEmitter } from 'main-event'
import { TaskAbortedError, TaskInputTooLargeError, TaskModuleTooLargeError, TaskRunnerStoppedError, TaskTimeoutError } from './errors.ts'
import { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_MODULE_BYTES, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MEMORY_BYTES, DEFAULT_PROGRESS_INTERVAL, DEFAULT_TIME_MS, memoryPagesFor } from './task-abi.ts'
import { SandboxSlot } from './sandbox-slot.ts'
import type { Entry, SandboxWorker } from './sandbox-slot.ts'
import type { RunOptions, SubtaskJob, TaskRunner, TaskRunnerEvents, TaskRunnerState } from './task-runner.ts'
import type { ComponentLogger, Logger } from '@libp2p/interface'

export type { SandboxWorker } from './sandbox-slot.ts'

export interface TaskRunnerInit {
  /** Subtasks run at once. Default `maxCores - 1`, at least 1. */
  cores?: number
  /** Upper bound for `setCores`. Default: the platform's core count (the factories pass it). */
  maxCores?: number
  /** Module size cap. Default 8 MiB. */
  maxModuleBytes?: number
  /** Input size cap. Default 64 MiB. */
  maxInputBytes?: number
  /** Output size cap. Default 16 MiB. */
  maxOutputBytes?: number
  /** Time limit when a job sets none. Default 60_000 ms. */
  defaultTimeMs?: number
  /** Memory limit when a job sets none. Default 256 MiB. */
  defaultMemoryBytes?: number
  /** Minimum ms between progress reports of one subtask. Default 100. */
  progressInterval?: number
  /** Compiled modules each worker keeps. Default 8. */
  moduleCacheSize?: number
}

export interface TaskRunnerComponents {
  /** Starts one sandbox worker (it posts `ready` once it can take jobs). */
  spawnWorker: () => SandboxWorker
  logger?: ComponentLogger
}

export class SandboxPool extends TypedEventEmitter<TaskRunnerEvents> implements TaskRunner {
  readonly maxCores: number
  private _cores: number
  private _paused = false
  private started = false
  private readonly slots = new Set<SandboxSlot>()
  private queue: Entry[] = []
  private order = 0
  private readonly log: Logger
  private readonly init: Required<Omit<TaskRunnerInit, 'cores' | 'maxCores'>>

  constructor (private readonly components: TaskRunnerComponents, init: TaskRunnerInit = {}) {
    super()
    this.maxCores = Math.max(1, Math.floor(init.maxCores ?? 1))
    this._cores = clampCores(init.cores ?? this.maxCores - 1, this.maxCores)
    this.log = (components.logger ?? defaultLogger()).forComponent('golem-clay:task-runner')
    this.init = {
      maxModuleBytes: init.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES,
      maxInputBytes: init.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES,
      maxOutputBytes: init.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      defaultTimeMs: init.defaultTimeMs ?? DEFAULT_TIME_MS,
      defaultMemoryBytes: init.defaultMemoryBytes ?? DEFAULT_MEMORY_BYTES,
      progressInterval: init.progressInterval ?? DEFAULT_PROGRESS_INTERVAL,
      moduleCacheSize: init.moduleCacheSize ?? 8
    }
  }

  readonly [Symbol.toStringTag] = '@golem-clay/task-runner'

  get cores (): number { return this._cores }
  get paused (): boolean { return this._paused }
  get running (): number { return [...this.slots].filter(s => s.entry != null).length }
  get queued (): number { return this.queue.length }
  get state (): TaskRunnerState {
    return { cores: this._cores, maxCores: this.maxCores, paused: this._paused, running: this.running, queued: this.queued }
  }

  start (): void {
    this.started = true
  }

  stop (): void {
    this.started = false
    const stopped = new TaskAbortedError('the task runner stopped')
    for (const slot of [...this.slots]) {
      const entry = slot.entry
      this.kill(slot)
      if (entry != null) this.settle(entry, stopped)
    }
    for (const entry of this.queue.splice(0)) this.settle(entry, stopped)
    this.emitState()
  }

  async run (job: SubtaskJob, options: RunOptions = {}): Promise<Uint8Array> {
    if (!this.started) throw new TaskRunnerStoppedError('the task runner is not started')
    if (job.module.byteLength > this.init.maxModuleBytes) throw new TaskModuleTooLargeError(`module is ${job.module.byteLength} bytes, the limit is ${this.init.maxModuleBytes}`)
    if (job.input.byteLength > this.init.maxInputBytes) throw new TaskInputTooLargeError(`input is ${job.input.byteLength} bytes, the limit is ${this.init.maxInputBytes}`)
    const timeMs = job.limits?.timeMs ?? this.init.defaultTimeMs
    const memoryBytes = job.limits?.memoryBytes ?? this.init.defaultMemoryBytes
    if (!(timeMs > 0) || !(memoryBytes > 0)) throw new RangeError(`subtask ${job.id}: time and memory limits must be positive`)
    if (options.signal?.aborted === true) throw new TaskAbortedError(`subtask ${job.id} aborted`)
    return await new Promise<Uint8Array>((resolve, reject) => {
      const entry: Entry = { job, options, resolve, reject, order: this.order++, submittedAt: Date.now(), timeMs, memoryPages: memoryPagesFor(memoryBytes) }
      entry.onAbort = () => { this.abort(entry) }
      options.signal?.addEventListener('abort', entry.onAbort, { once: true })
      this.queue.push(entry)
      this.report(entry, 'queued')
      this.pump()
      this.emitState()
    })
  }

  setCores (n: number): void {
    if (!Number.isFinite(n)) throw new RangeError(`cores must be a number, got ${n}`)
    this._cores = clampCores(n, this.maxCores)
    // the newest started (or not started yet) lose the least work
    const busy = [...this.slots].filter(s => s.entry != null).sort((a, b) => (b.entry?.startedAt ?? Infinity) - (a.entry?.startedAt ?? Infinity))
    this.requeue(busy.slice(0, Math.max(0, busy.length - this._cores)))
    this.trimIdle()
    this.pump()
    this.emitState()
  }

  pause (): void {
    if (this._paused) return
    this._paused = true
    this.requeue([...this.slots].filter(s => s.entry != null))
    this.emitState()
  }

  resume (): void {
    if (!this._paused) return
    this._paused = false
    this.pump()
    this.emitState()
  }

  /**
   * What a sandbox worker's global scope exposes (`typeof` per name, see the
   * worker entries), from a fresh worker of the pool's kind, not one of its jobs'.
   */
  async probe (options: { signal?: AbortSignal } = {}): Promise<Record<string, string>> {
    const slot = new SandboxSlot(this.components.spawnWorker(), this.init, this.log, {
      onReady: () => { slot.probe() },
      onDone: () => {},
      onDead: () => {}
    })
    const onAbort = (): void => { slot.terminate() }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      if (options.signal?.aborted === true) slot.terminate()
      return await slot.probeResult
    } catch (err) {
      throw options.signal?.aborted === true ? new TaskAbortedError('probe aborted') : err
    } finally {
      options.signal?.removeEventListener('abort', onAbort)
      slot.terminate()
    }
  }

  private pump (): void {
    if (!this.started || this._paused) return
    while (this.queue.length > 0) {
      let slot = [...this.slots].find(s => s.entry == null)
      if (slot == null && this.slots.size < this._cores) slot = this.spawn()
      if (slot == null) return
      const entry = this.queue.shift() as Entry
      slot.assign(entry)
      this.report(entry, 'running')
    }
  }

  private spawn (): SandboxSlot {
    const slot: SandboxSlot = new SandboxSlot(this.components.spawnWorker(), this.init, this.log, {
      onReady: () => {},
      onDone: (entry, result) => {
        this.settle(entry, result)
        this.trimIdle()
        this.pump()
        this.emitState()
      },
      onDead: (entry, err) => {
        this.slots.delete(slot)
        if (entry != null) this.settle(entry, err)
        this.pump()
        this.emitState()
      },
      onTimeout: (entry) => {
        this.kill(slot)
        this.settle(entry, new TaskTimeoutError(`subtask ${entry.job.id} ran past its ${entry.timeMs} ms limit`))
        this.pump()
        this.emitState()
      },
      onProgress: (entry, fraction) => { this.report(entry, 'running', fraction) }
    })
    this.slots.add(slot)
    return slot
  }

  private abort (entry: Entry): void {
    const err = new TaskAbortedError(`subtask ${entry.job.id} aborted`)
    const at = this.queue.indexOf(entry)
    if (at >= 0) {
      this.queue.splice(at, 1)
    } else {
      const slot = [...this.slots].find(s => s.entry === entry)
      if (slot == null) return
      this.kill(slot)
      this.pump()
    }
    this.settle(entry, err)
    this.emitState()
  }

  /** Terminates the slots' workers and queues their jobs again, in submission order, at the front. */
  private requeue (slots: SandboxSlot[]): void {
    const entries: Entry[] = []
    for (const slot of slots) {
      if (slot.entry != null) entries.push(slot.entry)
      this.kill(slot)
    }
    for (const entry of entries) entry.startedAt = undefined
    entries.sort((a, b) => a.order - b.order)
    this.queue.unshift(...entries)
    for (const entry of entries) this.report(entry, 'queued')
  }

  private kill (slot: SandboxSlot): void {
    this.slots.delete(slot)
    slot.terminate()
  }

  private trimIdle (): void {
    let extra = this.slots.size - this._cores
    for (const slot of [...this.slots]) {
      if (extra <= 0) break
      if (slot.entry == null) { this.kill(slot); extra-- }
    }
  }

  private settle (entry: Entry, result: Uint8Array | Error): void {
    if (entry.onAbort != null) entry.options.signal?.removeEventListener('abort', entry.onAbort)
    if (result instanceof Error) entry.reject(result)
    else entry.resolve(result)
  }

  private report (entry: Entry, state: 'queued' | 'running', fraction?: number): void {
    try {
      entry.options.onProgress?.({ id: entry.job.id, state, fraction, elapsedMs: Date.now() - entry.submittedAt })
    } catch (err: any) {
      this.log.error('onProgress of subtask %s threw - %e', entry.job.id, err)
    }
  }

  private emitState (): void {
    this.safeDispatchEvent('runner:state', { detail: this.state })
  }
}

function clampCores (n: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(n)))
}

/** A TaskRunner over `spawnWorker`; call `start()` before `run()`. */
export function createTaskRunner (components: TaskRunnerComponents, init: TaskRunnerInit = {}): SandboxPool {
  return new SandboxPool(components, init)
}
