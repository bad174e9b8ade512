import type { Runtime } from './market-codec.ts'
import type { Address } from '../payments/index.ts'

/** What a requestor submits. */
export interface TaskSpec {
  /** Shown to providers. */
  name: string
  /** The WebAssembly module (see docs/task-abi.md). */
  module: Uint8Array
  /** One input per subtask. */
  inputs: Uint8Array[]
  /** Paid per accepted subtask, in the token's base units (a paid task). @default 1 */
  price?: number
  /**
   * Pay for the work through the deposit contract on the relay's chain: the
   * requestor's deposit must hold twice the budgets of its open tasks.
   * `false` publishes an unpaid task (for volunteers).
   * @default true when a connected relay runs a chain, else unpaid
   */
  paid?: boolean
  /** Assignments beyond subtasks × k that the budget pays notes for (reassignments after timeouts, failures). @default a quarter of subtasks × k, at least k */
  reassignments?: number
  /** Redundancy: each subtask goes to k providers and the majority decides. @default 1 */
  k?: number
  /** Time for the whole task from now, ms. @default 600_000 */
  timeout?: number
  /** Time one provider has for one subtask, ms. @default 60_000 */
  subtaskTimeout?: number
  /** Memory one subtask may use, MiB. @default 256 */
  memoryMB?: number
  /** Where it may run. @default ['browser', 'node'] */
  runtimes?: Runtime[]
  /** Storage relay (peer ID or multiaddr) for the module and inputs. @default the first connected storage relay */
  relay?: string
}

export interface SubtaskResult {
  subtask: number
  /** The provider whose (majority) result this is. */
  provider: string
  sha256: string
  data: Uint8Array
  computeMs: number
}

export interface TaskProgress {
  task: string
  done: number
  total: number
  running: number
  providers: number
}

export interface RequestorTaskEvents {
  stored: CustomEvent<{ module: string, inputs: string }>
  published: CustomEvent<{ task: string }>
  /** A provider's first offer; `payee` is its payment address, from the binding its offer carried. */
  offer: CustomEvent<{ provider: string, runtime: Runtime, cores: number, payee: Address }>
  assigned: CustomEvent<{ subtask: number, provider: string, assignment: string }>
  result: CustomEvent<SubtaskResult>
  /** A provider's result lost the vote or failed its hash check. */
  rejected: CustomEvent<{ subtask: number, provider: string, reason: string }>
  /** An assignment ended without a result and the subtask goes out again. */
  reassigned: CustomEvent<{ subtask: number, provider: string, reason: string }>
  progress: CustomEvent<TaskProgress>
  done: CustomEvent<{ task: string, results: SubtaskResult[] }>
  failed: CustomEvent<{ task: string, error: Error }>
}
