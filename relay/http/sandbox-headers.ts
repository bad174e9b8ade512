/**
 * Response headers that confine what a served file may do.
 *
 * The task sandbox worker's script: a dedicated worker fetched from a URL
 * runs under the CSP of its own response, so the browser itself refuses it
 * network access (connect-src falls back to default-src 'none'), eval and
 * nested scripts from elsewhere, while WebAssembly may still compile
 * ('wasm-unsafe-eval').
 *
 * The widget's frame: see WIDGET_FRAME_CSP.
 *
 * The operator dashboard: it holds the status token and shows peer IDs, so
 * it runs its own scripts only, talks to its own relay only and cannot be
 * framed.
 */
import type { ServerResponse } from 'node:http'

export const SANDBOX_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'"

/**
 * The widget's frame (web/widget-frame.html), embedded by any site: its own
 * scripts and Workers only, WebAssembly for the subtasks, sockets to relays,
 * and framing allowed everywhere (that is its job; the host page can't reach
 * inside a cross-origin frame).
 */
export const WIDGET_FRAME_CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors *"

export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/**
 * Vite names the built worker after its source, web/src/compute/sandbox.worker.ts:
 * `assets/sandbox.worker-<hash>.js`. `task-sandbox*` is kept for a renamed entry.
 */
const SANDBOX_SCRIPT = /\/(?:sandbox\.worker-[\w-]+|task-sandbox[\w.-]*)\.js$/

/** The widget's frame page, as asked for. */
const WIDGET_FRAME_PAGE = /^\/widget-frame(?:\.html)?$/

/** The dashboard's page (web/dashboard.html), as asked for: sirv passes the request's path. */
const DASHBOARD_PAGE = /^\/dashboard(?:\.html)?$/

export function isSandboxScript (pathname: string): boolean {
  return SANDBOX_SCRIPT.test(pathname)
}

/** sirv's `setHeaders` hook: the sandbox CSP on the sandbox worker's script, the dashboard's on its page. */
export function setSandboxHeaders (res: ServerResponse, pathname: string): void {
  if (isSandboxScript(pathname)) res.setHeader('Content-Security-Policy', SANDBOX_CSP)
  else if (DASHBOARD_PAGE.test(pathname)) res.setHeader('Content-Security-Policy', DASHBOARD_CSP)
  else if (WIDGET_FRAME_PAGE.test(pathname)) res.setHeader('Content-Security-Policy', WIDGET_FRAME_CSP)
}
