import { GolemClayError } from '../errors.ts'
import { ErrorTable, errorToWire as toWire } from '../wire/index.ts'
import type { WireError } from '../wire/index.ts'

/**
 * Storage errors. Each travels over the wire as `{ code, name, message }`
 * and is rebuilt by code on the other side, so a tab sees the relay's
 * StorageQuotaExceededError, not a generic failure.
 */
export class StorageError extends GolemClayError { override name = 'StorageError'; override readonly code: string = 'STORAGE' }

/** The uploader's share, or the relay's whole store, would overflow. */
export class StorageQuotaExceededError extends StorageError { override name = 'StorageQuotaExceededError'; override readonly code = 'STORAGE_QUOTA_EXCEEDED' }

/** Neither the uploader nor holding a valid token for this object and operation. */
export class AccessDeniedError extends StorageError { override name = 'AccessDeniedError'; override readonly code: string = 'ACCESS_DENIED' }

/** A transfer token that is malformed, badly signed, expired, or names another object. */
export class InvalidTokenError extends AccessDeniedError { override name = 'InvalidTokenError'; override readonly code = 'INVALID_TOKEN' }

/** A path that is absolute, escapes with `..`, or has control characters. */
export class InvalidPathError extends StorageError { override name = 'InvalidPathError'; override readonly code = 'INVALID_PATH' }

/** An object address that cannot be parsed. */
export class InvalidAddressError extends StorageError { override name = 'InvalidAddressError'; override readonly code = 'INVALID_ADDRESS' }

export class ObjectNotFoundError extends StorageError { override name = 'ObjectNotFoundError'; override readonly code = 'OBJECT_NOT_FOUND' }

/** Another object (different content) already lives at this path; it is never overwritten. */
export class ObjectExistsError extends StorageError { override name = 'ObjectExistsError'; override readonly code = 'OBJECT_EXISTS' }

/** A chunk did not match its hash; the upload goes on from `offset`, the last good byte. */
export class ChunkCorruptedError extends StorageError {
  override name = 'ChunkCorruptedError'; override readonly code = 'CHUNK_CORRUPTED'; override readonly retryable = true
  constructor (message: string, readonly offset: number = 0) { super(message) }
}

/** The whole object's SHA-256 is not the one promised; nothing was stored. */
export class ContentHashMismatchError extends StorageError { override name = 'ContentHashMismatchError'; override readonly code = 'CONTENT_HASH_MISMATCH' }

/** A frame out of order, too big, or of the wrong kind. */
export class StorageProtocolError extends StorageError { override name = 'StorageProtocolError'; override readonly code = 'STORAGE_PROTOCOL' }

/** The client's stream ended before the upload was complete; what was checked waits for a resume. */
export class UploadIncompleteError extends StorageError { override name = 'UploadIncompleteError'; override readonly code = 'UPLOAD_INCOMPLETE'; override readonly retryable = true }

/** The relay has the object's record but not (all of) its bytes right now. */
export class ObjectUnavailableError extends StorageError { override name = 'ObjectUnavailableError'; override readonly code = 'OBJECT_UNAVAILABLE'; override readonly retryable = true }

/** The same upload is already running on another stream (it is taken over). */
export class UploadBusyError extends StorageError { override name = 'UploadBusyError'; override readonly code = 'UPLOAD_BUSY'; override readonly retryable = true }

/** Too many uploads in progress (from this peer, its address, or everyone): finish or wait for some. */
export class TooManyUploadsError extends StorageError { override name = 'TooManyUploadsError'; override readonly code = 'TOO_MANY_UPLOADS'; override readonly retryable = true }

/** No connected relay offers storage. */
export class NoStorageRelayError extends StorageError { override name = 'NoStorageRelayError'; override readonly code = 'NO_STORAGE_RELAY'; override readonly retryable = true }

/** No share link with this ID on the relay: it never existed, or it expired. */
export class ShareNotFoundError extends StorageError { override name = 'ShareNotFoundError'; override readonly code = 'SHARE_NOT_FOUND' }

/** Too many share links looked up from this network address lately: wait a minute. */
export class TooManyLookupsError extends StorageError { override name = 'TooManyLookupsError'; override readonly code = 'TOO_MANY_LOOKUPS'; override readonly retryable = true }

/** The object is larger than this client can take (a tab's memory, a disk's free space); nothing was allocated. */
export class ObjectTooLargeError extends StorageError { override name = 'ObjectTooLargeError'; override readonly code = 'OBJECT_TOO_LARGE' }

/** Every attempt (and every relay holding the object) failed; `cause` is the last error. */
export class TransferFailedError extends StorageError { override name = 'TransferFailedError'; override readonly code = 'TRANSFER_FAILED' }

const TABLE = new ErrorTable([
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
  ShareNotFoundError,
  TooManyLookupsError,
  ObjectTooLargeError,
  TransferFailedError
], StorageError)

/** A storage error frame: the common wire error, and where to resume after a corrupted chunk. */
export interface StorageWireError extends WireError { offset?: number }

/** Rebuilds a typed error from the relay's error frame. */
export function errorFromWire (wire: StorageWireError): GolemClayError {
  if (wire.code === 'CHUNK_CORRUPTED' || wire.name === 'ChunkCorruptedError') return new ChunkCorruptedError(wire.message, wire.offset ?? 0)
  return TABLE.fromWire(wire)
}

/** What we tell the peer about an error; internal failures keep their details to us. */
export function errorToWire (err: any): StorageWireError {
  if (err instanceof ChunkCorruptedError) return { ...toWire(err), offset: err.offset }
  // a frame the codec refused is the peer's protocol error, whatever part found it
  if (['InvalidMessageError', 'MessageTooLargeError', 'ProtocolError', 'UnexpectedEOFError'].includes(err?.name)) return { code: 'STORAGE_PROTOCOL', name: 'StorageProtocolError', message: String(err.message) }
  return toWire(err)
}
