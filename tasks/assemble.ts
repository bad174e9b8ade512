/**
 * Assembles the demo tasks' WebAssembly text with the `wabt` dev
 * dependency (used at build time, and by `loadDemoTask` when no build is
 * there). Node only.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/** The demo tasks, each at tasks/<name>/<name>.wat. */
export const DEMO_TASKS = ['mandelbrot', 'primes'] as const
export type DemoTaskName = typeof DEMO_TASKS[number]

export function isDemoTaskName (name: string): name is DemoTaskName {
  return (DEMO_TASKS as readonly string[]).includes(name)
}

/** Where a demo task's source lives. */
export function demoTaskSource (name: DemoTaskName): string {
  return fileURLToPath(new URL(`./${name}/${name}.wat`, import.meta.url))
}

/** WAT text to module bytes (wabt validates it; bulk memory is on for memory.fill). */
export async function assembleWat (wat: string, filename = 'task.wat'): Promise<Uint8Array> {
  const { default: initWabt } = await import('wabt')
  const wabt = await initWabt()
  const mod = wabt.parseWat(filename, wat, { bulk_memory: true })
  try {
    mod.validate()
    return new Uint8Array(mod.toBinary({ write_debug_names: false }).buffer)
  } finally {
    mod.destroy()
  }
}

export async function assembleDemoTask (name: DemoTaskName): Promise<Uint8Array> {
  const path = demoTaskSource(name)
  return await assembleWat(await readFile(path, 'utf8'), `${name}.wat`)
}
