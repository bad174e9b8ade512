/**
 * Response headers for the task sandbox worker's script. A dedicated
 * worker fetched from a URL runs under the CSP of its own response, so the
 * browser itself refuses it network access (connect-src falls back to
 * default-src 'none'), eval and nested scripts from elsewhere, while
 * WebAssembly may still compile ('wasm-unsafe-eval').
 */
import type { ServerResponse } from 'node:http'

export const SANDBOX_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'"

/**
 * Vite names the built worker after its source, web/src/compute/sandbox.worker.ts:
 * `assets/sandbox.worker-<hash>.js`. `task-sandbox*` is kept for a renamed entry.
 */
const SANDBOX_SCRIPT = /\/(?:sandbox\.worker-[\w-]+|task-sandbox[\w.-]*)\.js$/

export function isSandboxScript (pathname: string): boolean {
  return SANDBOX_SCRIPT.test(pathname)
}

/** sirv's `setHeaders` hook: adds the sandbox CSP to the sandbox worker's script only. */
export function setSandboxHeaders (res: ServerResponse, pathname: string): void {
  if (isSandboxScript(pathname)) res.setHeader('Content-Security-Policy', SANDBOX_CSP)
}
