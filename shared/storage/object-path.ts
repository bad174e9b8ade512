import { InvalidPathError } from './errors.ts'
import { MAX_PATH_LENGTH, MAX_SEGMENT_LENGTH } from './storage-protocol.ts'

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

/**
 * Checks an object path as given by a client: relative, `/`-separated, no
 * empty, `.` or `..` segments, no backslashes or control characters. Returns
 * it unchanged; the drive stores it under `/<path>`.
 */
export function validateObjectPath (path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidPathError('The path must be a non-empty string')
  if (path.length > MAX_PATH_LENGTH) throw new InvalidPathError(`The path is longer than ${MAX_PATH_LENGTH} characters`)
  if (CONTROL.test(path)) throw new InvalidPathError('The path contains control characters')
  if (path.startsWith('/')) throw new InvalidPathError('The path must be relative (no leading "/")')
  if (path.includes('\\')) throw new InvalidPathError('The path must not contain backslashes')
  if (/^[a-zA-Z]:/.test(path)) throw new InvalidPathError('The path must not name a drive letter')
  for (const segment of path.split('/')) {
    if (segment === '') throw new InvalidPathError('The path has an empty segment ("//" or a trailing "/")')
    if (segment === '.' || segment === '..') throw new InvalidPathError(`The path must not contain "${segment}" segments`)
    if (segment.length > MAX_SEGMENT_LENGTH) throw new InvalidPathError(`A path segment is longer than ${MAX_SEGMENT_LENGTH} characters`)
  }
  if (path.normalize('NFC') !== path) throw new InvalidPathError('The path must be in Unicode NFC form')
  return path
}

/** A file name turned into a safe single path segment (for the page and the CLI). */
export function safeFileName (name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029/\\]/g, '_').replace(/^\.+$/, '_').slice(-MAX_SEGMENT_LENGTH)
  return cleaned === '' ? 'file' : cleaned
}
