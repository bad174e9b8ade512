/**
 * One sandbox worker of the pool and the job it holds: dispatch (module
 * bytes only when the worker lacks them), the time limit, and the replies.
 * The pool decides what happens to the job; the slot only reports.
 */
import { TaskMemoryError, TaskOutputTooLargeError, TaskWorkerError, taskErrorFromWire } from './errors.ts'
import { isSandboxToPool } from './sandbox-protocol.ts'
import type { PoolToSandbox } from './sandbox-protocol.ts'
import type { RunOptions, SubtaskJob } from './task-runner.ts'
import type { Logger } from '@libp2p/interface'

/**
 * The part of a worker the pool needs. A browser `Worker` or a Node
 * `worker_threads` Worker fits after wrapping its events.
 */
export interface SandboxWorker {
  postMessage: (message: PoolToSandbox, transfer: ArrayBuffer[]) => void
  onmessage: ((event: { data: unknown }) => void) | null
  /** `error.code` ERR_WORKER_OUT_OF_MEMORY (Node resource limits) becomes TaskMemoryError. */
  onerror: ((event: { message?: string, error?: unknown }) => void) | null
  terminate: () => void
  /** Node: keep the process alive while the worker has work. */
  ref?: () => void
  /** Node: let the process exit while the worker is idle. */
  unref?: () => void
}

/** A `run()` call, from queueing to settling. */
export interface Entry {
  job: SubtaskJob
  options: RunOptions
  resolve: (output: Uint8Array) => void
  reject: (err: Error) => void
  order: number
  submittedAt: number
  timeMs: number
  memoryPages: number
  onAbort?: () => void
  /** When a worker got it (this attempt). */
  startedAt?: number
}

export interface SlotLimits {
  maxModuleBytes: number
  maxInputBytes: number
  maxOutputBytes: number
  progressInterval: number
  moduleCacheSize: number
}

export interface SlotEvents {
  onReady: () => void
  onDone: (entry: Entry, result: Uint8Array | Error) => void
  /** The worker died by itself; `entry` is the job it held. */
  onDead: (entry: Entry | undefined, err: Error) => void
  onTimeout?: (entry: Entry) => void
  onProgress?: (entry: Entry, fraction: number) => void
}

const MODULE_ERRORS = new Set(['TaskModuleInvalidError', 'TaskModuleTooLargeError'])
let nextSeq = 1

/** A copy with its own, exactly sized buffer: safe to transfer (Node Buffers may share a pooled slab). */
export function ownCopy (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return copy
}

export class SandboxSlot {
  entry?: Entry
  private ready = false
  private terminated = false
  private seq = 0
  private timer?: ReturnType<typeof setTimeout>
  /** Mirror of the worker's module cache, same LRU rule; a miss is repaired by `need-module`. */
  private readonly modules: string[] = []
  private probeSeq = 0
  private resolveProbe?: (report: Record<string, string>) => void
  private rejectProbe?: (err: Error) => void
  readonly probeResult: Promise<Record<string, string>>

  constructor (private readonly worker: SandboxWorker, private readonly limits: SlotLimits, private readonly log: Logger, private readonly events: SlotEvents) {
    this.probeResult = new Promise((resolve, reject) => { this.resolveProbe = resolve; this.rejectProbe = reject })
    this.probeResult.catch(() => {})
    worker.onmessage = (event) => { this.onMessage(event.data) }
    worker.onerror = (event) => { this.onError(event) }
  }

  assign (entry: Entry): void {
    this.entry = entry
    if (this.ready) this.dispatch(entry, false)
  }

  probe (): void {
    this.probeSeq = nextSeq++
    this.worker.postMessage({ type: 'probe', seq: this.probeSeq }, [])
  }

  terminate (): void {
    if (this.terminated) return
    this.terminated = true
    clearTimeout(this.timer)
    this.entry = undefined
    this.rejectProbe?.(new TaskWorkerError('worker terminated'))
    this.worker.terminate()
  }

  private dispatch (entry: Entry, forceModule: boolean): void {
    const { job } = entry
    const hash = job.moduleHash.toLowerCase()
    const sendModule = forceModule || !this.modules.includes(hash)
    const module = sendModule ? ownCopy(job.module) : undefined
    const input = ownCopy(job.input)
    this.seq = nextSeq++
    // a module re-sent on `need-module` keeps the running clock
    if (!forceModule) {
      entry.startedAt = Date.now()
      clearTimeout(this.timer)
      this.timer = setTimeout(() => { if (this.entry === entry) this.events.onTimeout?.(entry) }, entry.timeMs)
    }
    this.worker.ref?.()
    this.worker.postMessage({
      type: 'run',
      seq: this.seq,
      moduleHash: hash,
      module,
      input,
      memoryPages: entry.memoryPages,
      maxModuleBytes: this.limits.maxModuleBytes,
      maxInputBytes: this.limits.maxInputBytes,
      maxOutputBytes: this.limits.maxOutputBytes,
      progressInterval: this.limits.progressInterval,
      moduleCacheSize: this.limits.moduleCacheSize
    }, module != null ? [input.buffer, module.buffer] : [input.buffer])
  }

  private remember (hash: string): void {
    const at = this.modules.indexOf(hash)
    if (at >= 0) this.modules.splice(at, 1)
    this.modules.push(hash)
    while (this.modules.length > Math.max(1, this.limits.moduleCacheSize)) this.modules.shift()
  }

  private onMessage (data: unknown): void {
    if (this.terminated || !isSandboxToPool(data)) return
    if (data.type === 'ready') {
      this.ready = true
      this.events.onReady()
      if (this.entry != null) this.dispatch(this.entry, false)
      return
    }
    if (data.type === 'probe') {
      if (data.seq === this.probeSeq) this.resolveProbe?.(data.report)
      return
    }
    const entry = this.entry
    if (entry == null || data.seq !== this.seq) return
    const hash = entry.job.moduleHash.toLowerCase()
    switch (data.type) {
      case 'progress':
        this.events.onProgress?.(entry, Math.min(1, Math.max(0, data.fraction)))
        return
      case 'need-module': {
        const at = this.modules.indexOf(hash)
        if (at >= 0) this.modules.splice(at, 1)
        this.dispatch(entry, true)
        return
      }
      case 'result':
        this.remember(hash)
        this.finish(entry, data.output.byteLength > this.limits.maxOutputBytes
          ? new TaskOutputTooLargeError(`result is ${data.output.byteLength} bytes, the limit is ${this.limits.maxOutputBytes}`)
          : data.output)
        return
      case 'error':
        if (!MODULE_ERRORS.has(data.error.name)) this.remember(hash)
        this.finish(entry, taskErrorFromWire(data.error))
    }
  }

  private finish (entry: Entry, result: Uint8Array | Error): void {
    clearTimeout(this.timer)
    this.entry = undefined
    this.worker.unref?.()
    this.events.onDone(entry, result)
  }

  private onError (event: { message?: string, error?: unknown }): void {
    if (this.terminated) return
    const code = (event.error as { code?: unknown } | undefined)?.code
    const err = code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new TaskMemoryError(`the sandbox worker ran out of heap: ${event.message ?? ''}`)
      : new TaskWorkerError(`sandbox worker failed: ${event.message ?? 'unknown error'}`)
    this.log.error('sandbox worker failed - %s', event.message)
    const entry = this.entry
    this.terminate()
    this.events.onDead(entry, err)
  }
}
