/**
 * The task runner on Node: worker_threads running sandbox-worker.ts (from a
 * plain .mjs that registers tsx, as the Hashcash pool does). Each worker
 * has V8 heap limits (`resourceLimits`), task memory is capped by the
 * WebAssembly memory import, and time limits terminate the worker.
 */
import { availableParallelism } from 'node:os'
import { createTaskRunner } from '../../shared/compute/index.ts'
import { adaptNodeWorker, spawnNodeWorker } from '../workers/node-worker.ts'
import type { SandboxPool, SandboxWorker, TaskRunnerInit } from '../../shared/compute/index.ts'
import type { ComponentLogger } from '@libp2p/interface'
import type { ResourceLimits, Worker } from 'node:worker_threads'

export interface NodeTaskRunnerInit extends TaskRunnerInit {
  /**
   * V8 limits of each worker's JavaScript heap (task memory is WebAssembly
   * memory, outside it). Default: 96 MB old generation, 16 MB young, 4 MB stack.
   */
  resourceLimits?: ResourceLimits
}

export interface NodeTaskRunnerComponents {
  logger?: ComponentLogger
}

const WORKER_URL = new URL('./sandbox-worker-bootstrap.mjs', import.meta.url)
const DEFAULT_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 }

/** Wraps a worker_threads Worker into the pool's SandboxWorker. */
export function adaptNodeSandboxWorker (worker: Worker): SandboxWorker {
  return adaptNodeWorker(worker)
}

export function spawnNodeSandboxWorker (resourceLimits: ResourceLimits = DEFAULT_RESOURCE_LIMITS): SandboxWorker {
  return spawnNodeWorker(WORKER_URL, { name: 'task-sandbox', resourceLimits })
}

/** Default cores: `os.availableParallelism() - 1`, at least 1. Call `start()` before `run()`. */
export function createNodeTaskRunner (init: NodeTaskRunnerInit = {}, components: NodeTaskRunnerComponents = {}): SandboxPool {
  const { resourceLimits, ...rest } = init
  const limits = { ...DEFAULT_RESOURCE_LIMITS, ...resourceLimits }
  return createTaskRunner({
    spawnWorker: () => spawnNodeSandboxWorker(limits),
    logger: components.logger
  }, { ...rest, maxCores: init.maxCores ?? availableParallelism() })
}
