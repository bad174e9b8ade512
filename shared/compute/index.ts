/** The task runtime: the WebAssembly task ABI, limits and the sandbox worker pool (workers live in web/ and relay/). */
export * from './errors.ts'
export { moduleHash } from './module-hash.ts'
export { createTaskRunner } from './sandbox-pool.ts'
export type { SandboxPool, SandboxWorker, TaskRunnerInit } from './sandbox-pool.ts'
export { handleSandboxMessages } from './sandbox-protocol.ts'
export { compileTaskModule, DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_MODULE_BYTES, memoryPagesFor, runModule } from './task-abi.ts'
export type { SubtaskJob, SubtaskLimits, SubtaskProgress, TaskRunner, TaskRunnerState } from './task-runner.ts'
