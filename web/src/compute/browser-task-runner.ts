/**
 * The task runner in a tab: a pool of sandbox module Web Workers
 * (sandbox.worker.ts). Vite bundles the worker from the
 * `new Worker(new URL(...), { type: 'module' })` pattern below; the relay
 * serves the bundle with a CSP that blocks network and eval
 * (relay/http/sandbox-headers.ts).
 */
import { createTaskRunner } from '../../../shared/compute/index.ts'
import { adaptBrowserWorker } from '../workers/browser-worker.ts'
import type { SandboxPool, SandboxWorker, TaskRunnerInit } from '../../../shared/compute/index.ts'
import type { ComponentLogger } from '@libp2p/interface'

export interface BrowserTaskRunnerComponents {
  logger?: ComponentLogger
}

export function spawnBrowserSandboxWorker (): SandboxWorker {
  const worker = new Worker(new URL('./sandbox.worker.ts', import.meta.url), { type: 'module', name: 'task-sandbox' })
  return adaptBrowserWorker(worker, 'sandbox worker')
}

/**
 * Default cores: `navigator.hardwareConcurrency - 1`, at least 1 (maxCores:
 * hardwareConcurrency). Call `start()` before `run()`.
 */
export function createBrowserTaskRunner (init: TaskRunnerInit = {}, components: BrowserTaskRunnerComponents = {}): SandboxPool {
  return createTaskRunner({ spawnWorker: spawnBrowserSandboxWorker, logger: components.logger }, {
    ...init,
    maxCores: init.maxCores ?? Math.max(1, navigator.hardwareConcurrency ?? 1)
  })
}
