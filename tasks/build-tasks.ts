/**
 * Builds the demo task modules:
 *
 *   node --import tsx tasks/build-tasks.ts
 *
 * writes dist/tasks/<name>.wasm (for Node, see load-demo-task.ts) and
 * dist/web/tasks/<name>.wasm (the page fetches /tasks/<name>.wasm), and the
 * same into the test build's dist/test-web when there is one.
 * Build output only; dist/ is not committed.
 */
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEMO_TASKS, assembleDemoTask } from './assemble.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))

/** Where the built modules go, relative to the repository root (the test build's folder too, once it exists). */
export const TASK_OUTPUT_DIRS = ['dist/tasks', 'dist/web/tasks', 'dist/test-web/tasks']

export async function buildTasks (root = ROOT): Promise<Array<{ name: string, bytes: number, paths: string[] }>> {
  const built = []
  for (const name of DEMO_TASKS) {
    const wasm = await assembleDemoTask(name)
    const paths = TASK_OUTPUT_DIRS.filter(dir => !dir.startsWith('dist/test-web') || existsSync(`${root}dist/test-web`)).map(dir => `${root}${dir}/${name}.wasm`)
    for (const path of paths) {
      await mkdir(dirname(path), { recursive: true })
      await writeFile(path, wasm)
    }
    built.push({ name, bytes: wasm.byteLength, paths })
  }
  return built
}

if (process.argv[1] != null && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { name, bytes } of await buildTasks()) {
    process.stdout.write(`tasks: ${name}.wasm (${bytes} bytes) -> ${TASK_OUTPUT_DIRS.join(', ')}\n`)
  }
}
