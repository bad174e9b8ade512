/**
 * Strips a sandbox worker's global scope of everything that reaches beyond
 * the worker: network, storage, other contexts, devices. Task modules get
 * no imports besides their memory and `env.progress` (docs/task-abi.md) and
 * the relay serves the worker script with a CSP that blocks network and
 * eval, so this is the third layer, not the only one.
 */

/** Globals removed from the worker scope. */
export const REMOVED_GLOBALS = [
  'fetch', 'XMLHttpRequest', 'WebSocket', 'WebSocketStream', 'WebTransport', 'EventSource',
  'importScripts', 'indexedDB', 'IDBFactory', 'caches', 'CacheStorage', 'cookieStore',
  'BroadcastChannel', 'RTCPeerConnection', 'RTCDataChannel', 'RTCRtpScriptTransformer',
  'Worker', 'SharedWorker', 'Notification', 'StorageManager', 'LockManager',
  'FileSystemHandle', 'FileSystemFileHandle', 'FileSystemDirectoryHandle', 'FileSystemSyncAccessHandle',
  'Request', 'Response', 'Headers', 'MessageChannel'
] as const

/** `navigator` members removed (storage quota and OPFS, Web Locks, devices...). */
export const REMOVED_NAVIGATOR = ['storage', 'locks', 'serviceWorker', 'usb', 'hid', 'serial', 'bluetooth', 'gpu', 'mediaDevices', 'permissions'] as const

/** Names a worker scope must never have, to report on (a worker never has a DOM). */
export const ABSENT_GLOBALS = ['document', 'window', 'localStorage', 'sessionStorage'] as const

/** Deletes `name` wherever it is defined on `target`'s prototype chain, then pins it to undefined. */
function remove (target: object, name: string): void {
  for (let o: object | null = target; o != null; o = Object.getPrototypeOf(o)) {
    const desc = Object.getOwnPropertyDescriptor(o, name)
    if (desc == null) continue
    try { delete (o as Record<string, unknown>)[name] } catch {}
  }
  try {
    Object.defineProperty(target, name, { value: undefined, writable: false, configurable: false, enumerable: false })
  } catch {}
}

export function lockdown (scope: typeof globalThis = globalThis): void {
  for (const name of REMOVED_GLOBALS) remove(scope, name)
  const nav = (scope as { navigator?: object }).navigator
  if (nav != null) for (const name of REMOVED_NAVIGATOR) remove(nav, name)
}

/**
 * What the scope still exposes, as `typeof` per name, plus whether the
 * worker's CSP blocks eval (proof the browser applied the sandbox headers;
 * the evaluated text is a constant).
 */
export function scopeReport (scope: typeof globalThis = globalThis): Record<string, string> {
  const g = scope as unknown as Record<string, unknown>
  const report: Record<string, string> = {}
  for (const name of [...REMOVED_GLOBALS, ...ABSENT_GLOBALS]) report[name] = typeof g[name]
  const nav = g.navigator as Record<string, unknown> | undefined
  for (const name of REMOVED_NAVIGATOR) report[`navigator.${name}`] = typeof nav?.[name]
  try {
    // eslint-disable-next-line no-new-func, @typescript-eslint/no-implied-eval
    report.eval = (new Function('return "allowed"'))() as string
  } catch (err: any) {
    report.eval = `blocked (${String(err?.name)})`
  }
  return report
}
