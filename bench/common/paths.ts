import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The repository's root folder, with a trailing slash: benches spawn their helper processes from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The test build (`npm run build:test`): the page as it ships, plus the bench and test pages; trailing slash. */
export const TEST_WEB_ROOT = `${REPO_ROOT}dist/test-web/`

/** Where every bench writes its section. */
export const BENCHMARKS_MD = `${REPO_ROOT}BENCHMARKS.md`

/** Fails unless the test build has `page` (e.g. `bench/tasks.html`). */
export function requireTestPage (page: string): void {
  const file = `${TEST_WEB_ROOT}${page}`
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build:test" first`)
}
