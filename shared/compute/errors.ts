import { GolemClayError } from '../errors.ts'
import { ErrorTable, errorToWire } from '../wire/index.ts'
import type { WireError } from '../wire/index.ts'
/**
 * Why a subtask failed. Workers send `{ name, message }` across the thread
 * boundary and `taskErrorFromWire` rebuilds the class on the other side, so
 * callers can `instanceof` (or compare `name`) whichever runtime ran the job.
 */

/** The module is not WebAssembly, or breaks the task ABI (docs/task-abi.md). */
export class TaskModuleInvalidError extends GolemClayError { override name = 'TaskModuleInvalidError'; override readonly code = 'TASK_MODULE_INVALID' }

/** The module is larger than the runner accepts. */
export class TaskModuleTooLargeError extends GolemClayError { override name = 'TaskModuleTooLargeError'; override readonly code = 'TASK_MODULE_TOO_LARGE' }

/** The input is larger than the runner accepts. */
export class TaskInputTooLargeError extends GolemClayError { override name = 'TaskInputTooLargeError'; override readonly code = 'TASK_INPUT_TOO_LARGE' }

/** The result the module returned is larger than the runner accepts. */
export class TaskOutputTooLargeError extends GolemClayError { override name = 'TaskOutputTooLargeError'; override readonly code = 'TASK_OUTPUT_TOO_LARGE' }

/** The result pointer or length the module returned lies outside its memory. */
export class TaskOutputInvalidError extends GolemClayError { override name = 'TaskOutputInvalidError'; override readonly code = 'TASK_OUTPUT_INVALID' }

/** The subtask ran past its time limit; its worker was terminated. */
export class TaskTimeoutError extends GolemClayError { override name = 'TaskTimeoutError'; override readonly code = 'TASK_TIMEOUT' }

/** The subtask needed more memory than its limit (a failed grow, or a trap with memory at the cap). */
export class TaskMemoryError extends GolemClayError { override name = 'TaskMemoryError'; override readonly code = 'TASK_MEMORY' }

/** Any other WebAssembly trap (unreachable, division by zero, out-of-bounds access...). */
export class TaskTrapError extends GolemClayError { override name = 'TaskTrapError'; override readonly code = 'TASK_TRAP' }

/** The caller aborted the subtask, or the runner stopped. */
export class TaskAbortedError extends GolemClayError { override name = 'TaskAbortedError'; override readonly code = 'TASK_ABORTED' }

/** A sandbox worker failed to start or died for a reason that is not the task's. */
export class TaskWorkerError extends GolemClayError { override name = 'TaskWorkerError'; override readonly code = 'TASK_WORKER'; override readonly retryable = true }

/** `run()` was called on a runner that is not started. */
export class TaskRunnerStoppedError extends GolemClayError { override name = 'TaskRunnerStoppedError'; override readonly code = 'TASK_RUNNER_STOPPED' }

const TABLE = new ErrorTable([
  TaskModuleInvalidError,
  TaskModuleTooLargeError,
  TaskInputTooLargeError,
  TaskOutputTooLargeError,
  TaskOutputInvalidError,
  TaskTimeoutError,
  TaskMemoryError,
  TaskTrapError,
  TaskAbortedError,
  TaskWorkerError
], TaskWorkerError)

/** What crosses the worker boundary for a failed job: a trap's own message, its class by code. */
export function taskErrorToWire (err: unknown): WireError {
  if (err instanceof GolemClayError) return errorToWire(err)
  // the engine's RuntimeError (unreachable, division by zero, …) is the module's trap; anything else the worker's
  if (err instanceof WebAssembly.RuntimeError) return { code: 'TASK_TRAP', name: 'TaskTrapError', message: err.message }
  return { code: 'TASK_WORKER', name: 'TaskWorkerError', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }
}

/** Rebuilds a typed error; anything unknown becomes TaskWorkerError (never trust the far side's class names). */
export function taskErrorFromWire (wire: WireError): GolemClayError {
  return TABLE.fromWire(wire)
}
