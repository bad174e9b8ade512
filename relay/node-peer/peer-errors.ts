import { GolemClayError } from '../../shared/errors.ts'
import { describeError } from '../../shared/util/index.ts'

/** No relay took this peer in (resolved, connected, reserved) within --timeout. */
export class JoinTimeoutError extends GolemClayError { override name = 'JoinTimeoutError'; override readonly code = 'JOIN_TIMEOUT'; override readonly retryable = true }

/** A console command did not finish within --timeout. */
export class CommandTimeoutError extends GolemClayError { override name = 'CommandTimeoutError'; override readonly code = 'COMMAND_TIMEOUT'; override readonly retryable = true }

// Node's file errors say "ENOENT: no such file or directory, open '/x'"; people want the path and the reason
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  ENOSPC: 'no space left on the disk',
  EROFS: 'the disk is read-only'
}

/** A command's failure as one line for the console: no stack, no "[object …]". */
export function describeCommandError (err: unknown): string {
  const e = err as { code?: unknown, path?: unknown } | null
  if (typeof e?.code === 'string' && typeof e.path === 'string') {
    const reason = FILE_ERRORS[e.code]
    if (reason != null) return `${e.path}: ${reason}`
  }
  return describeError(err)
}
