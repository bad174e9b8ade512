import { InvalidTaskError } from './market-errors.ts'
import { MAX_SUBTASKS, MAX_TASK_LIFETIME } from './market-codec.ts'
import type { TaskSpec } from './market-types.ts'

/** Largest task module a requestor may publish (providers enforce their own cap too). */
export const MAX_MODULE_BYTES = 8 * 1024 * 1024
/** Largest single subtask input. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024
/** Largest redundancy: each subtask goes to at most this many providers. */
export const MAX_K = 9

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d]

/** Refuses a spec that can't become a valid header, before anything is uploaded. */
export function validateSpec (spec: TaskSpec): void {
  if (typeof spec.name !== 'string' || spec.name.length === 0 || spec.name.length > 120) throw new InvalidTaskError('A task needs a name of 1..120 characters')
  if (!(spec.module instanceof Uint8Array) || spec.module.byteLength < 8) throw new InvalidTaskError('The task module is missing')
  if (spec.module.byteLength > MAX_MODULE_BYTES) throw new InvalidTaskError(`The task module is ${spec.module.byteLength} bytes; the cap is ${MAX_MODULE_BYTES}`)
  if (WASM_MAGIC.some((b, i) => spec.module[i] !== b)) throw new InvalidTaskError('The task module is not WebAssembly (bad magic number)')
  if (!Array.isArray(spec.inputs) || spec.inputs.length === 0 || spec.inputs.length > MAX_SUBTASKS) throw new InvalidTaskError(`A task needs 1..${MAX_SUBTASKS} inputs`)
  spec.inputs.forEach((input, i) => {
    if (!(input instanceof Uint8Array) || input.byteLength > MAX_INPUT_BYTES) throw new InvalidTaskError(`Input ${i} is not bytes or is larger than ${MAX_INPUT_BYTES}`)
  })
  const int = (v: number | undefined, min: number, max: number, what: string): void => {
    if (v != null && (!Number.isInteger(v) || v < min || v > max)) throw new InvalidTaskError(`${what} must be an integer in ${min}..${max}`)
  }
  int(spec.k, 1, MAX_K, 'k')
  int(spec.price, 0, Number.MAX_SAFE_INTEGER, 'price')
  int(spec.reassignments, 0, MAX_SUBTASKS * MAX_K, 'reassignments')
  if (spec.paid === true && (spec.price ?? 1) < 1) throw new InvalidTaskError('A paid task needs a price of at least 1 (base unit)')
  int(spec.timeout, 1_000, MAX_TASK_LIFETIME, 'timeout (ms)')
  int(spec.subtaskTimeout, 100, 3_600_000, 'subtaskTimeout (ms)')
  int(spec.memoryMB, 1, 4096, 'memoryMB')
  if (spec.runtimes != null && (spec.runtimes.length === 0 || spec.runtimes.some(r => r !== 'browser' && r !== 'node'))) throw new InvalidTaskError('runtimes must list browser and/or node')
}

/** How many assignments a task may make: every subtask k times, plus its reassignments (a quarter of those, at least k, by default). */
export function maxAssignments (subtasks: number, k: number, reassignments?: number): number {
  return subtasks * k + (reassignments ?? Math.max(k, Math.ceil(subtasks * k / 4)))
}

/**
 * What a paid task may cost at most, in the token's base units: a note for
 * each assignment it may make, at its price. The requestor's deposit must
 * hold twice this (with its other open tasks' budgets); providers check it
 * holds this much before offering.
 */
export function taskBudget (spec: Pick<TaskSpec, 'inputs' | 'k' | 'price' | 'reassignments'>): bigint {
  return BigInt(spec.price ?? 1) * BigInt(maxAssignments(spec.inputs.length, spec.k ?? 1, spec.reassignments))
}
