/**
 * What the market asks of a provider's compute: run one subtask (a task
 * module and one input) in a sandbox, within time and memory limits, on at
 * most `cores` threads at once. Tabs implement it with Web Workers
 * (web/src/compute/browser-task-runner.ts), Node with worker_threads
 * (relay/compute/node-task-runner.ts); both are the pool of ./sandbox-pool.ts.
 */
import type { Startable, TypedEventTarget } from '@libp2p/interface'

export interface SubtaskLimits {
  /** Wall time allowed from when a worker gets the job (compile included). Default 60_000. */
  timeMs?: number
  /** Cap on the module's memory, rounded down to 64 KiB pages. Default 256 MiB. */
  memoryBytes?: number
}

export interface SubtaskJob {
  /** The caller's id for the subtask; echoed in progress reports. */
  id: string
  /** WebAssembly module bytes, following docs/task-abi.md. */
  module: Uint8Array
  /** Hex SHA-256 of `module`: workers cache compiled modules under it (and check it). */
  moduleHash: string
  input: Uint8Array
  limits?: SubtaskLimits
}

export interface SubtaskProgress {
  id: string
  /** The module's own estimate (env.progress), 0..1, when it reports one. */
  fraction?: number
  /** ms since `run()` was called. */
  elapsedMs: number
  state: 'queued' | 'running'
}

export interface RunOptions {
  /** Aborting stops the subtask (its worker is terminated): TaskAbortedError. */
  signal?: AbortSignal
  onProgress?: (progress: SubtaskProgress) => void
}

export interface TaskRunnerState {
  cores: number
  maxCores: number
  paused: boolean
  /** Subtasks holding a worker. */
  running: number
  /** Subtasks waiting for one. */
  queued: number
}

export interface TaskRunnerEvents {
  /** Any change of the counts, `cores` or `paused`. */
  'runner:state': CustomEvent<TaskRunnerState>
}

export interface TaskRunner extends Startable, TypedEventTarget<TaskRunnerEvents> {
  /**
   * Runs one subtask and resolves with its output. Rejects with the errors
   * of ./errors.ts: TaskModuleInvalidError, TaskModuleTooLargeError,
   * TaskInputTooLargeError, TaskOutputTooLargeError, TaskOutputInvalidError,
   * TaskTimeoutError, TaskMemoryError, TaskTrapError, TaskAbortedError,
   * TaskWorkerError, TaskRunnerStoppedError.
   */
  run: (job: SubtaskJob, options?: RunOptions) => Promise<Uint8Array>
  /**
   * How many subtasks run at once, clamped to 1..maxCores; jobs queue beyond
   * it. Lowering it stops the newest running subtasks and queues them again
   * at the front (they restart from scratch).
   */
  setCores: (n: number) => void
  /** Stops running subtasks (workers terminated, jobs queued again at the front) and starts no new ones. */
  pause: () => void
  /** Starts queued subtasks again; the ones stopped by `pause` restart from scratch with a fresh time limit. */
  resume: () => void
  readonly cores: number
  readonly paused: boolean
  readonly maxCores: number
  readonly running: number
  readonly queued: number
  readonly state: TaskRunnerState
}
