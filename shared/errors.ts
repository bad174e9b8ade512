/**
 * The one base of every Golem Clay error. `code` is stable (programs, logs
 * and the wire go by it; SCREAMING_SNAKE_CASE), `name` is the class, and
 * `retryable` says whether trying again (perhaps elsewhere) may help: the
 * request itself was fine. A subclass is one line that names its class and
 * code (and `retryable = true`); one that others extend types `code` as
 * `string`, so theirs may differ.
 */
export class GolemClayError extends Error {
  override name = 'GolemClayError'
  readonly code: string = 'GOLEM_CLAY_ERROR'
  readonly retryable: boolean = false
}

/** A frame or message failed to decode or did not match its schema. */
export class InvalidMessageError extends GolemClayError { override name = 'InvalidMessageError'; override readonly code = 'INVALID_MESSAGE' }

/** A signed message's signature, kind or signer did not check out. */
export class InvalidSignatureError extends GolemClayError { override name = 'InvalidSignatureError'; override readonly code = 'INVALID_SIGNATURE' }

/** A frame was larger than the protocol allows; refused before buffering. */
export class MessageTooLargeError extends GolemClayError { override name = 'MessageTooLargeError'; override readonly code = 'MESSAGE_TOO_LARGE' }

/** A configuration value (flag, env var, page config) could not be used. */
export class InvalidConfigError extends GolemClayError { override name = 'InvalidConfigError'; override readonly code: string = 'INVALID_CONFIG' }

/** A multiaddr string could not be parsed or lacks a required part. */
export class InvalidMultiaddrError extends InvalidConfigError { override name = 'InvalidMultiaddrError'; override readonly code = 'INVALID_MULTIADDR' }

/** The remote answered with something the protocol does not allow here. */
export class ProtocolError extends GolemClayError { override name = 'ProtocolError'; override readonly code = 'PROTOCOL_ERROR' }

/** A command or call was used wrongly (missing argument, bad value): the message says how to use it. */
export class UsageError extends GolemClayError { override name = 'UsageError'; override readonly code = 'USAGE' }

/** The operation needs a running node. */
export class NotStartedError extends GolemClayError { override name = 'NotStartedError'; override readonly code = 'NOT_STARTED' }

/** No connection to the peer could be made or found. */
export class PeerUnreachableError extends GolemClayError { override name = 'PeerUnreachableError'; override readonly code = 'PEER_UNREACHABLE'; override readonly retryable = true }

/** The node (or this part of it) is stopping: try again elsewhere or later. */
export class ShuttingDownError extends GolemClayError { override name = 'ShuttingDownError'; override readonly code = 'SHUTTING_DOWN'; override readonly retryable = true }

/** Something went wrong on our side that the caller can do nothing about; the details stay in our logs. */
export class InternalError extends GolemClayError { override name = 'InternalError'; override readonly code = 'INTERNAL' }
