import { GolemClayError } from '../../../shared/errors.ts'
import { describeError } from '../../../shared/util/index.ts'

/** The parts of a page's global scope a stored identity needs; any of them may be missing or throw. */
export interface StorageScope {
  indexedDB?: unknown
  sessionStorage?: unknown
  navigator?: { locks?: { query?: () => Promise<unknown> } }
}

/**
 * Why this scope cannot keep an identity, or undefined when it seems it can.
 * Reading `sessionStorage` throws where the visitor blocks site data or in
 * a sandboxed iframe, and Web Locks refuse an opaque origin: claimIdentity
 * would read a refused lock as "every slot is held" and fail, so this asks
 * first. No Web Locks at all is fine (an insecure origin: claimIdentity
 * keeps one slot per tab session).
 */
export async function storageUnavailable (scope: StorageScope = globalThis as StorageScope): Promise<string | undefined> {
  try {
    if (scope.indexedDB == null) return reasonOf('no IndexedDB')
    if (scope.sessionStorage == null) return reasonOf('no sessionStorage')
    await scope.navigator?.locks?.query?.()
    return undefined
  } catch (err: unknown) {
    return reasonOf(describeError(err))
  }
}

/**
 * After a stored identity could not be claimed: why the peer goes on with
 * one in memory, or undefined when the error must stand. Our own errors
 * (every slot held by an open tab) are meant for the visitor, and an
 * aborted claim is a stop, not a storage problem; anything else came from
 * the browser's storage (IndexedDB refused, quota 0, a broken database).
 */
export function fallbackReason (err: unknown): string | undefined {
  if (err instanceof GolemClayError) return undefined
  const name = (err as { name?: unknown } | null)?.name
  if (name === 'AbortError') return undefined
  return reasonOf(describeError(err))
}

function reasonOf (what: string): string {
  return `this browser does not let the page keep data (${what})`
}
