/**
 * Storage errors. Each travels over the wire as `{ name, message }` and is
 * rebuilt by name on the other side, so a tab sees the relay's
 * StorageQuotaExceededError, not a generic failure.
 */
export class StorageError extends Error {
  override name = 'StorageError'
  /** Worth trying again (maybe elsewhere): the data itself is fine. */
  readonly retryable: boolean = false
}

/** The uploader's share, or the relay's whole store, would overflow. */
export class StorageQuotaExceededError extends StorageError {
  override name = 'StorageQuotaExceededError'
}

/** Neither the uploader nor holding a valid token for this object and operation. */
export class AccessDeniedError extends StorageError {
  override name = 'AccessDeniedError'
}

/** A transfer token that is malformed, badly signed, expired, or names another object. */
export class InvalidTokenError extends AccessDeniedError {
  override name = 'InvalidTokenError'
}

/** A path that is absolute, escapes with `..`, or has control characters. */
export class InvalidPathError extends StorageError {
  override name = 'InvalidPathError'
}

/** An object address that cannot be parsed. */
export class InvalidAddressError extends StorageError {
  override name = 'InvalidAddressError'
}

export class ObjectNotFoundError extends StorageError {
  override name = 'ObjectNotFoundError'
}

/** Another object (different content) already lives at this path; it is never overwritten. */
export class ObjectExistsError extends StorageError {
  override name = 'ObjectExistsError'
}

/** A chunk did not match its hash; the upload goes on from `offset`, the last good byte. */
export class ChunkCorruptedError extends StorageError {
  override name = 'ChunkCorruptedError'
  override readonly retryable = true
  constructor (message: string, readonly offset: number = 0) {
    super(message)
  }
}

/** The whole object's SHA-256 is not the one promised; nothing was stored. */
export class ContentHashMismatchError extends StorageError {
  override name = 'ContentHashMismatchError'
}

/** A frame out of order, too big, or of the wrong kind. */
export class StorageProtocolError extends StorageError {
  override name = 'StorageProtocolError'
}

/** The client's stream ended before the upload was complete; what was checked waits for a resume. */
export class UploadIncompleteError extends StorageError {
  override name = 'UploadIncompleteError'
  override readonly retryable = true
}

/** The relay has the object's record but not (all of) its bytes right now. */
export class ObjectUnavailableError extends StorageError {
  override name = 'ObjectUnavailableError'
  override readonly retryable = true
}

/** The same upload is already running on another stream (it is taken over). */
export class UploadBusyError extends StorageError {
  override name = 'UploadBusyError'
  override readonly retryable = true
}

/** Too many uploads in progress (from this peer, its address, or everyone): finish or wait for some. */
export class TooManyUploadsError extends StorageError {
  override name = 'TooManyUploadsError'
  override readonly retryable = true
}

/** No connected relay offers storage. */
export class NoStorageRelayError extends StorageError {
  override name = 'NoStorageRelayError'
  override readonly retryable = true
}

/** Every attempt (and every relay holding the object) failed; `cause` is the last error. */
export class TransferFailedError extends StorageError {
  override name = 'TransferFailedError'
}

const BY_NAME: Record<string, new (message: string) => StorageError> = {
  StorageError,
  StorageQuotaExceededError,
  AccessDeniedError,
  InvalidTokenError,
  InvalidPathError,
  InvalidAddressError,
  ObjectNotFoundError,
  ObjectExistsError,
  ContentHashMismatchError,
  StorageProtocolError,
  ObjectUnavailableError,
  UploadBusyError,
  UploadIncompleteError,
  TooManyUploadsError,
  NoStorageRelayError,
  TransferFailedError
}

export interface WireError { name: string, message: string, offset?: number }

/** Rebuilds a typed error from the relay's error frame. */
export function errorFromWire (wire: WireError): StorageError {
  if (wire.name === 'ChunkCorruptedError') return new ChunkCorruptedError(wire.message, wire.offset ?? 0)
  // a name from the wire selects a class only through an own property ('constructor' is no error class)
  const Ctor = Object.hasOwn(BY_NAME, wire.name) ? BY_NAME[wire.name] as new (message: string) => StorageError : StorageError
  const err = new Ctor(wire.message)
  if (Ctor === StorageError && wire.name !== 'StorageError') err.name = wire.name
  return err
}

/** What we tell the peer about an error; internal failures keep their details to us. */
export function errorToWire (err: any): WireError {
  if (err instanceof ChunkCorruptedError) return { name: err.name, message: err.message, offset: err.offset }
  if (err instanceof StorageError) return { name: err.name, message: err.message }
  if (['InvalidMessageError', 'MessageTooLargeError', 'ProtocolError', 'UnexpectedEOFError'].includes(err?.name)) return { name: 'StorageProtocolError', message: String(err.message) }
  return { name: 'StorageError', message: 'The relay could not complete the request' }
}
