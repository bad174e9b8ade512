/**
 * The demo task modules for Node code (CLI, tests, benchmarks): the built
 * dist/tasks/<name>.wasm, or assembled from the .wat on the spot when that
 * is missing or older than its source (needs the `wabt` dev dependency).
 */
import { readFile, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { moduleHash } from '../shared/compute/index.ts'
import { GolemClayError } from '../shared/errors.ts'
import { assembleDemoTask, demoTaskSource, isDemoTaskName } from './assemble.ts'
import type { DemoTaskName } from './assemble.ts'

export { DEMO_TASKS, isDemoTaskName } from './assemble.ts'
export type { DemoTaskName } from './assemble.ts'

export interface DemoTask {
  name: DemoTaskName
  module: Uint8Array
  /** Hex SHA-256 of `module`. */
  moduleHash: string
}

/** Unknown demo task name. */
export class UnknownDemoTaskError extends GolemClayError { override name = 'UnknownDemoTaskError'; override readonly code = 'UNKNOWN_DEMO_TASK' }

const cache = new Map<string, Promise<DemoTask>>()

async function mtime (path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs
  } catch {
    return undefined
  }
}

async function load (name: DemoTaskName): Promise<DemoTask> {
  const built = fileURLToPath(new URL(`../dist/tasks/${name}.wasm`, import.meta.url))
  const [builtAt, sourceAt] = await Promise.all([mtime(built), mtime(demoTaskSource(name))])
  const fresh = builtAt != null && (sourceAt == null || builtAt >= sourceAt)
  const module = fresh ? new Uint8Array(await readFile(built)) : await assembleDemoTask(name)
  return { name, module, moduleHash: await moduleHash(module) }
}

export async function loadDemoTask (name: string): Promise<DemoTask> {
  if (!isDemoTaskName(name)) throw new UnknownDemoTaskError(`no demo task "${name}"`)
  let task = cache.get(name)
  if (task == null) {
    task = load(name)
    cache.set(name, task)
    task.catch(() => { cache.delete(name) })
  }
  return await task
}
