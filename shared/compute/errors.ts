/**
 * Why a subtask failed. Workers send `{ name, message }` across the thread
 * boundary and `taskErrorFromWire` rebuilds the class on the other side, so
 * callers can `instanceof` (or compare `name`) whichever runtime ran the job.
 */

/** The module is not WebAssembly, or breaks the task ABI (docs/task-abi.md). */
export class TaskModuleInvalidError extends Error {
  override name = 'TaskModuleInvalidError'
}

/** The module is larger than the runner accepts. */
export class TaskModuleTooLargeError extends Error {
  override name = 'TaskModuleTooLargeError'
}

/** The input is larger than the runner accepts. */
export class TaskInputTooLargeError extends Error {
  override name = 'TaskInputTooLargeError'
}

/** The result the module returned is larger than the runner accepts. */
export class TaskOutputTooLargeError extends Error {
  override name = 'TaskOutputTooLargeError'
}

/** The result pointer or length the module returned lies outside its memory. */
export class TaskOutputInvalidError extends Error {
  override name = 'TaskOutputInvalidError'
}

/** The subtask ran past its time limit; its worker was terminated. */
export class TaskTimeoutError extends Error {
  override name = 'TaskTimeoutError'
}

/** The subtask needed more memory than its limit (a failed grow, or a trap with memory at the cap). */
export class TaskMemoryError extends Error {
  override name = 'TaskMemoryError'
}

/** Any other WebAssembly trap (unreachable, division by zero, out-of-bounds access...). */
export class TaskTrapError extends Error {
  override name = 'TaskTrapError'
}

/** The caller aborted the subtask, or the runner stopped. */
export class TaskAbortedError extends Error {
  override name = 'TaskAbortedError'
}

/** A sandbox worker failed to start or died for a reason that is not the task's. */
export class TaskWorkerError extends Error {
  override name = 'TaskWorkerError'
}

/** `run()` was called on a runner that is not started. */
export class TaskRunnerStoppedError extends Error {
  override name = 'TaskRunnerStoppedError'
}

const WIRE_ERRORS: Record<string, new (message: string) => Error> = {
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
}

/** What crosses the worker boundary for a failed job. */
export interface WireError {
  name: string
  message: string
}

export function taskErrorToWire (err: unknown): WireError {
  if (err instanceof Error) return { name: err.name, message: err.message }
  return { name: 'TaskTrapError', message: String(err) }
}

/** Rebuilds a typed error; unknown names become TaskWorkerError (never trust the far side's class names). */
export function taskErrorFromWire (wire: WireError): Error {
  const Class = Object.prototype.hasOwnProperty.call(WIRE_ERRORS, wire.name) ? WIRE_ERRORS[wire.name] : undefined
  if (Class == null) return new TaskWorkerError(`${wire.name}: ${wire.message}`)
  return new Class(wire.message)
}
